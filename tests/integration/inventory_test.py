"""Integration tests of the certificate inventory (issue: inventory), through the real
clmd and clmctl, with certificates made by the openssl CLI and facts checked against
`openssl x509`.
"""
import json
import os
import subprocess
import tempfile
import time

import grpc

from clm.v1 import inventory_pb2, inventory_pb2_grpc
from harness import CLMD, Clmd, check, clmctl, run_cases


def tmpdir():
    return tempfile.mkdtemp(prefix="clm-inv-")


def openssl(*args, **kw):
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=True, **kw)


class Pki:
    """A test CA and leaves made with the openssl CLI."""

    def __init__(self):
        self.dir = tmpdir()
        d = self.dir
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "3650",
                "-subj", "/CN=Test Root CA/O=clm tests", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-addext", "subjectKeyIdentifier=hash")

    def leaf(self, name, days=90, sans=None, key="rsa:2048", start=None):
        """A leaf signed by the CA with `openssl ca` (which takes explicit dates)."""
        d = self.dir
        sans = sans or [f"DNS:{name}"]
        keyargs = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec" else ["-newkey", key]
        openssl("req", *keyargs, "-nodes", "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr",
                "-subj", f"/CN={name}/O=Example Corp/OU=Web")
        ext = f"{d}/{name}.ext"
        with open(ext, "w") as f:
            f.write(f"subjectAltName={','.join(sans)}\nextendedKeyUsage=serverAuth\n"
                    "keyUsage=digitalSignature,keyEncipherment\n"
                    "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
                    "authorityInfoAccess=OCSP;URI:http://ocsp.example.test\n"
                    "crlDistributionPoints=URI:http://crl.example.test/root.crl\n")
        cfg = f"{d}/ca.cnf"
        if not os.path.exists(cfg):
            os.makedirs(f"{d}/issued", exist_ok=True)
            open(f"{d}/index.txt", "w").close()
            with open(f"{d}/serial", "w") as f:
                f.write("1000\n")
            with open(cfg, "w") as f:
                f.write(f"[ca]\ndefault_ca = tca\n[tca]\ndatabase = {d}/index.txt\n"
                        f"new_certs_dir = {d}/issued\nserial = {d}/serial\ndefault_md = sha256\n"
                        "policy = pol\nunique_subject = no\n[pol]\ncommonName = supplied\n"
                        "organizationName = optional\norganizationalUnitName = optional\n")
        dates = ["-startdate", start[0], "-enddate", start[1]] if start else ["-days", str(days)]
        openssl("ca", "-batch", "-notext", "-config", cfg, "-cert", f"{d}/ca.pem", "-keyfile", f"{d}/ca.key",
                "-in", f"{d}/{name}.csr", "-out", f"{d}/{name}.pem", "-extfile", ext, *dates)
        return f"{d}/{name}.pem"

    def facts(self, path):
        out = openssl("x509", "-in", path, "-noout", "-fingerprint", "-sha256").stdout
        sha256 = out.strip().split("=")[1].replace(":", "").lower()
        sha1 = openssl("x509", "-in", path, "-noout", "-fingerprint", "-sha1").stdout.strip().split("=")[1].replace(":", "").lower()
        serial = openssl("x509", "-in", path, "-noout", "-serial").stdout.strip().split("=")[1]
        subject = openssl("x509", "-in", path, "-noout", "-subject", "-nameopt", "RFC2253").stdout.strip()[len("subject="):]
        end = openssl("x509", "-in", path, "-noout", "-enddate").stdout.strip().split("=")[1]
        return {"sha256": sha256, "sha1": sha1, "serial": serial, "subject": subject,
                "not_after": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.strptime(end, "%b %d %H:%M:%S %Y GMT"))}


def cert_json(d, ident):
    r = clmctl(d, "-o", "json", "cert", "show", ident)
    return json.loads(r.stdout) if r.returncode == 0 else None


def ls(d, *args):
    r = clmctl(d, "-o", "json", "cert", "ls", *args)
    return [json.loads(x) for x in split_json(r.stdout)] if r.returncode == 0 else None


def split_json(text):
    """clmctl prints one pretty JSON object after another."""
    objs, depth, start = [], 0, None
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
            start = i if depth == 1 else start
        elif ch == "}":
            depth -= 1
            if depth == 0:
                objs.append(text[start:i + 1])
    return objs


def test_import_and_facts():
    pki = Pki()
    d = tmpdir()
    s = Clmd(d)
    web = pki.leaf("www.example.com", sans=["DNS:www.example.com", "DNS:api.example.com", "IP:10.1.2.3"])
    mail = pki.leaf("mail.example.org", days=20, key="ec")
    old = pki.leaf("old.example.com", start=("20200101000000Z", "20210101000000Z"))
    bundle = os.path.join(pki.dir, "bundle.pem")
    with open(bundle, "w") as out:
        out.write("junk before\n")
        for p in (web, mail, os.path.join(pki.dir, "ca.pem")):
            out.write(open(p).read() + "\nsome text between blocks\n")
    der = os.path.join(pki.dir, "old.der")
    openssl("x509", "-in", old, "-outform", "DER", "-out", der)
    garbage = os.path.join(pki.dir, "garbage.bin")
    with open(garbage, "wb") as f:
        f.write(os.urandom(300))
    r = clmctl(d, "-o", "table", "cert", "import", "--attr", "cost-centre=42", bundle, der, garbage)
    check(r.returncode == 1 and "4 added, 0 merged, 1 errors" in r.stderr, f"import counts: {r.stdout}{r.stderr}")
    check("garbage.bin" in r.stdout and "error" in r.stdout, "the bad item is reported")
    # re-import merges, never duplicates
    r = clmctl(d, "-o", "table", "cert", "import", bundle)
    check(r.returncode == 0 and "0 added, 3 merged" in r.stderr, f"re-import merges: {r.stderr}")
    check(len(ls(d)) == 4, "4 certificates after re-import")
    # facts equal what openssl reports
    for path in (web, mail, old):
        want = pki.facts(path)
        got = cert_json(d, want["sha256"])
        check(got is not None, f"show {path}")
        if got is None:
            continue
        check(got["sha1"] == want["sha1"], f"sha1 of {path}")
        check(got["serial"].lower() == want["serial"].lower(), f"serial {got['serial']} vs {want['serial']}")
        check(got["subject"] == want["subject"], f"subject {got['subject']} vs {want['subject']}")
        check(got["notAfter"] == want["not_after"], f"notAfter {got['notAfter']} vs {want['not_after']}")
        check(cert_json(d, want["sha1"].upper())["sha256"] == want["sha256"], "lookup by SHA-1 thumbprint")
        check("BEGIN CERTIFICATE" in got["pem"], "show includes the PEM")
    w = cert_json(d, pki.facts(web)["sha256"])
    check(w["dnsNames"] == ["www.example.com", "api.example.com"] and w["ipAddresses"] == ["10.1.2.3"],
          f"SANs: {w.get('dnsNames')} {w.get('ipAddresses')}")
    check(w["keyType"] == "RSA" and w["keyBits"] == 2048, "key facts")
    check("http://ocsp.example.test" in w.get("ocspUrls", []) and w.get("crlUrls") == ["http://crl.example.test/root.crl"],
          "AIA and CRL DP")
    check(w["status"] == "CERTIFICATE_STATUS_MONITORED" and w["group"] == "Default", "defaults")
    check(w["attributes"] == [{"key": "cost-centre", "value": "42"}], f"attributes: {w.get('attributes')}")
    check(len(w["sources"]) == 1 and w["sources"][0]["kind"] == "imported", "one source after re-import")
    s.stop()


def test_queries_paging_and_updates():
    pki = Pki()
    d = tmpdir()
    s = Clmd(d)
    paths = [pki.leaf(f"host{i}.example.com", days=5 + 10 * i) for i in range(12)]
    paths.append(pki.leaf("shop.example.net", days=400))
    paths.append(pki.leaf("gone.example.com", start=("20200101000000Z", "20210101000000Z")))
    r = clmctl(d, "-o", "table", "cert", "import", *paths)
    check(r.returncode == 0 and "14 added" in r.stderr, f"import 14: {r.stderr}")
    days = [int(c["daysToExpiry"]) for c in ls(d)]
    check(days == sorted(days) and len(days) == 14, f"ordered by expiry: {days}")
    check(len(ls(d, "--expiring", "30")) == 3, "expiring within 30 days")
    check(len(ls(d, "--expired")) == 1, "expired")
    check(len(ls(d, "--domain", "example.com")) == 13, "domain suffix")
    check(len(ls(d, "--domain", "example.net")) == 1, "another domain")
    check(len(ls(d, "--name", "HOST1")) == 3, "name contains, case-insensitive (host1, host10, host11)")
    # paging through the API while writes happen: every certificate exactly once
    ch = grpc.insecure_channel(f"unix:{s.socket}")
    stub = inventory_pb2_grpc.InventoryStub(ch)
    seen, token = [], ""
    extra = [pki.leaf(f"late{i}.example.com", days=1000 + i) for i in range(3)]
    while True:
        page = stub.ListCertificates(inventory_pb2.ListCertificatesRequest(page_size=4, page_token=token), timeout=10)
        seen += [c.sha256 for c in page.certificates]
        if len(seen) == 4:  # a write between pages
            clmctl(d, "cert", "import", *extra)
        token = page.next_page_token
        if not token:
            break
    check(len(seen) == len(set(seen)) and len(seen) == 17, f"paging saw each certificate once ({len(seen)})")
    code = None
    try:
        stub.ListCertificates(inventory_pb2.ListCertificatesRequest(page_token="zz"), timeout=10)
    except grpc.RpcError as e:
        code = e.code(), e.details()
    check(code and code[0] == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in code[1], f"bad token: {code}")
    # the BASIC view: the summary fields equal the full view's, nothing else is sent
    basic_fields = ["sha256", "sha1", "subject", "issuer", "common_name", "serial", "not_before",
                    "not_after", "days_to_expiry", "key_type", "key_bits", "status", "group"]
    for req in (dict(expiring_within_days=60), dict(domain="example.com"), dict()):
        full = stub.ListCertificates(inventory_pb2.ListCertificatesRequest(**req), timeout=10).certificates
        basic = stub.ListCertificates(inventory_pb2.ListCertificatesRequest(
            view=inventory_pb2.CERTIFICATE_VIEW_BASIC, **req), timeout=10).certificates
        same = len(full) == len(basic) > 0 and all(
            getattr(f, k) == getattr(b, k) for f, b in zip(full, basic) for k in basic_fields)
        check(same and all(not b.dns_names and not b.signature_algorithm and not b.sources for b in basic),
              f"view BASIC {req}: {len(basic)} certificates, the summary of the full view's")
    code = None
    try:
        stub.ListCertificates(inventory_pb2.ListCertificatesRequest(view=7), timeout=10)
    except grpc.RpcError as e:
        code = e.code(), e.details()
    check(code and code[0] == grpc.StatusCode.INVALID_ARGUMENT and "view" in code[1], f"bad view: {code}")
    r = clmctl(d, "-o", "csv", "cert", "ls", "--expiring", "30")
    check(r.returncode == 0 and len(r.stdout.strip().splitlines()) == 4 and "host0.example.com" in r.stdout,
          f"cert ls as CSV (BASIC view): {r.stdout}{r.stderr}")
    # groups and updates
    clmctl(d, "group", "create", "Web", "--auto-renew", "30")
    first = ls(d)[0]["sha256"]
    r = clmctl(d, "cert", "set", "--status", "managed", "--group", "web", "--attr", "owner=ops", first)
    check(r.returncode == 0 and '"group": "Web"' in r.stdout and "MANAGED" in r.stdout, f"cert set: {r.stdout}{r.stderr}")
    check(len(ls(d, "--group", "Web")) == 1 and len(ls(d, "--status", "managed")) == 1, "filters by group and status")
    check(len(ls(d, "--attr", "owner=ops")) == 1 and len(ls(d, "--attr", "owner=dev")) == 0, "attribute filter")
    r = clmctl(d, "cert", "set", "--group", "nope", first)
    check(r.returncode != 0 and "group: no group named 'nope'" in r.stderr, "unknown group named")
    r = clmctl(d, "group", "rm", "Web")
    check(r.returncode != 0 and "1 certificates are in group 'Web'" in r.stderr, "group in use is kept")
    r = clmctl(d, "group", "rm", "Web", "--move-to", "Default")
    check(r.returncode == 0 and "1 certificates moved" in r.stdout, f"group rm --move-to: {r.stdout}{r.stderr}")
    check(cert_json(d, first)["group"] == "Default", "moved to Default")
    r = clmctl(d, "cert", "rm", first)
    check(r.returncode == 0 and cert_json(d, first) is None, "cert rm")
    r = clmctl(d, "cert", "show", "abcd")
    check(r.returncode != 0 and "INVALID_ARGUMENT: id:" in r.stderr, "bad id named")
    expired = len(ls(d, "--expired"))
    hist = json.loads(clmctl(d, "-o", "json", "report", "expiry", "--months", "12").stdout)
    total = int(hist.get("expired", 0)) + int(hist.get("later", 0)) + sum(int(b.get("count", 0)) for b in hist["buckets"])
    check(total == len(ls(d)) == 16 and int(hist.get("expired", 0)) == expired and len(hist["buckets"]) == 12,
          f"histogram: {hist}")
    s.stop()


def test_keys_and_export():
    pki = Pki()
    d = tmpdir()
    s = Clmd(d)
    leaf = pki.leaf("app.example.com")
    p12 = os.path.join(pki.dir, "app.p12")
    openssl("pkcs12", "-export", "-in", leaf, "-inkey", leaf.replace(".pem", ".key"), "-certfile",
            os.path.join(pki.dir, "ca.pem"), "-out", p12, "-passout", "pass:s3cret-pass")
    pw = os.path.join(pki.dir, "pw")
    with open(pw, "w") as f:
        f.write("wrong-pass\n")
    r = clmctl(d, "-o", "table", "cert", "import", "--keys", "--password-file", pw, p12)
    check(r.returncode != 0 and "wrong password" in r.stdout, f"wrong PFX password reported: {r.stdout}{r.stderr}")
    check(ls(d) == [], "nothing stored for a wrong password")
    with open(pw, "w") as f:
        f.write("s3cret-pass\n")
    r = clmctl(d, "-o", "table", "cert", "import", "--keys", "--password-file", pw, p12)
    check(r.returncode == 0 and "2 added" in r.stderr, f"PFX import: {r.stdout}{r.stderr}")
    sha = pki.facts(leaf)["sha256"]
    c = cert_json(d, sha)
    check(c["hasPrivateKey"] is True, "key stored")
    check("PRIVATE" not in json.dumps(c) and "PRIVATE" not in clmctl(d, "-o", "json", "cert", "ls").stdout,
          "no key material in show or ls")
    out = os.path.join(pki.dir, "out")
    r = clmctl(d, "cert", "export", "--format", "p7b", "--chain", "--out", out + ".p7b", sha)
    check(r.returncode == 0, f"export p7b: {r.stderr}")
    certs = openssl("pkcs7", "-inform", "DER", "-in", out + ".p7b", "-print_certs").stdout
    check(certs.count("BEGIN CERTIFICATE") == 2, "P7B holds the leaf and the CA found through AKI/SKI")
    r = clmctl(d, "cert", "export", "--format", "pfx", "--key", "--password-file", pw, "--out", out + ".pfx", sha)
    check(r.returncode == 0, f"export pfx: {r.stderr}")
    info = subprocess.run(["openssl", "pkcs12", "-in", out + ".pfx", "-passin", "pass:s3cret-pass", "-nodes"],
                          capture_output=True, text=True)
    check(info.returncode == 0 and "PRIVATE KEY" in info.stdout, "exported PFX opens with openssl")
    r = clmctl(d, "cert", "export", "--format", "der", "--out", out + ".der", sha)
    check(r.returncode == 0 and pki.facts(leaf)["sha256"] in
          openssl("x509", "-inform", "DER", "-in", out + ".der", "-noout", "-fingerprint", "-sha256").stdout.replace(":", "").lower(),
          "DER export is the certificate")
    r = clmctl(d, "cert", "export", "--format", "pfx", "--out", out + "2.pfx", sha)
    check(r.returncode != 0 and "include_private_key" in r.stderr, "PFX without a key refused")
    with open(pw, "w") as f:
        f.write("short\n")
    r = clmctl(d, "cert", "export", "--format", "pem", "--key", "--password-file", pw, "--out", out + "3.pem", sha)
    check(r.returncode != 0 and "password: at least 8" in r.stderr, "short export password refused")
    subprocess.run([CLMD, "issue-client", "--data-dir", d, "--role", "operator", "--cn", "op"], capture_output=True, check=True)
    prefix = os.path.join(d, "tls", "clients", "op")
    with open(pw, "w") as f:
        f.write("long-enough-pass\n")
    r = clmctl(d, "cert", "export", "--format", "pem", "--key", "--password-file", pw, "--out", out + "4.pem", sha,
               addr=f"localhost:{s.port}", extra_global=["--cert", prefix + ".pem", "--key", prefix + ".key"])
    check(r.returncode != 0 and "PERMISSION_DENIED" in r.stderr and "only an admin" in r.stderr,
          f"operator cannot export keys: {r.stderr}")
    audit = clmctl(d, "audit", "ls").stdout
    check(audit.count("ExportCertificate") >= 4 and "ImportCertificates" in audit, "imports and exports audited")
    check("s3cret" not in s.output() and "s3cret" not in audit, "passwords never logged")
    s.stop()


def test_import_stream():
    pki = Pki()
    d = tmpdir()
    s = Clmd(d)
    ch = grpc.insecure_channel(f"unix:{s.socket}")
    stub = inventory_pb2_grpc.InventoryStub(ch)
    blobs = [open(pki.leaf(f"stream{i}.example.org", days=30 + i), "rb").read() for i in range(7)]

    def msg(datas, **kw):
        items = [inventory_pb2.ImportItem(name=f"f{i}", data=x) for i, x in enumerate(datas)]
        return inventory_pb2.ImportCertificatesRequest(items=items, **kw)

    # three messages: one bad item, one certificate sent twice
    reqs = [msg(blobs[0:3] + [b"garbage"]), msg([blobs[3], blobs[0]]), msg([blobs[4]])]
    r = stub.ImportCertificatesStream(iter(reqs), timeout=30)
    check((r.added, r.merged, r.errors) == (5, 1, 1), f"stream totals: {r.added} {r.merged} {r.errors}")
    check(len(r.results) == 1 and r.results[0].item.startswith("message 0: f3") and r.results[0].outcome == "error",
          f"only failed items reported, named by message: {list(r.results)}")
    check(len(ls(d)) == 5, "five certificates stored")
    # many messages share commits; every certificate once
    r = stub.ImportCertificatesStream(iter([msg(blobs[0:5]) for _ in range(40)]), timeout=60)
    check((r.added, r.merged, r.errors) == (0, 200, 0) and len(ls(d)) == 5, f"200 merges: {r.added} {r.merged}")
    # a message that fails whole ends the stream; the ones before it stay
    code = None
    try:
        stub.ImportCertificatesStream(iter([msg([blobs[5]]), msg([blobs[6]], group="nope")]), timeout=30)
    except grpc.RpcError as e:
        code = e.code(), e.details()
    check(code and code[0] == grpc.StatusCode.NOT_FOUND and code[1].startswith("message 1: "), f"missing group: {code}")
    check(len(ls(d)) == 6 and cert_json(d, ls(d, "--name", "stream5")[0]["sha256"]) is not None, "message 0 kept")
    code = None
    try:
        stub.ImportCertificatesStream(iter([msg([b"x"] * 1001)]), timeout=30)
    except grpc.RpcError as e:
        code = e.code(), e.details()
    check(code and code[0] == grpc.StatusCode.INVALID_ARGUMENT and "message 0: items" in code[1], f"too many items: {code}")
    check(len(ls(d)) == 6, "nothing written by the refused message")
    # clmctl streams what does not fit one request: 1,050 files and a bad one
    many = os.path.join(d, "many")
    os.mkdir(many)
    paths = []
    for i in range(1050):
        paths.append(os.path.join(many, f"c{i:04}.pem"))
        with open(paths[-1], "wb") as f:
            f.write(blobs[i % 7])
    paths.append(os.path.join(many, "bad.pem"))
    with open(paths[-1], "wb") as f:
        f.write(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    r = clmctl(d, "-o", "table", "cert", "import", *paths)
    check(r.returncode == 1 and "1 added, 1049 merged, 1 errors (streamed in 2 messages" in r.stderr
          and "bad.pem" in r.stdout and "c0001.pem" not in r.stdout,
          f"clmctl cert import of 1,051 files: {r.returncode} {r.stderr} {r.stdout[:300]}")
    check(len(ls(d)) == 7, "the seventh certificate added")
    audit = clmctl(d, "audit", "ls").stdout
    check("ImportCertificatesStream" in audit, "stream audited")
    s.stop()


if __name__ == "__main__":
    run_cases([test_import_and_facts, test_queries_paging_and_updates, test_keys_and_export,
               test_import_stream])
