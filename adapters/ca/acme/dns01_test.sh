#!/usr/bin/env bash
# adapters/ca/acme/dns01_test.sh [TEST_BINARY] [DNS_SERVER_SCRIPT]: bind9 for example.test
# (lib/dnsupdate/testdata/dns_test_server.sh) and a pebble that validates dns-01 by
# asking it (testdata/pebble.sh, -dnsserver), then dns01_test against both; stops both.
# Ports (below 32768): pebble ACME 14460 and management 15460 (this test's own), http-01
# 5464 (pebble wants one; nothing listens there); bind9 a free one picked at start.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/dns01_test_bin}
dns_script=${2:-$here/../../../lib/dnsupdate/testdata/dns_test_server.sh}
source "$here/testdata/pebble.sh"
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/dns01-test-XXXXXX")
mkdir "$dir/named"
named_pid=
stop() {
    pebble_stop_all
    if [ -n "$named_pid" ]; then
        kill "$named_pid" 2>/dev/null
        wait "$named_pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap stop EXIT
unset PEBBLE_WFE_NONCEREJECT PEBBLE_VA_NOSLEEP PEBBLE_VA_SLEEPTIME PEBBLE_ALTERNATE_ROOTS

# named on a free port below 32768, picked at random: named keeps running when it cannot
# bind (it logs "address in use"), so its own log decides, and another port is tried.
# Names the key clm-key may update the _acme-challenge TXT of (dns01-x is not granted).
start_named() {
    local i
    dns=$((20000 + RANDOM % 12000))
    rm -rf "$dir/named" && mkdir "$dir/named"
    sh "$dns_script" "$dir/named" "$dns" dns01-a.example.test dns01-b.example.test \
        dns01-c.example.test >"$dir/named.log" 2>&1 &
    named_pid=$!
    for i in $(seq 1 100); do
        if grep -q "address in use\|could not listen" "$dir/named.log"; then break; fi
        if grep -q "running$" "$dir/named.log"; then return 0; fi
        kill -0 "$named_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$named_pid" 2>/dev/null
    wait "$named_pid" 2>/dev/null
    named_pid=
    return 1
}
started=0
for attempt in 1 2 3 4 5; do
    if start_named; then started=1; break; fi
done
if [ $started -ne 1 ]; then
    cat "$dir/named.log" >&2
    echo "0 passed, 1 failed (named did not start)"
    exit 1
fi
pebble_certs "$dir" &&
    PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
        pebble_start "$dir" p 14460 15460 5464 "$dns" ||
    { echo "0 passed, 1 failed (pebble did not start)"; exit 1; }

ACME_URL=https://127.0.0.1:14460/dir ACME_CA_FILE=$dir/root.pem \
DNS01_DNS_PORT=$dns DNS01_DNS_DIR=$dir/named "$bin"
status=$?
if [ $status -ne 0 ]; then
    echo "--- named.log" >&2; tail -40 "$dir/named.log" >&2
    echo "--- pebble p.log" >&2; tail -40 "$dir/p.log" >&2
fi
exit $status
