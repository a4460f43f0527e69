"""Integration-test harness: start the real clmd on loopback, run clmctl, count checks.

Every check is counted; the script ends with the plain line "N passed, N failed" and
exits non-zero when anything failed. Servers are started on free ports below 32768
(the ephemeral range starts there) and always stopped, even when a check throws.
"""
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

RUNFILES = os.getcwd()
CLMD = os.path.join(RUNFILES, "appliance/clmd")
CLMCTL = os.path.join(RUNFILES, "tools/clmctl/clmctl")

passed = 0
failed = 0
_servers = []


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", flush=True)
    return cond


def free_port():
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


class Clmd:
    """A clmd process on a data directory; stop() sends SIGTERM and waits."""

    def __init__(self, data_dir, port=None, extra=(), env=None, wait=True):
        self.data_dir = data_dir
        self.port = port if port is not None else free_port()
        self.log_path = os.path.join(tempfile.gettempdir(), f"clmd-{os.getpid()}-{self.port}.log")
        self.args = [CLMD, "--data-dir", data_dir, "--listen", f"127.0.0.1:{self.port}", *extra]
        self.log = open(self.log_path, "w+")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT, env=full_env)
        _servers.append(self)
        if wait:
            self.wait_serving()

    def output(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def wait_serving(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "serving" in self.output():
                return True
            if self.proc.poll() is not None:
                raise RuntimeError(f"clmd exited {self.proc.returncode}:\n{self.output()}")
            time.sleep(0.05)
        raise RuntimeError(f"clmd did not start:\n{self.output()}")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in _servers:
            _servers.remove(self)
        return self.proc.returncode

    @property
    def socket(self):
        return os.path.join(self.data_dir, "clmd.sock")

    def tls(self, name="admin"):
        tls = os.path.join(self.data_dir, "tls")
        return os.path.join(tls, "ca.pem"), os.path.join(tls, f"{name}.pem"), os.path.join(tls, f"{name}.key")


def clmctl(data_dir, *args, addr=None, user=None, timeout=60, extra_global=()):
    cmd = [CLMCTL, "--data-dir", data_dir, *extra_global]
    if addr:
        cmd += ["--addr", addr]
    cmd += list(args)
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def run_cases(cases):
    """Run each case function; an exception is one failed check, and servers are stopped."""
    global failed
    for case in cases:
        try:
            case()
        except Exception:
            failed += 1
            print(f"FAIL: {case.__name__} raised:\n{traceback.format_exc()}", flush=True)
        finally:
            for s in list(_servers):
                s.stop(signal.SIGKILL)
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(0 if failed == 0 else 1)
