#!/bin/sh
# adapters/tls/boringssl_test.sh: the probe (adapters/tls, lib/pki, lib/base) and its
# tests, with the real nginx fixture of tests/tls, built against Debian's Android
# BoringSSL (tests/boringssl/common.sh) and run on it: the probe keeps to the API
# OpenSSL 3 and BoringSSL share. Reads the sources from the repository (CLM_REPO, which
# tools/test sets, else this script's checkout).
set -eu
# shellcheck source=/dev/null
. "$(dirname "$(readlink -f "$0")")/../../tests/boringssl/common.sh"

bssl_init libssl.so adapters/tls/probe.c
bssl_cflags=$(echo "$bssl_cflags" | sed 's/-O1/-O2/') # the sweep test measures time
srcs="$root/adapters/adapter.c $(bssl_sources adapters/tls lib/pki) $(bssl_base_srcs)
    $root/tests/tls/fixture_pki.c $root/tests/tls/fixture_servers.c $root/tests/tls/fixture_sweep.c"
objs=""
for f in $srcs; do
    o="$out/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
    # shellcheck disable=SC2086
    gcc $bssl_cflags -I"$bssl_inc" -I"$root" -c "$f" -o "$o"
    objs="$objs $o"
done
tests="adapters/tls/targets_test adapters/tls/starttls_test tests/tls/probe_test
    tests/tls/sweep_test"
for t in $tests; do
    # shellcheck disable=SC2086
    bssl_compile "$out/$(basename "$t")" "$root/$t.c" $objs -lssl
done
bssl_check_loads "$out/sweep_test" libssl.so

BSSL_SHOW="tail -n 8"
for t in $tests; do
    echo "== $t on BoringSSL"
    bssl_run "$out/$(basename "$t")"
done
bssl_finish "the probe's tests on BoringSSL"
