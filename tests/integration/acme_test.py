"""Integration test of the ACME CA connector (issue 6) through the real clmd, clmctl and
grpcio, against Debian's real pebble (adapters/ca/acme/testdata/pebble_serve.sh, with
pebble-challtestsrv resolving every name to 127.0.0.1): create an acme connector,
Connectors.Issue gets certificates from pebble into the inventory (validated over
http-01 by the connector's built-in responder), several at once on clmd's worker
threads; Revoke revokes at pebble; RolloverAccountKey replaces the account key and
issuing goes on. Bad fields are refused naming the field, nothing stored.

Ports (this test's own, below 32768): pebble 14420 (ACME) and 15420 (management),
http-01 5422, challtestsrv DNS 8473 and management 8475.
"""
import concurrent.futures
import json
import os
import ssl
import subprocess
import tempfile
import urllib.request

import grpc

from clm.v1 import connectors_pb2, connectors_pb2_grpc, inventory_pb2, inventory_pb2_grpc
from harness import Clmd, check, clmctl, run_cases

RUNFILES = os.getcwd()
SERVE = os.path.join(RUNFILES, "adapters/ca/acme/testdata/pebble_serve.sh")
ACME, MGMT, HTTP01, DNS, DNS_MGMT = 14420, 15420, 5422, 8473, 8475
PARALLEL = 3


class Pebble:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="clm-pebble-")
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0")
        self.proc = subprocess.Popen(["bash", SERVE, self.dir, str(ACME), str(MGMT), str(HTTP01), str(DNS),
                                      str(DNS_MGMT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"pebble did not start: {line}")
        self.root_pem = os.path.join(self.dir, "root.pem")
        self.url = f"https://127.0.0.1:{ACME}/dir"

    def mgmt(self, path):
        ctx = ssl.create_default_context(cafile=self.root_pem)
        with urllib.request.urlopen(f"https://127.0.0.1:{MGMT}{path}", context=ctx, timeout=30) as r:
            return r.read().decode()

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(30)


def openssl(*args, input=None):
    return subprocess.run(["openssl", *args], capture_output=True, text=True, input=input)


def write(d, name, text):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def test_acme_connector():
    pebble = Pebble()
    try:
        run_acme(pebble)
    finally:
        pebble.stop()


def run_acme(pebble):
    d = tempfile.mkdtemp(prefix="clm-acme-")
    s = Clmd(d)
    ch = grpc.insecure_channel(f"unix:{s.socket}")
    stub = connectors_pb2_grpc.ConnectorsStub(ch)
    inv = inventory_pb2_grpc.InventoryStub(ch)
    fields = ["--field", f"directory_url={pebble.url}", "--field", f"ca_file={pebble.root_pem}",
              "--field", "terms_agreed=true", "--field", "contact_email=pki@example.test",
              "--field", f"http01_listen=127.0.0.1:{HTTP01}"]

    # bad fields: refused naming the field, nothing stored
    r = clmctl(d, "connector", "create", "--type", "acme", "--field", "terms_agreed=true", "bad1")
    check(r.returncode != 0 and "INVALID_ARGUMENT" in r.stderr and "directory_url" in r.stderr,
          f"directory_url is required: {r.stderr}")
    r = clmctl(d, "connector", "create", "--type", "acme", *fields, "--field", "eab_hmac_key=c2VjcmV0c2VjcmV0c2VjcmV0MTIz",
               "bad2")
    check(r.returncode != 0 and "eab_kid" in r.stderr and "c2VjcmV0" not in r.stderr,
          f"an EAB key without its id is refused, the key not echoed: {r.stderr}")
    r = clmctl(d, "connector", "create", "--type", "acme", *fields[:-2], "bad3")
    check(r.returncode != 0 and "http01_listen" in r.stderr, f"http-01 needs a responder or webroot: {r.stderr}")
    names = [c.name for c in stub.ListConnectors(connectors_pb2.ListConnectorsRequest()).connectors]
    check(not any(n.startswith("bad") for n in names), f"nothing stored: {names}")

    # the EAB MAC key is a secret field: sealed, listed as set, never shown
    mac = "c2VjcmV0LWVhYi1tYWMta2V5LWZvci1jbG0tdGVzdHM"
    r = clmctl(d, "connector", "create", "--type", "acme", *fields, "--field", "eab_kid=kid-9",
               "--field", f"eab_hmac_key={mac}", "eabc")
    check(r.returncode == 0 and mac not in r.stdout, f"an EAB connector, the key not echoed: {r.stderr}")
    c = stub.GetConnector(connectors_pb2.GetConnectorRequest(name="eabc"))
    eab = [f for f in c.fields if f.name == "eab_hmac_key"]
    check(len(eab) == 1 and eab[0].value == "" and eab[0].secret and mac.encode() not in c.SerializeToString(),
          f"GetConnector hides the EAB key: {eab}")

    r = clmctl(d, "connector", "create", "--type", "acme", "--description", "pebble", *fields, "le")
    check(r.returncode == 0 and '"type": "acme"' in r.stdout, f"connector create: {r.stdout}{r.stderr}")

    # Issue through grpcio: the appliance makes the key and CSR, pebble validates over http-01
    reply = stub.Issue(connectors_pb2.IssueRequest(connector="le", common_name="www.example.test",
                                                   dns_names=["www.example.test", "api.example.test"]), timeout=120)
    check(reply.serial and reply.key_in_appliance and "BEGIN CERTIFICATE" in reply.certificate_pem,
          f"issued: {reply.serial}")
    root0 = write(d, "pebble-root.pem", pebble.mgmt("/roots/0"))
    leaf = write(d, "leaf.pem", reply.certificate_pem)
    chain = write(d, "chain.pem", reply.chain_pem)
    r = openssl("verify", "-CAfile", root0, "-untrusted", chain, leaf)
    check(r.returncode == 0, f"the certificate verifies up to pebble's root: {r.stdout}{r.stderr}")
    text = openssl("x509", "-in", leaf, "-noout", "-text").stdout
    check("DNS:www.example.test" in text and "DNS:api.example.test" in text, "both names issued")
    cert = inv.GetCertificate(inventory_pb2.GetCertificateRequest(id=reply.sha256))
    check(cert.status == inventory_pb2.CERTIFICATE_STATUS_MANAGED and cert.has_private_key,
          f"in the inventory, managed, key sealed: {cert.status}")
    check(any(src.kind == "connector" and src.device == "le" for src in cert.sources), "source names the connector")

    # clmctl, and several at once (each on a clmd worker thread, not a completion-queue one)
    r = clmctl(d, "ca", "issue", "le", "--cn", "cli.example.test", "--dns", "cli.example.test", timeout=120)
    check(r.returncode == 0 and '"serial"' in r.stdout and "PRIVATE" not in r.stdout,
          f"clmctl ca issue: {r.stdout}{r.stderr}")
    # (3, not more: pebble 2.4.0's in-memory store deadlocks now and then under many
    # concurrent orders, after which every request to it hangs: docs/benchmarks.md, ACME)
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        futures = [pool.submit(stub.Issue, connectors_pb2.IssueRequest(
            connector="le", common_name=f"p{i}.example.test", dns_names=[f"p{i}.example.test"]), timeout=120)
            for i in range(PARALLEL)]
        serials = set()
        for f in futures:
            try:
                serials.add(f.result().serial)
            except grpc.RpcError as e:
                check(False, f"parallel issue: {e.details()}")
    check(len(serials) == PARALLEL, f"{PARALLEL} issued in parallel: {len(serials)}")
    # a health check answers while orders are in flight (the threads are not all busy)
    r = clmctl(d, "connector", "show", "le")
    check(r.returncode == 0 and "BEGIN" not in r.stdout and "PRIVATE" not in r.stdout, "show has no key")

    # Revoke by certificate: pebble records it; by bare serial: ACME cannot
    r = clmctl(d, "ca", "revoke", "le", "--cert", leaf, "--reason", "keyCompromise", timeout=120)
    check(r.returncode == 0 and "revoked" in r.stdout, f"ca revoke: {r.stdout}{r.stderr}")
    status = pebble.mgmt(f"/cert-status-by-serial/{reply.serial.lower()}")
    check("Revoked" in status, f"pebble shows it revoked: {status[:200]}")
    r = clmctl(d, "ca", "revoke", "le", "--cert", leaf, timeout=120)
    check(r.returncode != 0 and "INVALID_ARGUMENT" in r.stderr and "alreadyRevoked" in r.stderr,
          f"twice is refused by the CA: {r.stderr}")
    r = clmctl(d, "ca", "revoke", "le", "--serial", reply.serial, timeout=120)
    check(r.returncode != 0 and "certificate is needed" in r.stderr, f"a bare serial is refused: {r.stderr}")

    # Rollover: a new account key; issuing goes on with it
    r = clmctl(d, "connector", "rollover", "le", timeout=120)
    check(r.returncode == 0 and "new key" in r.stdout, f"connector rollover: {r.stdout}{r.stderr}")
    r = clmctl(d, "ca", "issue", "le", "--cn", "after.example.test", "--dns", "after.example.test", timeout=120)
    check(r.returncode == 0 and '"serial"' in r.stdout, f"issue after rollover: {r.stdout}{r.stderr}")
    r = clmctl(d, "ca", "issue", "le", "--cn", "cn-only.example.test", timeout=120)
    check(r.returncode != 0 and "INVALID_ARGUMENT" in r.stderr and "subjectAltName" in r.stderr,
          f"a CN-only request is refused with the reason: {r.stderr}")
    # An enrollment work order through the ACME connector: made, implemented by the
    # work-order job on a scheduler worker, the certificate from pebble in the inventory
    r = clmctl(d, "group", "create", "acme-fast", "--approval-levels", "0")
    check(r.returncode == 0, f"group without review: {r.stderr}")
    r = clmctl(d, "enroll", "--connector", "le", "--group", "acme-fast", "--cn", "wo.example.test",
               "--san", "wo.example.test", "--comment", "through a work order")
    wo = json.loads(r.stdout)["id"] if r.returncode == 0 else "WO-0"
    check(r.returncode == 0 and '"state": "approved"' in r.stdout, f"enroll through acme: {r.stdout}{r.stderr}")
    r = clmctl(d, "wo", "implement", wo, "--comment", "now")
    check(r.returncode == 0, f"wo implement: {r.stdout}{r.stderr}")
    r = clmctl(d, "wo", "watch", wo, timeout=120)
    check(r.returncode == 0 and "implementing -> completed" in r.stdout, f"work order completed: {r.stdout}{r.stderr}")
    r = clmctl(d, "-o", "json", "cert", "ls", "--name", "wo.example.test")
    check(r.returncode == 0 and "wo.example.test" in r.stdout and "Pebble" in r.stdout,
          f"the work order's certificate, issued by pebble, in the inventory: {r.stdout[:400]}{r.stderr}")

    stub.CreateConnector(connectors_pb2.CreateConnectorRequest(connector=connectors_pb2.Connector(
        name="lca", type="local")))
    r = clmctl(d, "connector", "rollover", "lca")
    check(r.returncode != 0 and ("UNIMPLEMENTED" in r.stderr or "no account key" in r.stderr),
          f"a local CA has no account to roll over: {r.stderr}")

    # every call audited (worker-thread replies included), the chain intact
    r = clmctl(d, "audit", "ls", "--json")
    for method in ("CreateConnector", "Issue", "Revoke", "RolloverAccountKey"):
        check(f"/clm.v1.Connectors/{method}" in r.stdout, f"audited: {method}")
    check(r.stdout.count("/clm.v1.Connectors/Issue") >= 4 + PARALLEL, "each Issue audited once or more")
    r = clmctl(d, "audit", "verify")
    check(r.returncode == 0, f"audit chain verifies: {r.stdout}{r.stderr}")

    s.stop()
    log = s.output()
    check("PRIVATE KEY" not in log and mac not in log, "no key in the clmd log")
    check("Sanitizer" not in log and "runtime error" not in log, f"no sanitizer report: {log[-2000:]}")


if __name__ == "__main__":
    run_cases([test_acme_connector])
