#!/usr/bin/python3
"""The scripted HTTP server of lib/http's http_test (run with /usr/bin/python3).

Usage: http_test_server.py DIR

Makes a test PKI in DIR with the openssl command (a CA, a server certificate for
localhost, 127.0.0.1 and ::1, a client certificate, an unrelated CA, a hashed CA
directory), starts its listeners on loopback ports chosen by the kernel, prints one line

    ready http=P https=P mtls=P stall=P blackhole=P http6=P

(http6=0 when ::1 is unavailable) and serves until its standard input closes, so it
ends with the test that started it.

Listeners: http (plain), https (TLS with the server certificate), mtls (TLS that
requires a client certificate from the CA), stall (accepts and never says anything:
TLS handshake and read timeouts), blackhole (its accept queue is kept full, so a
connect never completes: connect timeouts), http6 (plain on ::1).

Routes (any method):
  /echo...               200: what the server received, one fact per line, then the body
  /status/NNN            status NNN
  /chunked               200, chunked, "hello chunked world" in three chunks
  /headers               200 with two Link headers and one X-Empty with no value
  /flaky/KEY?fail=N&status=S[&retry_after=V]
                         the first N requests for KEY get status S (and Retry-After V),
                         later ones the echo; /hits/KEY says how many came
  /slow?ms=N             waits N ms, then 200
  /trickle?ms=N&count=C  headers with Content-Length C, then a byte every N ms
  /huge?size=N           200 with a Content-Length body of N bytes
  /huge-chunked?size=N   the same, chunked (no Content-Length)
  /raw/NAME              canned bytes, then the connection closes (RAW below)
"""
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RAW = {
    "bad-status": b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
    "garbage": b"\x00\x01 this is not http\r\n\r\n",
    "bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
    "truncated": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
    "drop": b"",
    "eof-body": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nthe body ends with the connection",
    "continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "status-600": b"HTTP/1.1 600 Nope\r\nContent-Length: 0\r\n\r\n",
}

hits = {}
hits_lock = threading.Lock()


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_pki(d):
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=clm http test CA", *ca_ext, cwd=d)
    openssl("req", "-x509", *ec, "-keyout", "other-ca.key", "-out", "other-ca.pem",
            "-days", "2", "-subj", "/CN=clm http test other CA", *ca_ext, cwd=d)
    openssl("req", "-x509", *ec, "-keyout", "server.key", "-out", "server.pem", "-days", "2",
            "-subj", "/CN=localhost", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
            "-addext", "extendedKeyUsage=serverAuth", cwd=d)
    openssl("req", "-x509", *ec, "-keyout", "client.key", "-out", "client.pem", "-days", "2",
            "-subj", "/CN=clm-test-client", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-addext", "extendedKeyUsage=clientAuth", cwd=d)
    os.makedirs(os.path.join(d, "cadir"), exist_ok=True)
    with open(os.path.join(d, "ca.pem"), "rb") as f:
        ca = f.read()
    with open(os.path.join(d, "cadir", "ca.pem"), "wb") as f:
        f.write(ca)
    openssl("rehash", "cadir", cwd=d)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "clm-http-test"
    sys_version = ""

    def log_message(self, format, *args):  # quiet
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ssl.SSLError, ConnectionError, OSError):
            self.close_connection = True

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def echo(self, body, extra=""):
        lines = ["request-line " + self.requestline]
        for name, value in self.headers.items():
            lines.append("header " + name + ": " + value)
        lines.append("body-length %d" % len(body))
        try:
            cert = self.connection.getpeercert()
        except (AttributeError, ValueError):
            cert = None
        if cert:
            for rdn in cert.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        lines.append("client-cn " + value)
        if extra:
            lines.append(extra)
        text = ("\n".join(lines) + "\n\n").encode() + body
        self.reply(200, text, [("Content-Type", "text/plain")])

    def handle_any(self):
        body = self.body()
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        parts = url.path.strip("/").split("/")
        route = parts[0]

        if route == "echo":
            self.echo(body)
        elif route == "status":
            code = int(parts[1])
            self.reply(code, b"status %d" % code)
        elif route == "chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        elif route == "headers":
            self.send_response(200)
            self.send_header("Link", "<https://example.com/a>;rel=\"up\"")
            self.send_header("Link", "<https://example.com/b>;rel=\"alternate\"")
            self.send_header("X-Empty", "")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route == "flaky":
            key = parts[1]
            with hits_lock:
                hits[key] = hits.get(key, 0) + 1
                n = hits[key]
            if n <= int(query.get("fail", "0")):
                headers = []
                if "retry_after" in query:
                    headers.append(("Retry-After", query["retry_after"]))
                self.reply(int(query.get("status", "500")), b"failing, attempt %d" % n, headers)
            else:
                self.echo(body, "attempt %d" % n)
        elif route == "hits":
            with hits_lock:
                n = hits.get(parts[1], 0)
            self.reply(200, b"%d" % n)
        elif route == "slow":
            time.sleep(int(query.get("ms", "1000")) / 1000.0)
            self.reply(200, b"slow")
        elif route == "trickle":
            count = int(query.get("count", "10"))
            self.send_response(200)
            self.send_header("Content-Length", str(count))
            self.end_headers()
            self.wfile.flush()
            for _ in range(count):
                time.sleep(int(query.get("ms", "100")) / 1000.0)
                self.wfile.write(b"x")
                self.wfile.flush()
        elif route == "huge":
            self.reply(200, b"x" * int(query.get("size", "0")))
        elif route == "huge-chunked":
            size = int(query.get("size", "0"))
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while size > 0:
                n = min(size, 65536)
                self.wfile.write(b"%x\r\n%s\r\n" % (n, b"x" * n))
                size -= n
            self.wfile.write(b"0\r\n\r\n")
        elif route == "raw":
            self.wfile.write(RAW[parts[1]])
            self.wfile.flush()
            if parts[1] == "eof-body" and query.get("close_notify") == "1":
                self.connection.unwrap()
            self.close_connection = True
        else:
            self.reply(404, b"no such route")
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # quiet: clients fail on purpose
        pass


class Server6(Server):
    address_family = socket.AF_INET6


def start(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def tls_server(d, require_client):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    if require_client:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(os.path.join(d, "ca.pem"))
    server = Server(("127.0.0.1", 0), Handler)
    # The handshake runs in the handler's thread, at its first read.
    server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                    do_handshake_on_connect=False)
    return server


def stall_listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held = []

    def loop():
        while True:
            conn, _ = sock.accept()
            held.append(conn)  # never read, never written, never closed

    threading.Thread(target=loop, daemon=True).start()
    return sock.getsockname()[1], held


def blackhole_listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(0)
    port = sock.getsockname()[1]
    # Fill the accept queue (one connection with a backlog of 0); later SYNs are dropped.
    filler = socket.create_connection(("127.0.0.1", port))
    return port, (sock, filler)


def main():
    d = sys.argv[1]
    make_pki(d)
    http_port = start(Server(("127.0.0.1", 0), Handler))
    https_port = start(tls_server(d, False))
    mtls_port = start(tls_server(d, True))
    stall_port, stall_keep = stall_listener()
    blackhole_port, blackhole_keep = blackhole_listener()
    try:
        http6_port = start(Server6(("::1", 0), Handler))
    except OSError:
        http6_port = 0
    print("ready http=%d https=%d mtls=%d stall=%d blackhole=%d http6=%d" %
          (http_port, https_port, mtls_port, stall_port, blackhole_port, http6_port),
          flush=True)
    sys.stdin.read()  # until the test closes its end
    del stall_keep, blackhole_keep


if __name__ == "__main__":
    main()
