#!/bin/sh
# adapters/ca/acme/boringssl_test.sh: the ACME adapter with what it builds on
# (adapters/ca, lib/http, lib/pki, lib/base) compiled against Debian's Android
# BoringSSL (tests/boringssl/common.sh); jws_test and the pebble test (acme_test.sh,
# ports shifted by 10) run on it: JWS, TLS to pebble, CSRs and chains all on BoringSSL.
set -eu
# shellcheck source=/dev/null
. "$(dirname "$(readlink -f "$0")")/../../../tests/boringssl/common.sh"

bssl_init libssl.so adapters/ca/acme/jws.c
# lib/dnsupdate (the dns-01 solver's updates) is compiled here too; libldns itself comes
# as Debian's shared library, which brings the OpenSSL it is built on (its symbols are
# versioned, so they do not mix with BoringSSL's).
srcs="$root/adapters/adapter.c $(bssl_sources adapters/ca adapters/ca/acme lib/dnsupdate lib/http lib/pki)
    $(bssl_base_srcs)"
objs=""
for f in $srcs; do
    o="$out/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
    # shellcheck disable=SC2086
    gcc $bssl_cflags -I"$bssl_inc" -I"$root" -c "$f" -o "$o"
    objs="$objs $o"
done
for t in jws_test acme_test; do
    # shellcheck disable=SC2086
    bssl_compile "$out/$t" "$root/adapters/ca/acme/$t.c" $objs -lssl -lhttp_parser -ljansson -lldns
done
bssl_check_loads "$out/acme_test" libssl.so

BSSL_SHOW="grep -E ^FAIL"
bssl_run "$out/jws_test"
echo "jws_test (BoringSSL): $(tail -n 1 "$out/run.log")"
ACME_TEST_PORT_OFFSET=10 bssl_run bash "$root/adapters/ca/acme/acme_test.sh" "$out/acme_test"
echo "acme_test (BoringSSL): $(tail -n 1 "$out/run.log")"
bssl_finish "the ACME adapter's tests on BoringSSL"
