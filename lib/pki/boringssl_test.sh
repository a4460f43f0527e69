#!/bin/sh
# lib/pki/boringssl_test.sh: build lib/pki + lib/base + pki_test.c with gcc against
# Debian's Android BoringSSL (android-libboringssl-dev) and run it, so lib/pki stays in
# the API subset that OpenSSL 3 and BoringSSL share (TOOLCHAIN.md).
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
srcs="$root/lib/pki/cert.c $root/lib/pki/file.c $root/lib/pki/key.c $root/lib/pki/name.c $root/lib/pki/pkcs12.c
    $root/lib/pki/pki_internal.c $root/lib/pki/random.c $root/lib/base/buf.c
    $root/lib/base/clock.c $root/lib/base/error.c $root/lib/base/log.c
    $root/lib/pki/pki_test.c"

# shellcheck disable=SC2086
gcc $cflags -I"$inc" -I"$root" $srcs -L"$lib" -Wl,-rpath,"$lib" -lcrypto -pthread \
    -o "$out/pki_test_boringssl"
# The same test against the system OpenSSL 3, for the cross-library PKCS#12 check.
# shellcheck disable=SC2086
gcc $cflags -I"$root" $srcs -lcrypto -pthread -o "$out/pki_test_openssl"

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

echo "total (OpenSSL, BoringSSL, OpenSSL reading BoringSSL's PKCS#12):"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
