#!/bin/sh
# adapters/ca/local/boringssl_test.sh: build the CA adapters (adapters/adapter.c,
# adapters/ca, adapters/ca/local, lib/pki, lib/base) with gcc against Debian's Android
# BoringSSL (android-libboringssl-dev) and run their tests there, the openssl CLI checks
# included, so the local CA keeps to the API OpenSSL 3 and BoringSSL share (TOOLCHAIN.md).
# OpenSSL-only calls sit under #ifndef OPENSSL_IS_BORINGSSL (the request's public key is
# copied without re-encoding: local.c set_pubkey; lib/pki/key.c ec_curve_nid).
#
# Linked dynamically with an rpath (`-static` with the android -L silently picks
# OpenSSL's libcrypto.a); ldd proves which library is loaded.
#
# Usage: boringssl_test.sh [source root]      Ends with "N passed, N failed".
set -eu

inc=/usr/include/android
lib=/usr/lib/x86_64-linux-gnu/android

root=${1:-${CLM_REPO:-}}
if [ -z "$root" ]; then
    root=$(cd "$(dirname "$(readlink -f "$0")")/../../.." && pwd)
fi

if [ ! -f "$inc/openssl/is_boringssl.h" ] || [ ! -e "$lib/libcrypto.so" ]; then
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
for f in "$root"/adapters/ca/*.c "$root"/adapters/ca/local/*.c "$root"/lib/pki/*.c; do
    case $(basename "$f") in
    *_test.c | *_fuzz.c | facts_bench.c | corpus_check.c) ;;
    *) srcs="$srcs $f" ;;
    esac
done
for f in arena buf clock error log; do srcs="$srcs $root/lib/base/$f.c"; done

objs=""
for f in $srcs; do
    o="$out/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
    # shellcheck disable=SC2086
    gcc $cflags -I"$inc" -I"$root" -c "$f" -o "$o"
    objs="$objs $o"
done
tests="adapters/ca/fields_test adapters/ca/local/local_test"
for t in $tests; do
    # shellcheck disable=SC2086
    gcc $cflags -I"$inc" -I"$root" "$root/$t.c" $objs -L"$lib" -Wl,-rpath,"$lib" -lcrypto \
        -pthread -o "$out/$(basename "$t")"
done
if ! ldd "$out/local_test" | grep -q "$lib/libcrypto.so"; then
    echo "the test binary does not load $lib/libcrypto.so:" >&2
    ldd "$out/local_test" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
for t in $tests; do
    log=$out/$(basename "$t").log
    status=0
    "$out/$(basename "$t")" >"$log" 2>&1 || status=$?
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -z "$line" ]; then
        echo "$t: no result line (exit $status):" >&2
        tail -20 "$log" >&2
        failed=$((failed + 1))
        continue
    fi
    [ "$status" -ne 0 ] && grep -E '^FAIL' "$log" >&2
    echo "$t (BoringSSL): $line"
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
    [ "$status" -ne 0 ] && [ "$(echo "$line" | cut -d' ' -f3)" -eq 0 ] && failed=$((failed + 1))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
