#!/usr/bin/env bash
# adapters/ca/acme/acme_test.sh [TEST_BINARY]: start three pebbles and
# pebble-challtestsrv on loopback (testdata/pebble.sh), run acme_test against them, stop
# them. See acme_test.c.
# Ports (this test's own; below 32768), shifted by ACME_TEST_PORT_OFFSET (default 0;
# boringssl_test.sh uses 10 so that both may run at once): ACME 14400-14402,
# management 15400-15402, http-01 5402 (the adapter's responder), challtestsrv DNS 8453
# and management 8455.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/acme_test_bin}
o=${ACME_TEST_PORT_OFFSET:-0}
source "$here/testdata/pebble.sh"
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/acme-test-XXXXXX")
trap 'pebble_stop_all; rm -rf "$dir"' EXIT
unset PEBBLE_WFE_NONCEREJECT PEBBLE_VA_NOSLEEP PEBBLE_VA_SLEEPTIME PEBBLE_ALTERNATE_ROOTS

http=$((5402 + o)) dns=$((8453 + o))
# An EAB MAC key as CAs give them: base64url without padding.
eab_key=$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')
pebble_certs "$dir" &&
    challtestsrv_start "$dir" "$dns" $((8455 + o)) &&
    PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_ALTERNATE_ROOTS=1 \
        pebble_start "$dir" a $((14400 + o)) $((15400 + o)) "$http" "$dns" &&
    PEBBLE_VA_NOSLEEP=1 pebble_start "$dir" b $((14401 + o)) $((15401 + o)) "$http" "$dns" \
        kid-1 "$eab_key" &&
    PEBBLE_VA_SLEEPTIME=4 PEBBLE_WFE_NONCEREJECT=0 \
        pebble_start "$dir" c $((14402 + o)) $((15402 + o)) "$http" "$dns" ||
    { echo "0 passed, 1 failed (pebble did not start)"; exit 1; }

ACME_A_URL=https://127.0.0.1:$((14400 + o))/dir ACME_B_URL=https://127.0.0.1:$((14401 + o))/dir \
ACME_C_URL=https://127.0.0.1:$((14402 + o))/dir ACME_CA_FILE=$dir/root.pem \
ACME_MGMT_A=$((15400 + o)) ACME_HTTP_PORT=$http ACME_EAB_KID=kid-1 ACME_EAB_KEY=$eab_key \
ACME_TMP=$dir "$bin"
