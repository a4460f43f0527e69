#!/bin/sh
# adapters/ca/local/boringssl_test.sh: the CA adapters (adapters/ca, adapters/ca/local,
# lib/pki, lib/base) and their tests built against Debian's Android BoringSSL
# (tests/boringssl/common.sh) and run on it: the local CA keeps to the API OpenSSL 3
# and BoringSSL share. Reads the sources from the repository (CLM_REPO, which
# tools/test sets, else this script's checkout).
set -eu
# shellcheck source=/dev/null
. "$(dirname "$(readlink -f "$0")")/../../../tests/boringssl/common.sh"

bssl_init libcrypto.so adapters/ca/local/local.c
bssl_cflags=$(echo "$bssl_cflags" | sed 's/-O1/-O2/')
srcs="$root/adapters/adapter.c $(bssl_sources adapters/ca adapters/ca/local lib/pki)
    $(bssl_base_srcs)"
objs=""
for f in $srcs; do
    o="$out/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
    # shellcheck disable=SC2086
    gcc $bssl_cflags -I"$bssl_inc" -I"$root" -c "$f" -o "$o"
    objs="$objs $o"
done
tests="adapters/ca/fields_test adapters/ca/local/local_test adapters/ca/local/revoke_test"
for t in $tests; do
    # shellcheck disable=SC2086
    bssl_compile "$out/$(basename "$t")" "$root/$t.c" $objs
done
bssl_check_loads "$out/local_test" libcrypto.so

BSSL_SHOW="grep -E ^FAIL"
for t in $tests; do
    bssl_run "$out/$(basename "$t")"
    echo "$t (BoringSSL): $(tail -n 1 "$out/run.log")"
done
bssl_finish "the CA adapters' tests on BoringSSL"
