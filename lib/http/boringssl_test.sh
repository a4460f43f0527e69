#!/bin/sh
# lib/http/boringssl_test.sh: lib/http and lib/base built against Debian's Android
# BoringSSL (tests/boringssl/common.sh), with parse_test and the loopback tests
# (http_test, tls_test, retry_test) run on it. Each starts its own server
# (http_test_server.h), so the handshakes, verification failures and mutual TLS all run
# on BoringSSL.
set -eu
# Find tests/boringssl/common.sh beside the sources: the runfiles under `bazel test`
# when they hold the sources, else CLM_REPO, else the checkout this script is in.
common=tests/boringssl/common.sh
need=lib/http/conn.c
BSSL_ROOT=$(dirname "$(readlink -f "$0")")
while [ "$BSSL_ROOT" != / ] && [ ! -f "$BSSL_ROOT/$common" ]; do
    BSSL_ROOT=$(dirname "$BSSL_ROOT")
done
for d in "${TEST_SRCDIR:-/-}/${TEST_WORKSPACE:-clm}" "${CLM_REPO:-/-}"; do
    if [ -f "$d/$common" ] && [ -f "$d/$need" ]; then
        BSSL_ROOT=$d
        break
    fi
done
# shellcheck source=/dev/null
. "$BSSL_ROOT/$common"

bssl_init libssl.so
srcs="$(bssl_sources lib/http) $(bssl_base_srcs)"
for t in parse_test http_test tls_test retry_test; do
    # shellcheck disable=SC2086
    bssl_compile "$out/${t}_boringssl" "$root/lib/http/$t.c" $srcs -lssl -lhttp_parser
done
bssl_check_loads "$out/http_test_boringssl" libssl.so

BSSL_SHOW="grep -v level=warn"
bssl_run "$out/parse_test_boringssl"
for t in http_test tls_test retry_test; do
    bssl_run "$out/${t}_boringssl"
done
bssl_finish "parse_test and the loopback tests on BoringSSL"
