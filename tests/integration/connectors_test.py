"""Integration tests of CA connectors (issue 6, local CA slice), through the real clmd,
clmctl, grpcio and the openssl CLI: create a local connector, set up its CA (new root +
intermediate, or an imported key and chain), issue certificates (key made in the
appliance, or an uploaded CSR), check them with `openssl verify` and `openssl x509`,
revoke one and check the CRL with `openssl crl -verify`. Bad input is refused naming the
field, and nothing is stored; a viewer cannot change connectors; no secret reaches a
reply or the clmd log. A cfssl connector (the real `cfssl serve`) issues into the
inventory through Connectors.Issue, with its auth_key: a secret vendor field, sealed at
rest, never in Get/List/clmctl output or the clmd log, kept by an update that leaves it
empty.
"""
import json
import os
import subprocess
import tempfile
import time

import grpc

from clm.v1 import connectors_pb2, connectors_pb2_grpc, groups_pb2, inventory_pb2, inventory_pb2_grpc
from harness import CLMD, Clmd, check, clmctl, free_port, run_cases


def tmpdir():
    return tempfile.mkdtemp(prefix="clm-ca-")


def start():
    d = tmpdir()
    s = Clmd(d)
    ch = grpc.insecure_channel(f"unix:{s.socket}")
    return d, s, connectors_pb2_grpc.ConnectorsStub(ch), inventory_pb2_grpc.InventoryStub(ch)


def openssl(*args, input=None):
    return subprocess.run(["openssl", *args], capture_output=True, text=True, input=input)


def split_pems(text):
    parts, cur = [], []
    for line in text.splitlines(keepends=True):
        cur.append(line)
        if line.startswith("-----END"):
            parts.append("".join(cur))
            cur = []
    return parts


def write(d, name, text):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def connector_names(stub):
    return sorted(c.name for c in stub.ListConnectors(connectors_pb2.ListConnectorsRequest()).connectors)


def cert_count(inv):
    return len(inv.ListCertificates(inventory_pb2.ListCertificatesRequest(page_size=1000)).certificates)


def make_csr(d, name, cn, extra=()):
    key = os.path.join(d, name + ".key")
    csr = os.path.join(d, name + ".csr")
    r = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", csr, "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}", *extra)
    assert r.returncode == 0, r.stderr
    return csr, key


def test_local_ca_end_to_end():
    d, s, stub, inv = start()
    r = clmctl(d, "connector", "create", "--description", "the appliance's own CA", "--profile", "server",
               "--auto-renew", "30", "--field", "crl_days=7", "lca")
    check(r.returncode == 0 and '"name": "lca"' in r.stdout, f"connector create: {r.stdout}{r.stderr}")
    c = stub.GetConnector(connectors_pb2.GetConnectorRequest(name="lca"))
    check(c.type == "local" and not c.ca_ready and c.auto_renew.days_before_expiry == 30
          and c.csr_source == "appliance", f"a new connector is not set up: {c}")
    r = clmctl(d, "ca", "init", "lca", "--root-cn", "clm Test Root", "--intermediate-cn", "clm Test Issuing",
               "--org", "clm tests")
    check(r.returncode == 0 and '"caReady": true' in r.stdout, f"ca init: {r.stdout}{r.stderr}")
    check("PRIVATE KEY" not in r.stdout, "ca init reply has no key")
    r = clmctl(d, "ca", "init", "lca", "--root-cn", "again", "--intermediate-cn", "again2")
    check(r.returncode != 0 and "ALREADY_EXISTS" in r.stderr, f"a CA that is set up is not replaced: {r.stderr}")

    c = stub.GetConnector(connectors_pb2.GetConnectorRequest(name="lca"))
    chain = split_pems(c.ca_chain_pem)
    check(c.ca_ready and len(chain) == 2, f"the chain is intermediate + root: {len(chain)}")
    check(b"PRIVATE KEY" not in c.SerializeToString(), "GetConnector carries no key")
    inter, root = write(d, "int.pem", chain[0]), write(d, "root.pem", chain[1])

    # 1. the appliance makes the key and the CSR
    leaf, leaf_chain = os.path.join(d, "leaf.pem"), os.path.join(d, "leaf-chain.pem")
    r = clmctl(d, "ca", "issue", "lca", "--cn", "www.example.test", "--dns", "www.example.test",
               "--dns", "api.example.test", "--out", leaf, "--chain-out", leaf_chain)
    check(r.returncode == 0 and "issued serial" in r.stdout and "key sealed" in r.stdout, f"ca issue: {r.stdout}{r.stderr}")
    r = openssl("verify", "-CAfile", root, "-untrusted", inter, leaf)
    check(r.returncode == 0 and "OK" in r.stdout, f"openssl verify: {r.stdout}{r.stderr}")
    text = openssl("x509", "-in", leaf, "-noout", "-text").stdout
    check("DNS:www.example.test, DNS:api.example.test" in text, "SANs copied")
    check("TLS Web Server Authentication" in text and "CA:FALSE" in text, "server profile: serverAuth, not a CA")
    check("Issuer: CN = clm Test Issuing, O = clm tests" in text or "Issuer: O = clm tests, CN = clm Test Issuing" in text,
          f"issued by the intermediate: {text[:400]}")
    with open(leaf_chain) as f:
        check(split_pems(f.read()) == chain, "the reply's chain is the CA's")
    serial = openssl("x509", "-in", leaf, "-noout", "-serial").stdout.strip().split("=")[1]
    sha256 = openssl("x509", "-in", leaf, "-noout", "-fingerprint", "-sha256").stdout.strip().split("=")[1].replace(":", "").lower()

    cert = inv.GetCertificate(inventory_pb2.GetCertificateRequest(id=sha256))
    check(cert.status == inventory_pb2.CERTIFICATE_STATUS_MANAGED, f"managed: {cert.status}")
    check(any(src.kind == "connector" and src.device == "lca" for src in cert.sources),
          f"source names the connector: {cert.sources}")
    # the generated key is sealed in the inventory and exports (admin) matching the certificate
    e = inv.ExportCertificate(inventory_pb2.ExportCertificateRequest(
        id=sha256, format=inventory_pb2.EXPORT_FORMAT_PEM, include_private_key=True, password="export-pw-1"))
    exported = e.data.decode()
    check("ENCRYPTED PRIVATE KEY" in exported, "the key exports encrypted")
    keyfile = write(d, "exported.pem", exported)
    pub_key = openssl("pkey", "-in", keyfile, "-passin", "pass:export-pw-1", "-pubout").stdout
    pub_cert = openssl("x509", "-in", leaf, "-noout", "-pubkey").stdout
    check(pub_key and pub_key == pub_cert, "the sealed key is the certificate's key")

    # 2. an uploaded CSR (through grpcio)
    csr, _ = make_csr(d, "up", "upload.example.test")
    with open(csr) as f:
        reply = stub.Issue(connectors_pb2.IssueRequest(connector="lca", csr_pem=f.read(),
                                                       fields=[connectors_pb2.Field(name="validity_days", value="30")]))
    check(not reply.key_in_appliance and reply.serial, "uploaded CSR issued, no key in the appliance")
    up = write(d, "up.pem", reply.certificate_pem)
    check(openssl("verify", "-CAfile", root, "-untrusted", inter, up).returncode == 0, "uploaded CSR's certificate verifies")
    days = openssl("x509", "-in", up, "-noout", "-enddate").stdout
    check("notAfter" in days, "validity set")

    # revoke the first by serial, the second by certificate; the CRL lists both with reasons
    r = clmctl(d, "ca", "revoke", "lca", "--serial", serial, "--reason", "keyCompromise")
    check(r.returncode == 0 and f"revoked serial {serial}" in r.stdout, f"ca revoke: {r.stdout}{r.stderr}")
    r = clmctl(d, "ca", "revoke", "lca", "--cert", up, "--reason", "superseded")
    check(r.returncode == 0 and "revoked" in r.stdout, f"ca revoke --cert: {r.stdout}{r.stderr}")
    r = clmctl(d, "ca", "revoke", "lca", "--serial", serial)
    check(r.returncode != 0 and "INVALID_ARGUMENT" in r.stderr and "already revoked" in r.stderr,
          f"revoked twice is refused: {r.stderr}")
    crl = os.path.join(d, "crl.pem")
    r = clmctl(d, "ca", "crl", "lca", "--out", crl)
    check(r.returncode == 0, f"ca crl: {r.stderr}")
    r = openssl("crl", "-in", crl, "-CAfile", inter, "-noout", "-text")
    check(r.returncode == 0 and "verify OK" in r.stderr + r.stdout, f"openssl crl -verify: {r.stderr}")
    check(f"Serial Number: {serial}" in r.stdout, f"the CRL lists the serial: {r.stdout}")
    check("Key Compromise" in r.stdout and "Superseded" in r.stdout, "the CRL gives the reasons")
    der = os.path.join(d, "crl.der")
    r = clmctl(d, "ca", "crl", "lca", "--der", "--out", der)
    r2 = openssl("crl", "-inform", "DER", "-in", der, "-CAfile", inter, "-noout")
    check(r.returncode == 0 and r2.returncode == 0, f"DER CRL verifies: {r2.stderr}")
    r = openssl("crl", "-in", crl, "-noout", "-crlnumber")
    check("crlNumber=" in r.stdout, "a CRL number")

    # listing, and deleting while certificates it issued are in the inventory
    r = clmctl(d, "--output", "table", "connector", "ls")
    check(r.returncode == 0 and "lca" in r.stdout and "yes" in r.stdout and "30d" in r.stdout, f"connector ls: {r.stdout}")
    r = clmctl(d, "connector", "rm", "lca")
    check(r.returncode != 0 and "FAILED_PRECONDITION" in r.stderr, f"rm refused while it issued: {r.stderr}")

    # audit entries for the writes
    # Issue keeps adapter instances open: one that answered "not set up" is not kept, so
    # the CA set up afterwards issues at once
    r = clmctl(d, "connector", "create", "late")
    check(r.returncode == 0, f"create late: {r.stderr}")
    for _ in range(2):
        r = clmctl(d, "ca", "issue", "late", "--cn", "late.example.test")
        check(r.returncode != 0 and "not set up" in r.stderr, f"late is not set up: {r.stderr}")
    r = clmctl(d, "ca", "init", "late", "--root-cn", "Late Root", "--intermediate-cn", "Late Issuing")
    check(r.returncode == 0, f"init late: {r.stderr}")
    r = clmctl(d, "ca", "issue", "late", "--cn", "late.example.test")
    check(r.returncode == 0 and '"serial"' in r.stdout, f"late issues once set up: {r.stdout}{r.stderr}")
    # an update (a new record version) opens a new instance: its fields apply at once
    u = stub.UpdateConnector(connectors_pb2.UpdateConnectorRequest(
        name="late", connector=connectors_pb2.Connector(
            name="late", type="local", fields=[connectors_pb2.Field(name="crl_url", value="http://crl.example.test/late.crl")])))
    check(u.fields[0].value == "http://crl.example.test/late.crl", "update late")
    out = os.path.join(d, "late.pem")
    r = clmctl(d, "ca", "issue", "late", "--cn", "late2.example.test", "--out", out)
    text = openssl("x509", "-in", out, "-noout", "-text").stdout
    check(r.returncode == 0 and "http://crl.example.test/late.crl" in text, f"the updated crl_url is used: {text[-600:]}")

    r = clmctl(d, "audit", "ls", "--json")
    for method in ("CreateConnector", "InitLocalCa", "Issue", "Revoke", "GetCrl"):
        check(f"/clm.v1.Connectors/{method}" in r.stdout, f"audited: {method}")
    s.stop()
    log = s.output()
    check("PRIVATE KEY" not in log and "export-pw-1" not in log, "no key or password in the clmd log")
    check("Sanitizer" not in log and "runtime error" not in log, f"no sanitizer report (ASan builds): {log[-3000:]}")


def test_import_and_secrets():
    d, s, stub, inv = start()
    # an issuing CA made with openssl: root -> intermediate
    for args in (
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{d}/r.key",
         "-out", f"{d}/r.pem", "-subj", "/CN=Imported Root", "-days", "3650",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{d}/i.key",
         "-out", f"{d}/i.csr", "-subj", "/CN=Imported Issuing"],
    ):
        r = openssl(*args)
        assert r.returncode == 0, r.stderr
    write(d, "ext.cnf", "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n")
    r = openssl("x509", "-req", "-in", f"{d}/i.csr", "-CA", f"{d}/r.pem", "-CAkey", f"{d}/r.key", "-CAcreateserial",
                "-out", f"{d}/i.pem", "-days", "1825", "-extfile", f"{d}/ext.cnf")
    assert r.returncode == 0, r.stderr
    with open(f"{d}/i.pem") as a, open(f"{d}/r.pem") as b:
        write(d, "chain.pem", a.read() + b.read())
    with open(f"{d}/i.key") as f:
        key_text = f.read()
    key_body = [l for l in key_text.splitlines() if not l.startswith("-----")]

    r = clmctl(d, "connector", "create", "--csr-source", "uploaded", "imported")
    check(r.returncode == 0, f"create: {r.stderr}")
    # a key that does not match the chain is refused, nothing is stored
    r = clmctl(d, "ca", "init", "imported", "--key", f"{d}/r.key", "--chain", f"{d}/i.pem")
    check(r.returncode != 0 and "INVALID_ARGUMENT" in r.stderr and "import_ca." in r.stderr, f"mismatched import: {r.stderr}")
    check(not stub.GetConnector(connectors_pb2.GetConnectorRequest(name="imported")).ca_ready, "nothing stored")
    r = clmctl(d, "ca", "init", "imported", "--key", f"{d}/i.key", "--chain", f"{d}/chain.pem")
    check(r.returncode == 0 and '"caReady": true' in r.stdout, f"import: {r.stdout}{r.stderr}")
    check(not any(l in r.stdout for l in key_body), "the imported key is not in the reply")

    # uploaded-CSR connector: no CSR is refused naming csr_pem
    r = clmctl(d, "ca", "issue", "imported", "--cn", "x.example.test")
    check(r.returncode != 0 and "INVALID_ARGUMENT" in r.stderr and "csr_pem" in r.stderr, f"csr required: {r.stderr}")
    csr, _ = make_csr(d, "leaf", "imp.example.test")
    out = os.path.join(d, "leaf.pem")
    r = clmctl(d, "ca", "issue", "imported", "--csr", csr, "--out", out)
    check(r.returncode == 0, f"issue: {r.stderr}")
    r = openssl("verify", "-CAfile", f"{d}/r.pem", "-untrusted", f"{d}/i.pem", out)
    check(r.returncode == 0, f"issued under the imported CA verifies: {r.stdout}{r.stderr}")
    s.stop()
    log = s.output()
    check(not any(l in log for l in key_body) and "PRIVATE KEY" not in log, "the imported key is never logged")
    check("Sanitizer" not in log and "runtime error" not in log, f"no sanitizer report (ASan builds): {log[-3000:]}")
    # at rest: the key is sealed, so the store file does not hold its PEM
    with open(os.path.join(d, "data.mdb"), "rb") as f:
        data = f.read()
    check(not any(l.encode() in data for l in key_body), "the imported key is sealed at rest")

    # after a restart the CA opens from the store (the sealed key with the master key)
    s = Clmd(d)
    r = clmctl(d, "ca", "issue", "imported", "--csr", csr, "--out", out)
    check(r.returncode == 0, f"issue after restart: {r.stderr}")
    r = openssl("verify", "-CAfile", f"{d}/r.pem", "-untrusted", f"{d}/i.pem", out)
    check(r.returncode == 0, f"issued after restart verifies: {r.stdout}{r.stderr}")
    s.stop()


def test_bad_input():
    d, s, stub, inv = start()
    r = clmctl(d, "connector", "create", "good")
    check(r.returncode == 0, f"create good: {r.stderr}")
    r = clmctl(d, "ca", "init", "good", "--root-cn", "R", "--intermediate-cn", "I")
    check(r.returncode == 0, f"init good: {r.stderr}")
    before = connector_names(stub)
    cases = [
        (["--field", "nope=1", "x1"], "INVALID_ARGUMENT", "connector.fields.nope"),
        (["--field", "crl_days=0", "x2"], "INVALID_ARGUMENT", "connector.fields.crl_days"),
        (["--field", "crl_url=ftp://x", "x3"], "INVALID_ARGUMENT", "connector.fields.crl_url"),
        (["--auto-renew", "0", "x4"], "INVALID_ARGUMENT", "connector.auto_renew.days_before_expiry"),
        (["--auto-regenerate", "121", "x5"], "INVALID_ARGUMENT", "connector.auto_regenerate.days_before_expiry"),
        (["--re-enroll", "121", "x6"], "INVALID_ARGUMENT", "connector.re_enroll.days_before_expiry"),
        (["--description", "d" * 2001, "x7"], "INVALID_ARGUMENT", "connector.description"),
        (["--type", "acme-nope", "x8"], "INVALID_ARGUMENT", "connector.type"),
        (["--type", "", "x9"], "INVALID_ARGUMENT", "connector.type: required"),
        (["--profile", "nope", "x10"], "INVALID_ARGUMENT", "connector.profile"),
        (["--csr-source", "hsm", "x11"], "INVALID_ARGUMENT", "connector.csr_source"),
        (["--auto-renew", "10", "--auto-regenerate", "10", "x12"], "INVALID_ARGUMENT", "connector.auto_regenerate"),
        (["bad/name"], "INVALID_ARGUMENT", "connector.name"),
        ([""], "INVALID_ARGUMENT", "connector.name"),
        (["GOOD"], "ALREADY_EXISTS", "connector.name"),
    ]
    for args, status, field in cases:
        r = clmctl(d, "connector", "create", *args)
        check(r.returncode != 0 and status in r.stderr and field in r.stderr, f"create {args[:-1]}: {r.stderr}")
    ok = clmctl(d, "connector", "create", "--description", "d" * 2000, "--re-enroll", "120", "edge")
    check(ok.returncode == 0, f"2000 characters and 120 days are fine: {ok.stderr}")
    check(connector_names(stub) == sorted(before + ["edge"]), "nothing stored by the bad creates")

    # InitLocalCa: missing fields, wrong type of connector
    r = clmctl(d, "ca", "init", "edge", "--intermediate-cn", "I")
    check(r.returncode != 0 and "create.root_cn" in r.stderr, f"root_cn required: {r.stderr}")
    r = clmctl(d, "ca", "init", "edge", "--root-cn", "R", "--intermediate-cn", "I", "--key-type", "RSA-4096")
    check(r.returncode != 0 and "create.key_type" in r.stderr, f"RSA is not made on an RPC thread: {r.stderr}")
    check(not stub.GetConnector(connectors_pb2.GetConnectorRequest(name="edge")).ca_ready, "edge not set up")

    # issuing: bad CSR, CSR asking for more than the profile, unknown request field
    n = cert_count(inv)
    garbage = write(d, "garbage.csr", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")
    r = clmctl(d, "ca", "issue", "good", "--csr", garbage)
    check(r.returncode != 0 and "INVALID_ARGUMENT" in r.stderr and "csr_pem" in r.stderr, f"bad CSR: {r.stderr}")
    csr, _ = make_csr(d, "ca", "ca.example.test", ["-addext", "basicConstraints=critical,CA:TRUE"])
    r = clmctl(d, "ca", "issue", "good", "--csr", csr)
    check(r.returncode != 0 and "INVALID_ARGUMENT" in r.stderr and "rejected by connector 'good'" in r.stderr,
          f"CSR asking for CA:TRUE under the server profile: {r.stderr}")
    csr, _ = make_csr(d, "long", "long.example.test")
    r = clmctl(d, "ca", "issue", "good", "--csr", csr, "--field", "validity_days=1000")
    check(r.returncode != 0 and "rejected" in r.stderr and "397" in r.stderr, f"longer than the profile: {r.stderr}")
    r = clmctl(d, "ca", "issue", "good", "--csr", csr, "--field", "colour=blue")
    check(r.returncode != 0 and "fields.colour" in r.stderr, f"unknown request field: {r.stderr}")
    r = clmctl(d, "ca", "issue", "good", "--csr", csr, "--field", "profile=gold")
    check(r.returncode != 0 and "fields.profile" in r.stderr, f"unknown profile: {r.stderr}")
    r = clmctl(d, "ca", "issue", "edge", "--cn", "x.example.test")
    check(r.returncode != 0 and "FAILED_PRECONDITION" in r.stderr and "not set up" in r.stderr,
          f"a CA that is not set up: {r.stderr}")
    r = clmctl(d, "ca", "issue", "nosuch", "--cn", "x.example.test")
    check(r.returncode != 0 and "NOT_FOUND" in r.stderr, f"unknown connector: {r.stderr}")
    r = clmctl(d, "ca", "issue", "good", "--cn", "x.example.test", "--group", "nosuch")
    check(r.returncode != 0 and "NOT_FOUND" in r.stderr and "group" in r.stderr, f"unknown group: {r.stderr}")
    # the group's policy: allowed key types and CSR hash functions
    r = clmctl(d, "group", "create", "--key-types", "RSA-2048,RSA-3072", "RsaOnly")
    check(r.returncode == 0, f"group create: {r.stderr}")
    r = clmctl(d, "group", "create", "--key-types", "EC-P256", "--hashes", "SHA384", "Sha384")
    check(r.returncode == 0, f"group create: {r.stderr}")
    r = clmctl(d, "ca", "issue", "good", "--cn", "p.example.test", "--group", "RsaOnly")
    check(r.returncode != 0 and "INVALID_ARGUMENT: group: key type ec-p256 is not allowed" in r.stderr,
          f"generated key against the group policy: {r.stderr}")
    r = clmctl(d, "ca", "issue", "good", "--csr", csr, "--group", "rsaonly")
    check(r.returncode != 0 and "INVALID_ARGUMENT: csr_pem: key type ec-p256 is not allowed" in r.stderr,
          f"uploaded CSR against the group policy: {r.stderr}")
    r = clmctl(d, "ca", "issue", "good", "--csr", csr, "--group", "Sha384")
    check(r.returncode != 0 and "csr_pem: signed with SHA256" in r.stderr, f"CSR hash against the policy: {r.stderr}")
    csr384, _ = make_csr(d, "s384", "s384.example.test", ["-sha384"])
    r = clmctl(d, "ca", "issue", "good", "--csr", csr384, "--group", "Sha384")
    check(r.returncode == 0, f"a CSR the policy allows: {r.stderr}")
    n += 1
    r = clmctl(d, "ca", "issue", "good", "--cn", "bad name!")
    check(r.returncode != 0 and "INVALID_ARGUMENT" in r.stderr, f"bad common name: {r.stderr}")
    check(cert_count(inv) == n, "nothing stored by the refused issues")
    r = clmctl(d, "ca", "revoke", "good", "--serial", "zz")
    check(r.returncode != 0 and "INVALID_ARGUMENT: serial" in r.stderr, f"bad serial: {r.stderr}")
    r = clmctl(d, "ca", "revoke", "good", "--serial", "0A", "--reason", "7")
    check(r.returncode != 0 and "INVALID_ARGUMENT: reason" in r.stderr, f"bad reason: {r.stderr}")
    foreign = os.path.join(d, "foreign.pem")
    r = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", os.path.join(d, "foreign.key"), "-out", foreign, "-subj", "/CN=I", "-days", "1")
    assert r.returncode == 0, r.stderr
    r = clmctl(d, "ca", "revoke", "good", "--cert", foreign)
    check(r.returncode != 0 and "INVALID_ARGUMENT: certificate_pem: not issued by the CA" in r.stderr,
          f"a certificate of another CA (same issuer name) is refused: {r.stderr}")
    crl_after = clmctl(d, "ca", "crl", "good", "--der", "--out", os.path.join(d, "after.der"))
    r = openssl("crl", "-inform", "DER", "-in", os.path.join(d, "after.der"), "-noout", "-text")
    check(crl_after.returncode == 0 and "No Revoked Certificates" in r.stdout, "the CRL stays empty")
    r = clmctl(d, "ca", "crl", "edge")
    check(r.returncode != 0 and "FAILED_PRECONDITION" in r.stderr, f"CRL of a CA not set up: {r.stderr}")

    # update keeps name and type; delete of an unused connector removes it and its state
    try:
        stub.UpdateConnector(connectors_pb2.UpdateConnectorRequest(
            name="edge", connector=connectors_pb2.Connector(name="edge", type="local", description="changed",
                                                            auto_renew=groups_pb2.RenewalSetting(enabled=True, days_before_expiry=0))))
        check(False, "update with days 0 refused")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and "auto_renew" in e.details(), f"update days 0: {e.details()}")
    u = stub.UpdateConnector(connectors_pb2.UpdateConnectorRequest(
        name="edge", connector=connectors_pb2.Connector(name="edge", type="local", description="changed")))
    check(u.description == "changed", "update")
    r = clmctl(d, "connector", "rm", "edge")
    check(r.returncode == 0 and "edge" not in connector_names(stub), f"rm: {r.stderr}")

    # a viewer reads but cannot create, issue or revoke
    r = subprocess.run([CLMD, "issue-client", "--data-dir", d, "--role", "viewer", "--cn", "vera"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"issue-client: {r.stderr}")
    prefix = os.path.join(d, "tls", "clients", "vera")
    viewer = ["--cert", prefix + ".pem", "--key", prefix + ".key"]
    addr = f"localhost:{s.port}"
    r = clmctl(d, "connector", "create", "v1", addr=addr, extra_global=viewer)
    check(r.returncode != 0 and "PERMISSION_DENIED" in r.stderr, f"viewer cannot create: {r.stderr}")
    r = clmctl(d, "ca", "issue", "good", "--cn", "v.example.test", addr=addr, extra_global=viewer)
    check(r.returncode != 0 and "PERMISSION_DENIED" in r.stderr, f"viewer cannot issue: {r.stderr}")
    r = clmctl(d, "connector", "ls", addr=addr, extra_global=viewer)
    check(r.returncode == 0 and "good" in r.stdout, f"viewer lists: {r.stderr}")
    r = clmctl(d, "ca", "crl", "good", addr=addr, extra_global=viewer)
    check(r.returncode == 0 and "BEGIN X509 CRL" in r.stdout, f"viewer fetches the CRL: {r.stderr}")
    check("v1" not in connector_names(stub) and cert_count(inv) == n, "nothing stored for the viewer")
    s.stop()
    log = s.output()
    check("PRIVATE KEY" not in log, "no key in the log")
    check("Sanitizer" not in log and "runtime error" not in log, f"no sanitizer report (ASan builds): {log[-3000:]}")


CFSSL_KEY = "6b3c1f0e9a8d7c6b5a4f3e2d1c0b9a88"      # the server's auth key (hex)
WRONG_KEY = "00112233445566778899aabbccddeeff"


class Cfssl:
    """`cfssl serve` on a loopback port with its own CA and a config with an auth key."""

    def __init__(self, d):
        self.dir = os.path.join(d, "cfssl")
        os.mkdir(self.dir)
        write(self.dir, "ca.json", '{"CN":"clm cfssl CA","key":{"algo":"ecdsa","size":256}}')
        out = subprocess.run(["cfssl", "gencert", "-initca", "ca.json"], cwd=self.dir, capture_output=True,
                             text=True, check=True).stdout
        subprocess.run(["cfssljson", "-bare", "ca"], cwd=self.dir, input=out, capture_output=True, text=True,
                       check=True)
        write(self.dir, "config.json", json.dumps({
            "signing": {"default": {"expiry": "168h", "usages": ["signing", "server auth"]},
                        "profiles": {"server": {"expiry": "720h", "usages": ["signing", "server auth"]},
                                     "secure": {"expiry": "48h", "usages": ["signing", "server auth"],
                                                "auth_key": "k1"}}},
            "auth_keys": {"k1": {"type": "standard", "key": CFSSL_KEY}}}))
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "serve.log"), "w")
        self.proc = subprocess.Popen(["cfssl", "serve", "-address=127.0.0.1", f"-port={self.port}", "-ca=ca.pem",
                                      "-ca-key=ca-key.pem", "-config=config.json"], cwd=self.dir,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            with open(os.path.join(self.dir, "serve.log")) as f:
                if "Now listening" in f.read():
                    break
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"
        self.ca = os.path.join(self.dir, "ca.pem")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def test_cfssl_and_secret_field():
    d, s, stub, inv = start()
    cf = Cfssl(d)
    try:
        r = clmctl(d, "connector", "create", "--type", "cfssl", "--profile", "secure",
                   "--field", f"url={cf.url}", "--field", f"auth_key={CFSSL_KEY}",
                   "--field", "profiles=server,secure", "--description", "cfssl on loopback", "cf")
        check(r.returncode == 0 and '"name": "cf"' in r.stdout, f"create cfssl connector: {r.stdout}{r.stderr}")
        check(CFSSL_KEY not in r.stdout + r.stderr, "the create reply has no auth_key")

        c = stub.GetConnector(connectors_pb2.GetConnectorRequest(name="cf"))
        fields = {f.name: f for f in c.fields}
        check(fields["auth_key"].secret and fields["auth_key"].value == "", f"Get shows the key as set, empty: {fields}")
        check(fields["url"].value == cf.url and not fields["url"].secret, "other fields are shown")
        check(CFSSL_KEY.encode() not in c.SerializeToString(), "GetConnector carries no key")
        lst = stub.ListConnectors(connectors_pb2.ListConnectorsRequest())
        check(CFSSL_KEY.encode() not in lst.SerializeToString(), "ListConnectors carries no key")
        for args in (["connector", "show", "cf"], ["connector", "ls"]):
            r = clmctl(d, *args)
            check(r.returncode == 0 and CFSSL_KEY not in r.stdout + r.stderr, f"clmctl {args[1]}: no key")
        r = clmctl(d, "connector", "show", "cf")
        check('"secret": true' in r.stdout, f"clmctl shows the field as secret: {r.stdout}")

        # Connectors.Issue: key and CSR made in the appliance, signed by cfssl (authsign,
        # profile "secure"), stored in the inventory
        n = cert_count(inv)
        out = stub.Issue(connectors_pb2.IssueRequest(connector="cf", common_name="cf.example.test",
                                                     dns_names=["cf.example.test", "www.cf.example.test"]))
        check(out.key_in_appliance and out.sha256, f"issued: {out.serial}")
        leaf = write(d, "cf-leaf.pem", out.certificate_pem)
        r = openssl("verify", "-CAfile", cf.ca, leaf)
        check(r.returncode == 0, f"the certificate verifies under cfssl's CA: {r.stdout}{r.stderr}")
        text = openssl("x509", "-in", leaf, "-noout", "-text", "-dates").stdout
        check("DNS:cf.example.test, DNS:www.cf.example.test" in text, f"SANs from the CSR: {text[:300]}")
        check(split_pems(out.chain_pem) == split_pems(open(cf.ca).read()), "the chain is cfssl's CA (info)")
        cert = inv.GetCertificate(inventory_pb2.GetCertificateRequest(id=out.sha256))
        check(any(src.kind == "connector" and src.device == "cf" for src in cert.sources), "in the inventory")
        check(cert_count(inv) == n + 1, "one certificate more")

        # an update that sends the Get view back (auth_key empty) keeps the key
        c.description = "edited"
        c.ClearField("created_at")
        c.ClearField("updated_at")
        u = stub.UpdateConnector(connectors_pb2.UpdateConnectorRequest(name="cf", connector=c))
        check(u.description == "edited" and CFSSL_KEY.encode() not in u.SerializeToString(), "update keeps the key")
        out2 = stub.Issue(connectors_pb2.IssueRequest(connector="cf", common_name="kept.example.test"))
        check(out2.serial != "", "issues after the update with the kept key")
        # an unknown profile is refused, nothing stored
        try:
            stub.Issue(connectors_pb2.IssueRequest(connector="cf", common_name="x.example.test",
                                                   fields=[connectors_pb2.Field(name="profile", value="gold")]))
            check(False, "unknown profile refused")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and "\"gold\" is not one of" in e.details(),
                  f"unknown profile: {e.details()}")
        # a wrong key: rejected with cfssl's reason, the key in no message
        for f in c.fields:
            if f.name == "auth_key":
                f.value = WRONG_KEY
        stub.UpdateConnector(connectors_pb2.UpdateConnectorRequest(name="cf", connector=c))
        try:
            stub.Issue(connectors_pb2.IssueRequest(connector="cf", common_name="x.example.test"))
            check(False, "wrong key refused")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and "invalid token" in e.details()
                  and WRONG_KEY not in e.details(), f"wrong key: {e.details()}")
        check(cert_count(inv) == n + 2, "nothing stored by the refused issues")
        # cfssl down: unavailable
        cf.stop()
        try:
            stub.Issue(connectors_pb2.IssueRequest(connector="cf", common_name="x.example.test"))
            check(False, "cfssl down refused")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.UNAVAILABLE and "cannot be reached" in e.details(),
                  f"cfssl down: {e.code()} {e.details()}")
    finally:
        cf.stop()
    s.stop()
    log = s.output()
    for key in (CFSSL_KEY, WRONG_KEY):
        check(key not in log, "no auth_key in the clmd log")
    with open(os.path.join(d, "data.mdb"), "rb") as f:
        data = f.read()
    check(CFSSL_KEY.encode() not in data and WRONG_KEY.encode() not in data, "the auth_key is sealed at rest")
    check("Sanitizer" not in log and "runtime error" not in log, f"no sanitizer report (ASan builds): {log[-3000:]}")


if __name__ == "__main__":
    run_cases([test_local_ca_end_to_end, test_import_and_secrets, test_bad_input, test_cfssl_and_secret_field])
