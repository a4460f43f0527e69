#!/bin/sh
# lib/pki/boringssl_test.sh: lib/pki and lib/base built against Debian's Android
# BoringSSL (tests/boringssl/common.sh), with pki_test, read_test, chain_test and
# csr_test run on it. pki_test is also built against the system OpenSSL 3, and each
# library reads the PKCS#12 the other one wrote.
set -eu
# shellcheck source=/dev/null
. "$(dirname "$(readlink -f "$0")")/../../tests/boringssl/common.sh"

bssl_init libcrypto.so lib/pki/cert.c
lib_srcs="$(bssl_sources lib/pki) $(bssl_base_srcs)"
tests="pki_test read_test chain_test csr_test"

# One archive per library: the same objects compiled against each one's headers.
build_lib() {
    dir=$1
    shift
    mkdir -p "$dir"
    objs=""
    for f in $lib_srcs; do
        o="$dir/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
        # shellcheck disable=SC2086
        gcc $bssl_cflags "$@" -I"$root" -c "$f" -o "$o"
        objs="$objs $o"
    done
    # shellcheck disable=SC2086
    ar rcs "$dir/libpki.a" $objs
}
build_lib "$out/b" -I"$bssl_inc"
build_lib "$out/o"
for t in $tests; do
    bssl_compile "$out/${t}_boringssl" "$root/lib/pki/$t.c" "$out/b/libpki.a"
done
# shellcheck disable=SC2086
gcc $bssl_cflags -I"$root" "$root/lib/pki/pki_test.c" "$out/o/libpki.a" -lcrypto -pthread \
    -o "$out/pki_test_openssl"
bssl_check_loads "$out/pki_test_boringssl" libcrypto.so

mkdir -p "$out/from_openssl" "$out/from_boringssl"
bssl_run env CLM_PKI_EXPORT_DIR="$out/from_openssl" "$out/pki_test_openssl"
bssl_run env CLM_PKI_IMPORT_DIR="$out/from_openssl" CLM_PKI_EXPORT_DIR="$out/from_boringssl" \
    "$out/pki_test_boringssl"
bssl_run env CLM_PKI_IMPORT_DIR="$out/from_boringssl" "$out/pki_test_openssl"
aes_pfx=""
if command -v openssl >/dev/null &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=aes \
        -days 30 -keyout "$out/aes.key" -out "$out/aes.crt" >/dev/null 2>&1 &&
    openssl pkcs12 -export -in "$out/aes.crt" -inkey "$out/aes.key" -passout pass:Aes-pass1 \
        -out "$out/aes.p12" >/dev/null 2>&1; then
    aes_pfx=$out/aes.p12
fi
for t in $tests; do
    [ "$t" = pki_test ] || bssl_run env CLM_PKI_AES_PFX="$aes_pfx" "$out/${t}_boringssl"
done
bssl_finish "OpenSSL, BoringSSL, OpenSSL reading BoringSSL's PKCS#12, other tests on BoringSSL"
