#!/bin/sh
# lib/dnsupdate/testdata/dns_test_server.sh: a real bind9 on loopback for the dnsupdate
# tests (and the ACME dns-01 tests), configured in a fresh directory.
#
# Usage: dns_test_server.sh DIR PORT [NAME ...]
#   DIR   an empty directory for the configuration, zones, keys and journals
#   PORT  the UDP and TCP port on 127.0.0.1 (the caller picks one below 32768)
#   NAME  extra names under example.test (e.g. "acme1.example.test"): each gets
#         "NAME. A 127.0.0.1" and a grant for clm-key on "_acme-challenge.NAME. TXT"
#
# Zones: example.test and its child zone sub.example.test (the SOA walk must find the
# deeper one). Keys (tsig-keygen): clm-key (hmac-sha256), clm-key-512 (hmac-sha512),
# other-key (hmac-sha256, known to named but granted nothing). Each key's secret is
# also written alone to DIR/KEYNAME.secret for the test to read.
# Grants: clm-key and clm-key-512 on _acme-challenge.www.example.test. TXT and
# _acme-challenge.example.test. TXT; clm-key on _acme-challenge.host.sub.example.test.
# TXT. Nothing else (_acme-challenge.other.example.test is not granted).
#
# Ends by exec'ing `named -g` (foreground, logs to stderr): the caller's child is named
# itself, stopped with SIGTERM.
set -eu
dir=$1
port=$2
shift 2

for spec in clm-key:hmac-sha256 clm-key-512:hmac-sha512 other-key:hmac-sha256; do
    name=${spec%%:*}
    alg=${spec#*:}
    tsig-keygen -a "$alg" "$name" >"$dir/$name.key"
    sed -n 's/^[[:space:]]*secret "\(.*\)";/\1/p' "$dir/$name.key" >"$dir/$name.secret"
done

extra_grants=
extra_records=
for name in "$@"; do
    extra_grants="$extra_grants
        grant clm-key name _acme-challenge.$name. TXT;"
    extra_records="$extra_records
$name. A 127.0.0.1"
done

cat >"$dir/example.test.zone" <<ZONE
\$TTL 60
@ SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@ NS ns.example.test.
@ A 127.0.0.1
ns A 127.0.0.1
www A 127.0.0.1
sub NS ns.example.test.
$extra_records
ZONE

cat >"$dir/sub.example.test.zone" <<ZONE
\$TTL 60
@ SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@ NS ns.example.test.
host A 127.0.0.1
ZONE

cat >"$dir/named.conf" <<CONF
include "$dir/clm-key.key";
include "$dir/clm-key-512.key";
include "$dir/other-key.key";
options {
    directory "$dir";
    pid-file none;
    session-keyfile "$dir/session.key";
    managed-keys-directory "$dir";
    listen-on port $port { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    notify no;
};
controls { };
zone "example.test" {
    type primary;
    file "$dir/example.test.zone";
    update-policy {
        grant clm-key name _acme-challenge.www.example.test. TXT;
        grant clm-key name _acme-challenge.example.test. TXT;
        grant clm-key-512 name _acme-challenge.www.example.test. TXT;
        grant clm-key-512 name _acme-challenge.example.test. TXT;$extra_grants
    };
};
zone "sub.example.test" {
    type primary;
    file "$dir/sub.example.test.zone";
    update-policy {
        grant clm-key name _acme-challenge.host.sub.example.test. TXT;
    };
};
CONF

exec named -g -n 1 -c "$dir/named.conf"
