#!/bin/sh
# adapters/tls/boringssl_test.sh: build the TLS probe (adapters/tls, adapters/adapter.c,
# lib/pki, lib/base) with gcc against Debian's Android BoringSSL
# (android-libboringssl-dev) and run its tests there: the unit tests, the scripted
# probe test, and the 1,000-endpoint nginx sweep, so the probe keeps to the API that
# OpenSSL 3 and BoringSSL share (TOOLCHAIN.md; only SSL_CTX_set_security_level is
# OpenSSL's alone, under #ifndef OPENSSL_IS_BORINGSSL).
#
# Linked dynamically with an rpath (`-static` with the android -L silently picks
# OpenSSL's libcrypto.a); ldd proves which library is loaded.
#
# Usage: boringssl_test.sh [source root]
# Ends with the plain "N passed, N failed" line.
set -eu

inc=/usr/include/android
lib=/usr/lib/x86_64-linux-gnu/android

# The source tree: the argument, else $CLM_REPO (tools/test sets it), else where this
# script really lives (the runfiles entry is a symlink into the tree), so the test needs
# no file list of lib/pki, which grows.
root=${1:-${CLM_REPO:-}}
if [ -z "$root" ]; then
    root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
fi

if [ ! -f "$inc/openssl/is_boringssl.h" ] || [ ! -e "$lib/libssl.so" ]; then
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
cflags="-std=c11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow
    -Wstrict-prototypes -Wmissing-prototypes -Werror -Wno-format-truncation"

srcs="$root/adapters/adapter.c"
for f in "$root"/adapters/tls/*.c "$root"/lib/pki/*.c; do
    case $(basename "$f") in
    *_test.c | *_fuzz.c | facts_bench.c | corpus_check.c) ;;
    *) srcs="$srcs $f" ;;
    esac
done
for f in arena buf clock error log; do srcs="$srcs $root/lib/base/$f.c"; done
fixture="$root/tests/tls/fixture_pki.c $root/tests/tls/fixture_servers.c
    $root/tests/tls/fixture_sweep.c"

objs=""
for f in $srcs $fixture; do
    o="$out/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
    # shellcheck disable=SC2086
    gcc $cflags -I"$inc" -I"$root" -c "$f" -o "$o"
    objs="$objs $o"
done
tests="adapters/tls/targets_test adapters/tls/starttls_test tests/tls/probe_test
    tests/tls/sweep_test"
for t in $tests; do
    # shellcheck disable=SC2086
    gcc $cflags -I"$inc" -I"$root" "$root/$t.c" $objs -L"$lib" -Wl,-rpath,"$lib" -lssl \
        -lcrypto -pthread -o "$out/$(basename "$t")"
done
if ! ldd "$out/sweep_test" | grep -q "$lib/libssl.so"; then
    echo "the test binary does not load $lib/libssl.so:" >&2
    ldd "$out/sweep_test" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
for t in $tests; do
    log=$out/$(basename "$t").log
    status=0
    "$out/$(basename "$t")" >"$log" 2>&1 || status=$?
    echo "== $t on BoringSSL"
    tail -n 8 "$log"
    line=$(tail -n 1 "$log")
    case $line in
    *" passed, "*" failed")
        passed=$((passed + ${line%% passed*}))
        rest=${line#* passed, }
        failed=$((failed + ${rest%% failed}))
        ;;
    *) failed=$((failed + 1)) ;;
    esac
    if [ "$status" -ne 0 ] && [ "${line##*, }" = "0 failed" ]; then failed=$((failed + 1)); fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
