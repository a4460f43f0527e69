#!/bin/sh
# lib/pki/boringssl_test.sh: build every source of lib/pki and lib/base, and the unit
# tests pki_test, read_test, chain_test and csr_test, with gcc against Debian's Android
# BoringSSL (android-libboringssl-dev) and run them, so lib/pki stays in the API subset
# that OpenSSL 3 and BoringSSL share (TOOLCHAIN.md).
#
# Linked dynamically with an rpath: `-static` with the android -L silently picks
# OpenSSL's libcrypto.a from the default path, and the test would prove nothing. The
# script also checks with ldd that the binary really loads the android libcrypto.
#
# It also builds the same test against the system OpenSSL 3 and has each library read
# the PKCS#12 that the other one wrote.
#
# Usage: boringssl_test.sh [source root]   (under `bazel test`, the runfiles tree)
# Ends with the plain "N passed, N failed" line of tests/unit.h.
set -eu

inc=/usr/include/android
lib=/usr/lib/x86_64-linux-gnu/android

root=${1:-}
if [ -z "$root" ]; then
    if [ -n "${TEST_SRCDIR:-}" ] && [ -d "$TEST_SRCDIR/${TEST_WORKSPACE:-clm}" ]; then
        root=$TEST_SRCDIR/${TEST_WORKSPACE:-clm}
    else
        root=$(cd "$(dirname "$0")/../.." && pwd)
    fi
fi

if [ ! -f "$inc/openssl/is_boringssl.h" ] || [ ! -e "$lib/libcrypto.so" ]; then
    # A skipped test would claim a portability it never checked: fail unless told not to.
    if [ "${CLM_ALLOW_NO_BORINGSSL:-0}" = 1 ]; then
        echo "SKIP: android-libboringssl-dev is not installed (CLM_ALLOW_NO_BORINGSSL=1)"
        echo "0 passed, 0 failed"
        exit 0
    fi
    echo "BoringSSL not found in $inc and $lib: apt-get install android-libboringssl-dev" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

out=${TEST_TMPDIR:-$(mktemp -d)}/boringssl
mkdir -p "$out"

# Same warning set as bazel/clm.bzl, so a construct that only one library accepts
# (a const mismatch, a signedness change) fails here too.
cflags="-std=c11 -O1 -g -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow
    -Wstrict-prototypes -Wmissing-prototypes -Werror -Wno-format-truncation"

# Every source of the library (not the tests, fuzz targets and tools), and lib/base.
lib_srcs=""
for f in "$root"/lib/pki/*.c; do
    case $(basename "$f") in
    *_test.c | *_fuzz.c | facts_bench.c | corpus_check.c) ;;
    *) lib_srcs="$lib_srcs $f" ;;
    esac
done
lib_srcs="$lib_srcs $root/lib/base/arena.c $root/lib/base/buf.c $root/lib/base/clock.c
    $root/lib/base/error.c $root/lib/base/log.c"
# The unit tests that keep to the shared API (facts_test checks OpenSSL's own tables).
tests="pki_test read_test chain_test csr_test"

# build_lib DIR [INCLUDE FLAGS]: compile the library into DIR/libpki.a
build_lib() {
    dir=$1
    shift
    mkdir -p "$dir"
    objs=""
    for f in $lib_srcs; do
        o="$dir/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
        # shellcheck disable=SC2086
        gcc $cflags "$@" -I"$root" -c "$f" -o "$o"
        objs="$objs $o"
    done
    # shellcheck disable=SC2086
    ar rcs "$dir/libpki.a" $objs
}
build_lib "$out/b" -I"$inc"
build_lib "$out/o"
for t in $tests; do
    # shellcheck disable=SC2086
    gcc $cflags -I"$inc" -I"$root" "$root/lib/pki/$t.c" "$out/b/libpki.a" -L"$lib" \
        -Wl,-rpath,"$lib" -lcrypto -pthread -o "$out/${t}_boringssl"
done
# pki_test against the system OpenSSL 3 too, for the cross-library PKCS#12 check.
# shellcheck disable=SC2086
gcc $cflags -I"$root" "$root/lib/pki/pki_test.c" "$out/o/libpki.a" -lcrypto -pthread \
    -o "$out/pki_test_openssl"

# Prove which libcrypto is loaded.
if ! ldd "$out/pki_test_boringssl" | grep -q "$lib/libcrypto.so"; then
    echo "the test binary does not load $lib/libcrypto.so:" >&2
    ldd "$out/pki_test_boringssl" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

# 1. OpenSSL writes a PKCS#12; 2. BoringSSL runs every check, reads it and writes one;
# 3. OpenSSL reads BoringSSL's.
mkdir -p "$out/from_openssl" "$out/from_boringssl"
passed=0
failed=0
run() {
    log=$out/run.log
    status=0
    "$@" >"$log" 2>&1 || status=$?
    cat "$log"
    line=$(tail -n 1 "$log")
    case $line in
    *" passed, "*" failed")
        passed=$((passed + ${line%% passed*}))
        rest=${line#* passed, }
        failed=$((failed + ${rest%% failed}))
        ;;
    *) failed=$((failed + 1)) ;;
    esac
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
}
run env CLM_PKI_EXPORT_DIR="$out/from_openssl" "$out/pki_test_openssl"
run env CLM_PKI_IMPORT_DIR="$out/from_openssl" CLM_PKI_EXPORT_DIR="$out/from_boringssl" \
    "$out/pki_test_boringssl"
run env CLM_PKI_IMPORT_DIR="$out/from_boringssl" "$out/pki_test_openssl"
# 4. The other unit tests under BoringSSL; read_test also reads a PKCS#12 that the
# openssl CLI wrote with its default profile (PBES2, AES-256-CBC, SHA-256 MAC).
aes_pfx=""
if command -v openssl >/dev/null &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=aes \
        -days 30 -keyout "$out/aes.key" -out "$out/aes.crt" >/dev/null 2>&1 &&
    openssl pkcs12 -export -in "$out/aes.crt" -inkey "$out/aes.key" -passout pass:Aes-pass1 \
        -out "$out/aes.p12" >/dev/null 2>&1; then
    aes_pfx=$out/aes.p12
fi
for t in $tests; do
    [ "$t" = pki_test ] || run env CLM_PKI_AES_PFX="$aes_pfx" "$out/${t}_boringssl"
done

echo "total (OpenSSL, BoringSSL, OpenSSL reading BoringSSL's PKCS#12, other tests on BoringSSL):"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
