#!/usr/bin/python3
"""tools/bench/rpc/python_server.py: the Python baseline for tools/bench/rpc/run.

Serves clm.v1.Admin/GetVersion with Debian's python3-grpcio, with a reply shaped like
clmd's (version, build, uptime, data_dir, schema_version, started_at), on the same
transports as clmd: TCP with mutual TLS (client certificate required and verified
against the same CA) and a Unix socket without TLS.

Two server flavours, both stock grpcio:
  sync: grpc.server(ThreadPoolExecutor(max_workers=N)), the classic API (default);
  aio:  grpc.aio.server(), handlers as coroutines on one asyncio loop.

Run with Debian's interpreter (/usr/bin/python3) and --stubs pointing at a
directory holding clm/v1/admin_pb2.py and admin_pb2_grpc.py (run generates them).
Prints one line "python server ready tcp_port=N unix=PATH pid=N" when serving,
then serves until SIGTERM or SIGINT.
"""

import argparse
import asyncio
import os
import signal
import sys
import threading
import time
from concurrent import futures


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stubs", required=True, help="directory with clm/v1/admin_pb2*.py")
    p.add_argument("--tcp", help="host:port for mutual TLS (port 0: any free port)")
    p.add_argument("--unix", help="Unix socket path (no TLS, like clmd's local API)")
    p.add_argument("--cert", help="server certificate chain (PEM)")
    p.add_argument("--key", help="server key (PEM)")
    p.add_argument("--ca", help="CA that signs client certificates (PEM)")
    p.add_argument("--mode", choices=("sync", "aio"), default="sync")
    p.add_argument("--workers", type=int, default=10, help="thread pool size (sync mode)")
    p.add_argument("--data-dir", default="", help="reported as data_dir")
    args = p.parse_args()
    if args.tcp and not (args.cert and args.key and args.ca):
        p.error("--tcp needs --cert, --key and --ca")
    if not args.tcp and not args.unix:
        p.error("give --tcp, --unix or both")
    return args


def main():
    args = parse_args()
    sys.path.insert(0, args.stubs)
    import grpc
    from clm.v1 import admin_pb2, admin_pb2_grpc

    started_ns = time.time_ns()
    started_mono = time.monotonic_ns()
    version = "python-baseline"
    build = "grpcio %s, python %s" % (grpc.__version__, sys.version.split()[0])

    def reply():
        r = admin_pb2.GetVersionResponse(
            version=version, build=build, data_dir=args.data_dir, schema_version=1)
        up = time.monotonic_ns() - started_mono
        r.uptime.seconds = up // 1_000_000_000
        r.uptime.nanos = up % 1_000_000_000
        r.started_at.seconds = started_ns // 1_000_000_000
        r.started_at.nanos = started_ns % 1_000_000_000
        return r

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    options = [("grpc.so_reuseport", 0)]

    def add_ports(server):
        port = 0
        if args.tcp:
            creds = grpc.ssl_server_credentials(
                [(read(args.key), read(args.cert))],
                root_certificates=read(args.ca),
                require_client_auth=True)
            port = server.add_secure_port(args.tcp, creds)
            if port == 0:
                sys.exit("python_server: cannot listen on %s" % args.tcp)
        if args.unix:
            if server.add_insecure_port("unix:" + args.unix) == 0:
                sys.exit("python_server: cannot listen on unix:%s" % args.unix)
        return port

    def ready(port):
        print("python server ready tcp_port=%d unix=%s pid=%d mode=%s workers=%d" %
              (port, args.unix or "", os.getpid(), args.mode, args.workers), flush=True)

    if args.mode == "sync":
        class Admin(admin_pb2_grpc.AdminServicer):
            def GetVersion(self, request, context):
                return reply()

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.workers),
                             options=options)
        admin_pb2_grpc.add_AdminServicer_to_server(Admin(), server)
        port = add_ports(server)
        server.start()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        ready(port)
        stop.wait()
        server.stop(1).wait()
        return

    class AioAdmin(admin_pb2_grpc.AdminServicer):
        async def GetVersion(self, request, context):
            return reply()

    async def serve():
        server = grpc.aio.server(options=options)
        admin_pb2_grpc.add_AdminServicer_to_server(AioAdmin(), server)
        port = add_ports(server)
        await server.start()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        ready(port)
        await stop.wait()
        await server.stop(1)

    asyncio.run(serve())


if __name__ == "__main__":
    main()
