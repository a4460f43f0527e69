#!/usr/bin/python3
"""tests/corpus/facts_cli_test.py: every certificate fact lib/pki extracted from the
corpus (facts.jsonl, written by lib/pki/corpus_check) equals what the openssl CLI prints
for the same DER file:

    openssl x509 -noout -text -subject -issuer -serial -dates -fingerprint -sha256 \\
        -nameopt RFC2253,-esc_msb          and      -noout -fingerprint -sha1

Compared: version, subject, issuer, serial, notBefore/notAfter, SHA-1 and SHA-256
fingerprints, signature algorithm, key algorithm, size and curve, subjectAltName (DNS,
IP, email, URI), keyUsage, extendedKeyUsage, basicConstraints, subject and authority
key identifiers, authorityInfoAccess (OCSP, CA issuers), CRL distribution points, and
self-signed against subject == issuer. The Microsoft template extensions are opaque to
the CLI: only their presence is compared.

Usage: facts_cli_test.py OUT_DIR     Ends with the line "N passed, N failed".
"""
import calendar
import ipaddress
import json
import os
import subprocess
import sys
import time

KEY_USAGE = ["Digital Signature", "Non Repudiation", "Key Encipherment", "Data Encipherment",
             "Key Agreement", "Certificate Sign", "CRL Sign", "Encipher Only", "Decipher Only"]
KEY_ALG = {"rsaEncryption": "RSA", "rsassaPss": "RSA-PSS", "id-ecPublicKey": "EC",
           "ED25519": "ED25519", "ED448": "ED448", "dsaEncryption": "DSA"}

passed = 0
failed = 0


def check(where, field, got, want):
    global passed, failed
    if got == want:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {where}: {field}: clm {got!r}, openssl {want!r}")


def openssl(*args):
    out = subprocess.run(["openssl", "x509", "-inform", "DER", *args], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    return out.decode("utf-8", "surrogateescape")


def extensions(text):
    """{header: [value lines]} of the "X509v3 extensions:" part of -text."""
    blocks, current = {}, None
    inside = False
    for line in text.splitlines():
        if line.strip() == "X509v3 extensions:":
            inside = True
            continue
        if not inside:
            continue
        if not line.startswith(" " * 12) or line.startswith("    Signature"):
            if not line.startswith(" " * 12):
                break
        if line.startswith(" " * 12) and not line.startswith(" " * 13):
            header = line.strip()
            for suffix in (": critical", ":"):
                if header.endswith(suffix):
                    header = header[: -len(suffix)].rstrip()
                    break
            current = blocks.setdefault(header, [])
        elif current is not None:
            current.append(line.strip())
    return blocks


def field(text, prefix):
    for line in text.splitlines():
        if line.strip().startswith(prefix):
            return line.strip()[len(prefix):].strip()
    return None


def epoch(value):
    return calendar.timegm(time.strptime(" ".join(value.split()), "%b %d %H:%M:%S %Y GMT"))


def hexid(value):
    return value.replace("keyid:", "").replace(":", "").lower() if value else None


def ip_text(value):
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def compare(f, out_dir):
    where = f"{f['file']} {os.path.basename(f['der'])[:16]}"
    der = os.path.join(out_dir, f["der"])
    text = openssl("-in", der, "-noout", "-text", "-subject", "-issuer", "-serial", "-dates",
                   "-fingerprint", "-sha256", "-nameopt", "RFC2253,-esc_msb")
    sha1 = openssl("-in", der, "-noout", "-fingerprint", "-sha1")
    tail = {}
    for line in text.splitlines():
        for key in ("subject=", "issuer=", "serial=", "notBefore=", "notAfter=",
                    "sha256 Fingerprint="):
            if line.startswith(key):
                tail[key] = line[len(key):]
    check(where, "version", f["version"], int(field(text, "Version:").split()[0]))
    check(where, "subject", f["subject"], tail.get("subject="))
    check(where, "issuer", f["issuer"], tail.get("issuer="))
    check(where, "serial", f["serial"], tail.get("serial="))
    check(where, "not_before", f["not_before"], epoch(tail["notBefore="]))
    check(where, "not_after", f["not_after"], epoch(tail["notAfter="]))
    check(where, "sha256", f["sha256"], tail["sha256 Fingerprint="].replace(":", "").lower())
    check(where, "sha1", f["sha1"], sha1.split("=", 1)[1].strip().replace(":", "").lower())
    check(where, "signature_algorithm", f["signature_algorithm"],
          field(text, "Signature Algorithm:"))
    alg = field(text, "Public Key Algorithm:")
    check(where, "key_alg", f["key_alg"], KEY_ALG.get(alg, "unknown"))
    bits = field(text, "Public-Key: (")
    if bits is not None:
        check(where, "key_bits", f["key_bits"], int(bits.split()[0]))
    curve = field(text, "NIST CURVE:") or field(text, "ASN1 OID:")
    check(where, "key_curve", f["key_curve"], curve)

    ext = extensions(text)
    dns, ips, emails, uris = [], [], [], []
    for item in " ".join(ext.get("X509v3 Subject Alternative Name", [])).split(", "):
        kind, _, value = item.partition(":")
        if kind == "DNS":
            dns.append(value)
        elif kind == "IP Address":
            ips.append(ip_text(value))
        elif kind == "email":
            emails.append(value)
        elif kind == "URI":
            uris.append(value)
    check(where, "dns_names", f["dns"], dns)
    check(where, "ip_addresses", [ip_text(v) for v in f["ip"]], ips)
    check(where, "emails", f["email"], emails)
    check(where, "uris", f["uri"], uris)

    ku = ext.get("X509v3 Key Usage")
    check(where, "has_key_usage", f["has_key_usage"], ku is not None)
    if ku is not None:
        names = [n for n in " ".join(ku).split(", ") if n]
        check(where, "key_usage", [KEY_USAGE[i] for i in range(9) if f["key_usage"] >> i & 1],
              names)
    eku = ext.get("X509v3 Extended Key Usage")
    check(where, "ext_key_usage", f["eku_text"],
          [n for n in " ".join(eku).split(", ") if n] if eku else [])
    bc = ext.get("X509v3 Basic Constraints")
    check(where, "has_basic_constraints", f["has_basic_constraints"], bc is not None)
    if bc is not None:
        parts = " ".join(bc).split(", ")
        check(where, "is_ca", f["is_ca"], parts[0] == "CA:TRUE")
        path = [p for p in parts if p.startswith("pathlen:")]
        check(where, "path_len", f["path_len"], int(path[0][8:]) if path else -1)
    ski = ext.get("X509v3 Subject Key Identifier")
    check(where, "subject_key_id", f["ski"], hexid(ski[0]) if ski else None)
    aki = ext.get("X509v3 Authority Key Identifier")
    keyid = [v for v in aki or [] if v.startswith("keyid:") or ":" in v and "=" not in v
             and not v.startswith(("DirName", "serial", "DNS", "URI"))]
    check(where, "authority_key_id", f["aki"], hexid(keyid[0]) if keyid else None)
    aia = ext.get("Authority Information Access", [])
    check(where, "ocsp_uris", f["ocsp"],
          [v.split("URI:", 1)[1] for v in aia if v.startswith("OCSP - URI:")])
    check(where, "ca_issuer_uris", f["ca_issuers"],
          [v.split("URI:", 1)[1] for v in aia if v.startswith("CA Issuers - URI:")])
    crl = ext.get("X509v3 CRL Distribution Points", [])
    check(where, "crl_uris", f["crl"], [v[4:] for v in crl if v.startswith("URI:")])
    check(where, "template_present", f["template_oid"] is not None,
          "1.3.6.1.4.1.311.21.7" in ext)
    check(where, "template_name_present", f["template_name"] is not None,
          "1.3.6.1.4.1.311.20.2" in ext)
    check(where, "self_signed", f["self_signed"], tail.get("subject=") == tail.get("issuer="))
    check(where, "bad_extensions", f["bad_extensions"], 0)


def main():
    out_dir = sys.argv[1]
    n = 0
    with open(os.path.join(out_dir, "facts.jsonl"), encoding="utf-8",
              errors="surrogateescape") as lines:
        for line in lines:
            compare(json.loads(line), out_dir)
            n += 1
    print(f"compared {n} certificates with the openssl CLI")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
