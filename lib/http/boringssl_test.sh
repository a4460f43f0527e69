#!/bin/sh
# lib/http/boringssl_test.sh: build lib/http and lib/base with gcc against Debian's
# Android BoringSSL (android-libboringssl-dev), link parse_test and http_test with them
# and run both, so the TLS code stays in the API subset that OpenSSL 3 and BoringSSL
# share (TOOLCHAIN.md). http_test starts its own server (testdata/http_test_server.py),
# so the handshakes, verification failures and mutual TLS all run on BoringSSL.
#
# Linked dynamically with an rpath (`-static` with the android -L silently picks
# OpenSSL's libcrypto.a); ldd proves which libssl is loaded.
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

if [ ! -f "$inc/openssl/is_boringssl.h" ] || [ ! -e "$lib/libssl.so" ]; then
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

# The warning set of bazel/clm.bzl.
cflags="-std=c11 -O1 -g -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow
    -Wstrict-prototypes -Wmissing-prototypes -Werror -Wno-format-truncation"

srcs=""
for f in "$root"/lib/http/*.c; do
    case $(basename "$f") in
    *_test.c | *_fuzz.c) ;;
    *) srcs="$srcs $f" ;;
    esac
done
srcs="$srcs $root/lib/base/arena.c $root/lib/base/buf.c $root/lib/base/clock.c
    $root/lib/base/error.c $root/lib/base/log.c"

for t in parse_test http_test; do
    # shellcheck disable=SC2086
    gcc $cflags -I"$inc" -I"$root" "$root/lib/http/$t.c" $srcs -L"$lib" -Wl,-rpath,"$lib" \
        -lssl -lcrypto -lhttp_parser -pthread -o "$out/${t}_boringssl"
done

if ! ldd "$out/http_test_boringssl" | grep -q "$lib/libssl.so"; then
    echo "the test binary does not load $lib/libssl.so:" >&2
    ldd "$out/http_test_boringssl" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
run() {
    log=$out/run.log
    status=0
    (cd "$root" && "$@") >"$log" 2>&1 || status=$?
    grep -v "level=warn" "$log" || true
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
run "$out/parse_test_boringssl"
run "$out/http_test_boringssl"

echo "total (parse_test and http_test on BoringSSL):"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
