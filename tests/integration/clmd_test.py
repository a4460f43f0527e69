"""Integration tests of clmd and clmctl (issue: foundation).

Real components only: the static clmd and clmctl built by Bazel, Debian's
python3-grpcio as an independent gRPC client, npm's buf (server reflection), openssl
for a foreign CA, python3-lmdb to tamper with the store behind clmd's back.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import grpc
import lmdb

from clm.v1 import admin_pb2, admin_pb2_grpc
from clm_grpc_health import health_pb2, health_pb2_grpc
from harness import CLMCTL, CLMD, Clmd, check, clmctl, free_port, run_cases

REPO = os.environ.get("CLM_REPO", "")
BUF = os.path.join(REPO, "tests/npm/node_modules/.bin/buf")


def tmpdir():
    return tempfile.mkdtemp(prefix="clm-it-")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def tls_channel(server, name="admin", cert=None, key=None, ca=None):
    ca_path, cert_path, key_path = server.tls(name)
    creds = grpc.ssl_channel_credentials(
        root_certificates=read(ca or ca_path),
        private_key=read(key or key_path) if (key or key_path) else None,
        certificate_chain=read(cert or cert_path) if (cert or cert_path) else None)
    return grpc.secure_channel(f"localhost:{server.port}", creds)


def status_of(fn):
    try:
        fn()
        return grpc.StatusCode.OK
    except grpc.RpcError as e:
        return e.code()


def test_binaries_are_static():
    for path in (CLMD, CLMCTL):
        out = subprocess.run(["file", "-L", path], capture_output=True, text=True).stdout
        check("statically linked" in out, f"{path} is not statically linked: {out}")


def test_first_start_files_and_health():
    d = tmpdir()
    s = Clmd(d)
    out = s.output()
    check("PKCS#12 password (shown only now)" in out, "first start prints the p12 password")
    check("try:" in out and "version" in out, "banner names the clmctl command to try")
    for name in ("ca.pem", "ca.key", "server.pem", "server.key", "admin.pem", "admin.key", "admin.p12"):
        mode = os.stat(os.path.join(d, "tls", name)).st_mode & 0o777
        check(mode == 0o600, f"tls/{name} mode {oct(mode)}")
    check(os.stat(os.path.join(d, "data.mdb")).st_mode & 0o777 == 0o600, "data.mdb is 0600")
    password_lines = [l for l in out.splitlines() if "password" in l]
    # Health from a client not written here (python grpcio), over both transports.
    for channel in (grpc.insecure_channel(f"unix:{s.socket}"), tls_channel(s)):
        stub = health_pb2_grpc.HealthStub(channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
        check(reply.status == health_pb2.HealthCheckResponse.SERVING, "health SERVING")
        reply = stub.Check(health_pb2.HealthCheckRequest(service="clm.v1.Admin"), timeout=10)
        check(reply.status == health_pb2.HealthCheckResponse.SERVING, "clm.v1.Admin SERVING")
        code = status_of(lambda: stub.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=10))
        check(code == grpc.StatusCode.NOT_FOUND, f"unknown service NOT_FOUND, got {code}")
        channel.close()
    s.stop()
    # Second start: no new password, same CA.
    ca = read(os.path.join(d, "tls", "ca.pem"))
    s = Clmd(d)
    check("PKCS#12 password" not in s.output(), "password printed only on first start")
    check(read(os.path.join(d, "tls", "ca.pem")) == ca, "CA kept across restarts")
    r = clmctl(d, "version")
    check(r.returncode == 0 and "schema version: 1" in r.stdout, f"clmctl version: {r.stdout}{r.stderr}")
    check(all(p.split(":")[-1].strip() not in s.output() for p in password_lines), "password never logged")
    check(s.stop() == 0, "clean exit on SIGTERM")


def test_reflection_with_buf():
    check(os.access(BUF, os.X_OK), f"buf installed at {BUF} (tools/test installs it)")
    d = tmpdir()
    s = Clmd(d)
    ca, cert, key = s.tls()
    for proto in ("grpc-v1", "grpc-v1alpha"):
        r = subprocess.run([BUF, "curl", "--protocol", "grpc", "--reflect-protocol", proto,
                            "--cacert", ca, "--cert", cert, "--key", key, "--list-methods",
                            f"https://localhost:{s.port}"], capture_output=True, text=True, timeout=60)
        methods = r.stdout.split()
        check(r.returncode == 0, f"buf curl --list-methods ({proto}): {r.stderr}")
        check("clm.v1.Admin/GetVersion" in methods and "clm.v1.Admin/Backup" in methods,
              f"reflection lists clm.v1.Admin methods ({proto}): {methods}")
        check("grpc.health.v1.Health/Check" in methods, "reflection lists health")
    # buf can also call through reflection, over the Unix socket.
    r = subprocess.run([BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge",
                        "--unix-socket", s.socket, "http://localhost/clm.v1.Admin/GetVersion"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and '"schemaVersion": 1' in r.stdout, f"buf curl GetVersion: {r.stdout}{r.stderr}")
    r = clmctl(d, "list")
    check(r.returncode == 0 and "clm.v1.Admin" in r.stdout.split(), "clmctl list")
    r = clmctl(d, "describe", "clm.v1.BackupChunk")
    check(r.returncode == 0 and "bytes sha256 = 5;" in r.stdout, f"clmctl describe: {r.stdout}")
    r = clmctl(d, "describe", "clm.v1.Nope")
    check(r.returncode != 0 and "not found" in r.stderr, f"describe unknown symbol: {r.stderr}")
    s.stop()


def test_mtls_refusals():
    d = tmpdir()
    s = Clmd(d)
    ca, cert, key = s.tls()
    stub_call = lambda ch: admin_pb2_grpc.AdminStub(ch).GetVersion(admin_pb2.GetVersionRequest(), timeout=5)
    # no client certificate
    ch = grpc.secure_channel(f"localhost:{s.port}", grpc.ssl_channel_credentials(root_certificates=read(ca)))
    code = status_of(lambda: stub_call(ch))
    check(code == grpc.StatusCode.UNAVAILABLE, f"no client cert refused: {code}")
    # a certificate from another CA, claiming OU=admin
    other = tmpdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", f"{other}/k.pem", "-out", f"{other}/c.pem", "-days", "2",
                    "-subj", "/CN=intruder/OU=admin"], check=True, capture_output=True)
    ch = tls_channel(s, cert=f"{other}/c.pem", key=f"{other}/k.pem")
    code = status_of(lambda: stub_call(ch))
    check(code == grpc.StatusCode.UNAVAILABLE, f"foreign CA refused: {code}")
    # plaintext to the TLS port
    ch = grpc.insecure_channel(f"localhost:{s.port}")
    code = status_of(lambda: stub_call(ch))
    check(code == grpc.StatusCode.UNAVAILABLE, f"plaintext refused: {code}")
    # the admin bundle is accepted, by python and by clmctl
    reply = stub_call(tls_channel(s))
    check(reply.schema_version == 1 and reply.data_dir == d, "admin bundle accepted")
    r = clmctl(d, "whoami", addr=f"localhost:{s.port}")
    check(r.returncode == 0 and "role ADMIN, over tls" in r.stdout, f"clmctl over mTLS: {r.stdout}{r.stderr}")
    s.stop()


def test_roles():
    d = tmpdir()
    s = Clmd(d)
    r = subprocess.run([CLMD, "issue-client", "--data-dir", d, "--role", "viewer", "--cn", "vera"],
                       capture_output=True, text=True)
    check(r.returncode == 0 and "password" in r.stdout, f"issue-client: {r.stdout}{r.stderr}")
    r = subprocess.run([CLMD, "issue-client", "--data-dir", d, "--role", "root", "--cn", "x"],
                       capture_output=True, text=True)
    check(r.returncode != 0 and "--role" in r.stderr, "issue-client rejects unknown roles")
    prefix = os.path.join(d, "tls", "clients", "vera")
    viewer = ["--cert", prefix + ".pem", "--key", prefix + ".key"]
    r = clmctl(d, "whoami", addr=f"localhost:{s.port}", extra_global=viewer)
    check(r.returncode == 0 and "role VIEWER" in r.stdout, f"viewer whoami: {r.stdout}{r.stderr}")
    r = clmctl(d, "admin", "log-level", "debug", addr=f"localhost:{s.port}", extra_global=viewer)
    check(r.returncode != 0 and "PERMISSION_DENIED" in r.stderr, f"viewer cannot SetLogLevel: {r.stderr}")
    r = clmctl(d, "admin", "backup", os.path.join(d, "b.mdb"), addr=f"localhost:{s.port}", extra_global=viewer)
    check(r.returncode != 0 and "PERMISSION_DENIED" in r.stderr, f"viewer cannot Backup: {r.stderr}")
    check(not os.path.exists(os.path.join(d, "b.mdb")), "no backup file after a refusal")
    r = clmctl(d, "audit", "ls", addr=f"localhost:{s.port}", extra_global=viewer)
    check(r.returncode != 0 and "PERMISSION_DENIED" in r.stderr, "viewer cannot read the audit log")
    r = clmctl(d, "audit", "ls")
    check("SetLogLevel" in r.stdout and "permission denied" in r.stdout and "CN=vera" in r.stdout,
          f"refusals are audited: {r.stdout}")
    s.stop()


def test_unix_socket_roles_and_reload():
    d = tmpdir()
    sockdir = tmpdir()
    os.chmod(sockdir, 0o755)
    sock = os.path.join(sockdir, "clmd.sock")
    s = Clmd(d, extra=["--socket", sock])
    nobody = 65534
    r = clmctl(d, "whoami", user=nobody, extra_global=["--socket", sock])
    check(r.returncode != 0 and "UNAVAILABLE" in r.stderr, f"unlisted uid refused: {r.stdout}{r.stderr}")
    check("rpc.unix.refused" in s.output() and "uid:65534" in s.output(), "refusal logged with the uid")
    # SIGHUP reloads [auth] unix_roles from the config file.
    with open(os.path.join(d, "clmd.ini"), "w") as f:
        f.write(f"[auth]\nunix_roles = {nobody}:viewer\n")
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "config.reload" not in s.output() and time.time() < deadline:
        time.sleep(0.05)
    r = clmctl(d, "whoami", user=nobody, extra_global=["--socket", sock])
    check(r.returncode == 0 and "uid:65534 (role VIEWER, over unix)" in r.stdout, f"viewer after reload: {r.stdout}{r.stderr}")
    r = clmctl(d, "admin", "log-level", "debug", user=nobody, extra_global=["--socket", sock])
    check(r.returncode != 0 and "PERMISSION_DENIED" in r.stderr, f"local viewer cannot call an admin method: {r.stderr}")
    r = clmctl(d, "whoami", extra_global=["--socket", sock])
    check(r.returncode == 0 and "uid:0 (role ADMIN" in r.stdout, "root is admin on the socket")
    s.stop()


def test_second_instance_refused():
    d = tmpdir()
    s = Clmd(d)
    r = subprocess.run([CLMD, "--data-dir", d, "--listen", f"127.0.0.1:{free_port()}"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "in use by another clmd" in r.stderr, f"same data dir refused: {r.stderr}")
    d2 = tmpdir()
    r = subprocess.run([CLMD, "--data-dir", d2, "--listen", f"127.0.0.1:{s.port}"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "in use" in r.stderr, f"same port refused: {r.stderr}")
    r = clmctl(d, "health")
    check(r.returncode == 0 and "SERVING" in r.stdout, "first instance still serves")
    s.stop()


def test_config_errors():
    d = tmpdir()
    with open(os.path.join(d, "clmd.ini"), "w") as f:
        f.write("[server]\nthreads = 2\nthreadz = 4\n")
    r = subprocess.run([CLMD, "--data-dir", d, "--check-config"], capture_output=True, text=True)
    check(r.returncode != 0 and "[server] threadz: unknown key" in r.stderr, f"check-config names the key: {r.stderr}")
    check(not os.path.exists(os.path.join(d, "data.mdb")), "check-config writes nothing")
    os.unlink(os.path.join(d, "clmd.ini"))
    r = subprocess.run([CLMD, "--data-dir", d, "--check-config", "--threads", "4"], capture_output=True, text=True)
    check(r.returncode == 0 and "configuration ok" in r.stdout, f"check-config ok: {r.stdout}{r.stderr}")
    r = subprocess.run([CLMD, "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and "--listen" in r.stdout and "CLM_LISTEN" in r.stdout, "--help lists flags and variables")
    r = subprocess.run([CLMD, "--data-dir", d, "--check-config"], capture_output=True, text=True,
                       env={**os.environ, "CLM_LOG_LEVEL": "chatty"})
    check(r.returncode != 0 and "CLM_LOG_LEVEL" in r.stderr, f"bad env value named: {r.stderr}")


def test_clmctl_call_errors():
    d = tmpdir()
    s = Clmd(d)
    r = clmctl(d, "call", "clm.v1.Admin/SetLogLevel", '{"level": "verbose"}')
    check(r.returncode != 0 and "INVALID_ARGUMENT: level:" in r.stderr, f"server-side validation: {r.stderr}")
    r = clmctl(d, "call", "clm.v1.Admin/SetLogLevel", '{"levle": "info"}')
    check(r.returncode != 0 and "levle" in r.stderr, f"client-side JSON error names the field: {r.stderr}")
    r = clmctl(d, "call", "clm.v1.Admin/Nope")
    check(r.returncode != 0 and "no such method" in r.stderr, "unknown method")
    r = clmctl(d, "call", "clm.v1.Admin/ListAuditEntries", '{"pageSize": 5000}')
    check(r.returncode != 0 and "page_size" in r.stderr, f"page_size bound: {r.stderr}")
    r = clmctl(d, "call", "clm.v1.Admin/GetVersion", "{}")
    check(r.returncode == 0 and '"schemaVersion": 1' in r.stdout, f"call GetVersion: {r.stdout}")
    # unregistered method from a foreign client: UNIMPLEMENTED, server keeps serving
    ch = grpc.insecure_channel(f"unix:{s.socket}")
    code = status_of(lambda: ch.unary_unary("/clm.v1.Admin/Nope")(b"", timeout=5))
    check(code == grpc.StatusCode.UNIMPLEMENTED, f"unknown method UNIMPLEMENTED: {code}")
    # garbage bytes as a request: INVALID_ARGUMENT, not a crash
    code = status_of(lambda: ch.unary_unary("/clm.v1.Admin/SetLogLevel")(b"\xff\xff\xff", timeout=5))
    check(code == grpc.StatusCode.INVALID_ARGUMENT, f"garbage request rejected: {code}")
    # a message above the size limit
    code = status_of(lambda: ch.unary_unary("/clm.v1.Admin/SetLogLevel")(b"\x0a" + b"\x80\x80\x80\x04" + b"x" * (8 << 20), timeout=10))
    check(code == grpc.StatusCode.RESOURCE_EXHAUSTED, f"oversized message refused: {code}")
    check(clmctl(d, "health").returncode == 0, "still serving after bad input")
    s.stop()


def test_sigterm_during_streaming_call():
    d = tmpdir()
    s = Clmd(d, extra=["--shutdown-grace", "10"])
    seen = []
    ended = {}

    def watch():
        ch = grpc.insecure_channel(f"unix:{s.socket}")
        stub = health_pb2_grpc.HealthStub(ch)
        try:
            for reply in stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=60):
                seen.append(reply.status)
            ended["code"] = grpc.StatusCode.OK
        except grpc.RpcError as e:
            ended["code"] = e.code()
        ended["at"] = time.time()

    t = threading.Thread(target=watch)
    t.start()
    deadline = time.time() + 10
    while not seen and time.time() < deadline:
        time.sleep(0.02)
    started = time.time()
    s.proc.send_signal(signal.SIGTERM)
    t.join(30)
    rc = s.proc.wait(30)
    took = time.time() - started
    check(seen[:1] == [health_pb2.HealthCheckResponse.SERVING], f"watch saw SERVING first: {seen}")
    check(health_pb2.HealthCheckResponse.NOT_SERVING in seen, f"watch saw NOT_SERVING on drain: {seen}")
    check(ended.get("code") == grpc.StatusCode.UNAVAILABLE, f"stream ended UNAVAILABLE: {ended}")
    stream_took = ended.get("at", started + 99) - started
    check(stream_took < 1, f"the streaming call ended within 1 s of SIGTERM ({stream_took:.2f}s)")
    # gRPC core then drains the idle connection (about 5 s here), within the grace.
    check(rc == 0 and took < 10, f"clmd exited 0 within the grace (rc {rc}, {took:.2f}s)")
    check("event=stopped" in s.output(), "stopped logged")
    # LMDB closed cleanly: a restart opens the same store and the audit chain holds.
    s = Clmd(d)
    r = clmctl(d, "audit", "verify")
    check(r.returncode == 0 and "intact" in r.stdout, f"store intact after SIGTERM: {r.stdout}{r.stderr}")
    s.stop()


def test_backup_under_writes_restores_consistent():
    d = tmpdir()
    s = Clmd(d)
    stop = threading.Event()
    writes = {"ok": 0, "err": 0}

    def writer():
        stub = admin_pb2_grpc.AdminStub(grpc.insecure_channel(f"unix:{s.socket}"))
        levels = ["debug", "info"]
        while not stop.is_set():
            try:
                stub.SetLogLevel(admin_pb2.SetLogLevelRequest(level=levels[writes["ok"] % 2]), timeout=10)
                writes["ok"] += 1
            except grpc.RpcError:
                writes["err"] += 1

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    backups = []
    time.sleep(0.3)
    for i in range(3):
        path = os.path.join(tmpdir(), f"backup-{i}.mdb")
        r = clmctl(d, "admin", "backup", path)
        check(r.returncode == 0 and "sha256" in r.stdout, f"backup {i}: {r.stdout}{r.stderr}")
        backups.append(path)
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    check(writes["ok"] > 50 and writes["err"] == 0, f"writes ran during the backups: {writes}")
    live = clmctl(d, "audit", "ls").stdout.splitlines()
    s.stop()
    counts = []
    for path in backups:
        restored = tmpdir()
        shutil.copy(path, os.path.join(restored, "data.mdb"))
        r2 = Clmd(restored)
        r = clmctl(restored, "audit", "verify")
        check(r.returncode == 0 and "intact" in r.stdout, f"restored {path} verifies: {r.stdout}{r.stderr}")
        entries = [l for l in clmctl(restored, "audit", "ls").stdout.splitlines()]
        # a consistent snapshot: a prefix of the live log (written before the restore's own entries)
        n = len(entries)
        check(n > 0 and entries[: n] == live[: n], f"restored log is a prefix of the live log ({n} entries)")
        counts.append(n)
        r2.stop()
    check(counts == sorted(counts) and counts[0] < counts[-1], f"later backups hold more: {counts}")


def test_audit_tamper_detected():
    d = tmpdir()
    s = Clmd(d)
    for level in ("debug", "info", "warn", "info"):
        clmctl(d, "admin", "log-level", level)
    check("intact: 4 entries" in clmctl(d, "audit", "verify").stdout, "4 entries intact")
    s.stop()
    env = lmdb.open(d, max_dbs=64, subdir=True)
    audit = env.open_db(b"_audit")
    with env.begin(write=True, db=audit) as txn:
        key = (2).to_bytes(8, "big")
        value = bytearray(txn.get(key))
        i = value.find(b"warn")
        i = value.find(b"debug") if i < 0 else i
        value[i] ^= 0x20  # flip a letter's case in the stored entry
        txn.put(key, bytes(value))
    env.close()
    s = Clmd(d)
    r = clmctl(d, "audit", "verify")
    check(r.returncode != 0 and "BROKEN at sequence 2" in r.stdout, f"altered entry detected: {r.stdout}{r.stderr}")
    s.stop()
    d2 = tmpdir()
    s = Clmd(d2)
    for level in ("debug", "info", "warn"):
        clmctl(d2, "admin", "log-level", level)
    s.stop()
    env = lmdb.open(d2, max_dbs=64, subdir=True)
    audit = env.open_db(b"_audit")
    with env.begin(write=True, db=audit) as txn:
        txn.delete((2).to_bytes(8, "big"))
    env.close()
    s = Clmd(d2)
    r = clmctl(d2, "audit", "verify")
    check(r.returncode != 0 and "BROKEN" in r.stdout, f"removed entry detected: {r.stdout}{r.stderr}")
    s.stop()


def test_groups():
    d = tmpdir()
    s = Clmd(d)
    r = clmctl(d, "group", "create", "--auto-renew", "30", "--country", "US",
               "--key-types", "RSA-2048,EC-P256", "--approval-levels", "1", "IIS Farm")
    check(r.returncode == 0 and '"daysBeforeExpiry": 30' in r.stdout, f"group create: {r.stdout}{r.stderr}")
    r = clmctl(d, "-o", "csv", "group", "ls")
    rows = r.stdout.splitlines()
    check(rows[0].startswith("NAME,CERTIFICATES") and any(l.startswith("IIS Farm,0,30d") for l in rows),
          f"group ls csv: {r.stdout}")
    bad = [
        (["--auto-renew", "0", "g1"], "group.policy.auto_renew.days_before_expiry: 0 is outside 1-120"),
        (["--auto-renew", "121", "g1"], "outside 1-120"),
        (["--country", "USA", "g1"], "group.policy.csr_defaults.country"),
        (["--key-types", "DSA-1024", "g1"], "group.policy.allowed_key_types[0]"),
        (["--hashes", "MD5", "g1"], "group.policy.allowed_hash_functions[0]"),
        (["--approval-levels", "9", "g1"], "group.policy.approval.levels"),
        (["--auto-renew", "10", "--auto-regenerate", "10", "g1"], "group.policy.auto_regenerate"),
        (["bad/name"], "group.name"),
        (["iis farm"], "ALREADY_EXISTS"),
    ]
    for args, message in bad:
        r = clmctl(d, "group", "create", *args)
        check(r.returncode != 0 and message in r.stderr, f"group create {args}: {r.stderr}")
    r = clmctl(d, "-o", "json", "group", "ls")
    check(r.stdout.count('"name"') == 2, f"nothing stored by refused creates: {r.stdout}")
    r = clmctl(d, "call", "clm.v1.Groups/UpdateGroup", '{"name": "IIS Farm", "group": {}, "updateMask": ["colour"]}')
    check(r.returncode != 0 and "update_mask[0]: 'colour'" in r.stderr, f"bad update mask: {r.stderr}")
    r = clmctl(d, "group", "set", "--rename", "Web", "IIS Farm")
    check(r.returncode == 0 and '"name": "Web"' in r.stdout, f"rename: {r.stdout}{r.stderr}")
    r = clmctl(d, "group", "rm", "Default")
    check(r.returncode != 0 and "Default group cannot be deleted" in r.stderr, "Default is kept")
    # a viewer lists but cannot change groups
    subprocess.run([CLMD, "issue-client", "--data-dir", d, "--role", "viewer", "--cn", "vic"],
                   capture_output=True, check=True)
    prefix = os.path.join(d, "tls", "clients", "vic")
    viewer = ["--cert", prefix + ".pem", "--key", prefix + ".key"]
    r = clmctl(d, "group", "ls", addr=f"localhost:{s.port}", extra_global=viewer)
    check(r.returncode == 0 and "Web" in r.stdout, f"viewer lists groups: {r.stderr}")
    r = clmctl(d, "group", "create", "x", addr=f"localhost:{s.port}", extra_global=viewer)
    check(r.returncode != 0 and "PERMISSION_DENIED" in r.stderr, "viewer cannot create groups")
    r = clmctl(d, "group", "rm", "Web")
    check(r.returncode == 0, f"group rm: {r.stderr}")
    audit = clmctl(d, "audit", "ls").stdout
    check(audit.count("/clm.v1.Groups/CreateGroup") >= 10 and "/clm.v1.Groups/DeleteGroup" in audit,
          "group writes and refusals are audited")
    # groups survive a restart
    clmctl(d, "group", "create", "Keep", "--auto-regenerate", "15")
    s.stop()
    s = Clmd(d)
    r = clmctl(d, "group", "show", "keep")
    check(r.returncode == 0 and '"daysBeforeExpiry": 15' in r.stdout, f"group after restart: {r.stdout}{r.stderr}")
    s.stop()


if __name__ == "__main__":
    run_cases([
        test_binaries_are_static,
        test_first_start_files_and_health,
        test_reflection_with_buf,
        test_mtls_refusals,
        test_roles,
        test_unix_socket_roles_and_reload,
        test_second_instance_refused,
        test_config_errors,
        test_clmctl_call_errors,
        test_sigterm_during_streaming_call,
        test_backup_under_writes_restores_consistent,
        test_audit_tamper_detected,
        test_groups,
    ])
