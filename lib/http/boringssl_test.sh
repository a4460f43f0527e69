#!/bin/sh
# lib/http/boringssl_test.sh: lib/http and lib/base built against Debian's Android
# BoringSSL (tests/boringssl/common.sh), with parse_test and the loopback tests
# (http_test, tls_test, retry_test) run on it. Each starts its own server
# (http_test_server.h), so the handshakes, verification failures and mutual TLS all run
# on BoringSSL.
set -eu
# shellcheck source=/dev/null
. "$(dirname "$(readlink -f "$0")")/../../tests/boringssl/common.sh"

bssl_init libssl.so lib/http/conn.c
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
