"""Integration test of ACME dns-01 (issue 6) through the real clmd, clmctl and grpcio:
Debian's bind9 serves example.test (lib/dnsupdate/testdata/dns_test_server.sh: TSIG keys
from tsig-keygen, update-policy grants), Debian's pebble validates dns-01 by asking that
bind9 (-dnsserver), and an acme connector with challenge_type dns-01 issues through it,
adding and deleting the _acme-challenge TXT records with clm's own RFC 2136 updates
signed with TSIG. bind9's own `dig` proves every record gone afterwards. Bad dns-01
fields are refused naming the field, nothing stored; a wrong key ends the order with
BADSIG; no TSIG secret reaches a message or clmd's log.

Ports (this test's own, below 32768): pebble 14470 (ACME) and 15470 (management), 5472
(pebble's http-01 port, unused here); bind9 a free port, picked at start.
"""
import os
import subprocess
import tempfile
import time

import grpc

from clm.v1 import connectors_pb2, connectors_pb2_grpc
from harness import Clmd, check, clmctl, free_port, run_cases

RUNFILES = os.getcwd()
NAMED_SCRIPT = os.path.join(RUNFILES, "lib/dnsupdate/testdata/dns_test_server.sh")
PEBBLE_SH = os.path.join(RUNFILES, "adapters/ca/acme/testdata/pebble.sh")
ACME, MGMT, HTTP01 = 14470, 15470, 5472
NAMES = ["dns01-www.example.test", "dns01-api.example.test", "dns01-cli.example.test"]
WRONG_SECRET = "dGhpcyBpcyBub3QgdGhlIHJpZ2h0IGtleSBhdCBhbGwhIQ=="


class Named:
    """bind9 on a free port; its own log says when it runs (it keeps running when it
    cannot bind, so a probe of the port would not do)."""

    def __init__(self, names):
        for _ in range(5):
            self.dir = tempfile.mkdtemp(prefix="clm-named-")
            self.port = free_port()
            self.log = os.path.join(self.dir, "named.log")
            with open(self.log, "w") as log:
                self.proc = subprocess.Popen(["sh", NAMED_SCRIPT, self.dir, str(self.port), *names],
                                             stdout=log, stderr=subprocess.STDOUT)
            if self._running():
                return
            self.stop()
        raise RuntimeError("named did not start")

    def _running(self):
        for _ in range(100):
            with open(self.log) as f:
                text = f.read()
            if "address in use" in text or "could not listen" in text or self.proc.poll() is not None:
                return False
            if any(line.endswith("running") for line in text.splitlines()):
                return True
            time.sleep(0.1)
        return False

    def secret(self, key):
        with open(os.path.join(self.dir, key + ".secret")) as f:
            return f.read().strip()

    def txt(self, name):
        r = subprocess.run(["dig", "+short", "+norecurse", "-p", str(self.port), "@127.0.0.1", name, "TXT"],
                           capture_output=True, text=True, timeout=20)
        return r.stdout.strip() if r.returncode == 0 else f"(dig failed: {r.stderr})"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(20)


class Pebble:
    """pebble (adapters/ca/acme/testdata/pebble.sh) validating through dns_port; stopped
    when its stdin closes."""

    def __init__(self, dns_port):
        self.dir = tempfile.mkdtemp(prefix="clm-pebble-")
        script = ('source "$0"; trap pebble_stop_all EXIT; '
                  f'if pebble_certs "$1" && pebble_start "$1" pebble {ACME} {MGMT} {HTTP01} "$2"; '
                  'then echo ready; else echo failed; exit 1; fi; cat >/dev/null')
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0")
        self.proc = subprocess.Popen(["bash", "-c", script, PEBBLE_SH, self.dir, str(dns_port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"pebble did not start: {line}")
        self.root_pem = os.path.join(self.dir, "root.pem")
        self.url = f"https://127.0.0.1:{ACME}/dir"

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(30)


def openssl(*args):
    return subprocess.run(["openssl", *args], capture_output=True, text=True)


def test_dns01_connector():
    named = Named(NAMES)
    try:
        pebble = Pebble(named.port)
        try:
            run_dns01(named, pebble)
        finally:
            pebble.stop()
    finally:
        named.stop()


def run_dns01(named, pebble):
    d = tempfile.mkdtemp(prefix="clm-dns01-")
    s = Clmd(d)
    stub = connectors_pb2_grpc.ConnectorsStub(grpc.insecure_channel(f"unix:{s.socket}"))
    secret = named.secret("clm-key")
    base = ["--field", f"directory_url={pebble.url}", "--field", f"ca_file={pebble.root_pem}",
            "--field", "terms_agreed=true", "--field", "challenge_type=dns-01"]
    dns = ["--field", f"dns_server=127.0.0.1:{named.port}", "--field", "tsig_name=clm-key"]

    # bad dns-01 fields: refused naming the field, no secret echoed, nothing stored
    for extra, field, what in [
            (dns, "tsig_secret", "the TSIG secret is required"),
            (dns[2:] + ["--field", f"tsig_secret={secret}"], "dns_server", "the server is required"),
            (["--field", "dns_server=ns1.example.test", "--field", "tsig_name=clm-key",
              "--field", f"tsig_secret={secret}"], "dns_server", "the server is an address"),
            (dns + ["--field", "tsig_secret=not-base64!"], "tsig_secret", "the secret is base64"),
            (dns + ["--field", f"tsig_secret={secret}", "--field", "tsig_algorithm=hmac-sha384"],
             "tsig_algorithm", "hmac-sha384 is not offered"),
            (dns + ["--field", f"tsig_secret={secret}", "--field", "dns_zone=bad zone"], "dns_zone",
             "the zone is a domain name")]:
        r = clmctl(d, "connector", "create", "--type", "acme", *base, *extra, "bad")
        check(r.returncode != 0 and "INVALID_ARGUMENT" in r.stderr and f"fields.{field}" in r.stderr,
              f"{what}: {r.stderr}")
        check(secret not in r.stderr and "not-base64!" not in r.stderr, f"{what}: no secret echoed")
    names = [c.name for c in stub.ListConnectors(connectors_pb2.ListConnectorsRequest()).connectors]
    check("bad" not in names, f"nothing stored: {names}")

    r = clmctl(d, "connector", "create", "--type", "acme", *base, *dns, "--field", f"tsig_secret={secret}",
               "dns01")
    check(r.returncode == 0 and '"type": "acme"' in r.stdout, f"connector create: {r.stdout}{r.stderr}")

    # Issue through grpcio: two names, each validated by pebble through bind9
    for name in NAMES:
        check(named.txt(f"_acme-challenge.{name}") == "", f"no challenge record for {name} before")
    start = time.monotonic()
    reply = stub.Issue(connectors_pb2.IssueRequest(connector="dns01", common_name=NAMES[0],
                                                   dns_names=NAMES[:2]), timeout=120)
    print(f"Issue over dns-01 through clmd: {(time.monotonic() - start) * 1000:.0f} ms (account included)")
    check(reply.serial and "BEGIN CERTIFICATE" in reply.certificate_pem, f"issued: {reply.serial}")
    leaf = os.path.join(d, "leaf.pem")
    with open(leaf, "w") as f:
        f.write(reply.certificate_pem)
    text = openssl("x509", "-in", leaf, "-noout", "-text").stdout
    check(f"DNS:{NAMES[0]}" in text and f"DNS:{NAMES[1]}" in text, "both names issued")
    for name in NAMES[:2]:
        check(named.txt(f"_acme-challenge.{name}") == "", f"the challenge record of {name} is gone")
    with open(named.log) as f:
        log = f.read()
    check(log.count("adding an RR at '_acme-challenge.dns01-") >= 2 and
          log.count("deleting an RR at _acme-challenge.dns01-") >= 2,
          "bind9 logged clm's additions and deletions")

    # clmctl
    r = clmctl(d, "ca", "issue", "dns01", "--cn", NAMES[2], "--dns", NAMES[2], timeout=120)
    check(r.returncode == 0 and '"serial"' in r.stdout, f"clmctl ca issue: {r.stdout}{r.stderr}")
    check(named.txt(f"_acme-challenge.{NAMES[2]}") == "", "its challenge record is gone")

    # a wrong key: bind9 answers BADSIG, the order fails with that reason, no secret shown
    r = clmctl(d, "connector", "create", "--type", "acme", *base, *dns, "--field",
               f"tsig_secret={WRONG_SECRET}", "dns01-wrong")
    check(r.returncode == 0, f"a connector with a wrong key is created: {r.stderr}")
    r = clmctl(d, "ca", "issue", "dns01-wrong", "--cn", NAMES[2], "--dns", NAMES[2], timeout=120)
    check(r.returncode != 0 and "BADSIG" in r.stderr and "tsig_name" in r.stderr,
          f"a wrong key is refused by bind9: {r.stderr}")
    check(WRONG_SECRET not in r.stderr and secret not in r.stderr, "no secret in the error")

    s.stop()
    log = s.output()
    check(secret not in log and WRONG_SECRET not in log, "no TSIG secret in the clmd log")
    check("Sanitizer" not in log and "runtime error" not in log, f"no sanitizer report: {log[-2000:]}")


if __name__ == "__main__":
    run_cases([test_dns01_connector])
