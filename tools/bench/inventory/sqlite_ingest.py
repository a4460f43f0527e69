#!/usr/bin/python3
"""tools/bench/inventory/sqlite_ingest.py: the SQLite baseline of the inventory benchmark.

    sqlite_ingest.py CORPUS TSV DB [--count N] [--batch B] [--cache-mib M]

Loads the corpus (DER, from the corpus file) with the facts that store_ingest export
extracted (TSV, same order) into a new SQLite database with indexes equivalent to
clm's (appliance/inventory/tables.h):

  sha256 unique | sha1 | expiry (not_after) | issuer_serial (SHA-256 of the issuer, serial)
  | names (table cert_names: CN and DNS SAN keys, labels reversed; primary key
  (name, cert_id)) | common_name (lower-cased) | group | status | source device
  (partial: devices that are set) | attribute key | ski

Sources and attributes sit in tables clustered by certificate id (WITHOUT ROWID),
as clm keeps them inside the record. Durable: journal_mode=WAL, synchronous=FULL (every
COMMIT is fsync'd). One transaction per B certificates (default 1000) with executemany.
Only the SQL (executemany and COMMIT) is timed; turning TSV lines into rows is
reported apart. Prints one "result key=value ..." line.
"""
import argparse
import mmap
import os
import struct
import sys
import time

import sqlite3

SCHEMA = """
CREATE TABLE certificates (
  id INTEGER PRIMARY KEY,
  sha256 BLOB NOT NULL UNIQUE,
  sha1 BLOB NOT NULL,
  der BLOB NOT NULL,
  subject TEXT, issuer TEXT, common_name TEXT, cn_lower TEXT,
  dns_names TEXT, ip_addresses TEXT, serial TEXT,
  not_before INTEGER, not_after INTEGER, issuer_hash BLOB,
  key_type TEXT, key_bits INTEGER, key_curve TEXT, signature_algorithm TEXT,
  ski BLOB, aki BLOB, key_usage TEXT, ext_key_usage TEXT,
  ocsp_urls TEXT, ca_issuer_urls TEXT, crl_urls TEXT, template_name TEXT,
  is_ca INTEGER, self_signed INTEGER, version INTEGER, path_length INTEGER,
  status INTEGER NOT NULL, group_id INTEGER NOT NULL,
  created_at INTEGER, updated_at INTEGER
);
CREATE TABLE cert_names (name TEXT NOT NULL, cert_id INTEGER NOT NULL,
  PRIMARY KEY (name, cert_id)) WITHOUT ROWID;
CREATE TABLE cert_sources (cert_id INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT,
  device TEXT, location TEXT, by_whom TEXT, first_seen INTEGER, last_seen INTEGER,
  PRIMARY KEY (cert_id, seq)) WITHOUT ROWID;
CREATE TABLE cert_attributes (cert_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT,
  PRIMARY KEY (cert_id, key)) WITHOUT ROWID;
CREATE INDEX certificates_sha1 ON certificates (sha1);
CREATE INDEX certificates_expiry ON certificates (not_after);
CREATE INDEX certificates_issuer_serial ON certificates (issuer_hash, serial);
CREATE INDEX certificates_common_name ON certificates (cn_lower);
CREATE INDEX certificates_group ON certificates (group_id);
CREATE INDEX certificates_status ON certificates (status);
CREATE INDEX certificates_ski ON certificates (ski);
CREATE INDEX cert_sources_device ON cert_sources (device) WHERE device <> '';
CREATE INDEX cert_attributes_key ON cert_attributes (key);
"""

INSERT_CERT = "INSERT INTO certificates VALUES (" + ",".join("?" * 34) + ")"


def written_bytes():
    """Bytes this process caused to be written to storage (/proc/self/io)."""
    try:
        with open("/proc/self/io") as f:
            for line in f:
                if line.startswith("write_bytes: "):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def corpus_blobs(path, count):
    f = open(path, "rb")
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    if m[:8] != b"CLMCORP1":
        sys.exit("sqlite_ingest: %s is not a corpus file" % path)
    total = struct.unpack_from("<Q", m, 8)[0]
    n = min(total, count) if count else total
    view = memoryview(m)
    off = 16
    for _ in range(n):
        (length,) = struct.unpack_from("<I", m, off)
        yield view[off + 4:off + 4 + length]
        off += 4 + length


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("tsv")
    ap.add_argument("db")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--cache-mib", type=int, default=256)
    a = ap.parse_args()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(a.db + suffix):
            os.unlink(a.db + suffix)
    con = sqlite3.connect(a.db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA cache_size=%d" % (-a.cache_mib * 1024))
    con.executescript(SCHEMA)
    settings = "journal_mode=%s synchronous=%s page_size=%s cache_size=%s wal_autocheckpoint=%s" % (
        con.execute("PRAGMA journal_mode").fetchone()[0],
        con.execute("PRAGMA synchronous").fetchone()[0],
        con.execute("PRAGMA page_size").fetchone()[0],
        con.execute("PRAGMA cache_size").fetchone()[0],
        con.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    now_ns = time.time_ns()
    sql_s = prep_s = 0.0
    n = 0
    batch_no = 0
    tsv = open(a.tsv, "r", encoding="utf-8")
    blobs = corpus_blobs(a.corpus, a.count)
    t_start = time.monotonic()
    done = False
    while not done:
        t0 = time.monotonic()
        certs, names, sources, attrs = [], [], [], []
        value = "CC%d" % (batch_no % 50)
        for _ in range(a.batch):
            line = tsv.readline()
            if not line or (a.count and n >= a.count):
                done = True
                break
            der = next(blobs)
            f = line.rstrip("\n").split("\t")
            n += 1
            cid = n
            certs.append((cid, bytes.fromhex(f[0]), bytes.fromhex(f[1]), der, f[6], f[7], f[8],
                          f[9], f[10], f[11], f[5], int(f[2]), int(f[3]), bytes.fromhex(f[4]),
                          f[13], int(f[14]), f[15], f[16], bytes.fromhex(f[17]),
                          bytes.fromhex(f[18]), f[19], f[20], f[21], f[22], f[23], f[24],
                          int(f[25]), int(f[26]), int(f[27]), int(f[28]), 2, 1, now_ns, now_ns))
            if f[12]:
                for key in f[12].split(","):
                    names.append((key, cid))
            sources.append((cid, 0, "imported", "", "", "bench", now_ns, now_ns))
            attrs.append((cid, "cost_centre", value))
        t1 = time.monotonic()
        prep_s += t1 - t0
        if certs:
            con.execute("BEGIN")
            con.executemany(INSERT_CERT, certs)
            con.executemany("INSERT INTO cert_names VALUES (?,?)", names)
            con.executemany("INSERT INTO cert_sources VALUES (?,?,?,?,?,?,?,?)", sources)
            con.executemany("INSERT INTO cert_attributes VALUES (?,?,?)", attrs)
            con.execute("COMMIT")
            batch_no += 1
        sql_s += time.monotonic() - t1
    wall = time.monotonic() - t_start
    t2 = time.monotonic()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint_s = time.monotonic() - t2
    con.close()
    size = os.path.getsize(a.db)
    print("result mode=sqlite certs=%d seconds=%.3f rate=%.0f prep_seconds=%.3f wall_seconds=%.3f "
          "checkpoint_seconds=%.3f db_bytes=%d written_bytes=%d batch=%d sqlite=%s %s"
          % (n, sql_s, n / sql_s if sql_s else 0, prep_s, wall, checkpoint_s, size,
             written_bytes(), a.batch,
             sqlite3.sqlite_version, "sqlite_" + settings.replace(" ", " sqlite_")))


if __name__ == "__main__":
    main()
