# tests/boringssl/common.sh: what every boringssl_test.sh shares (sourced, POSIX sh).
#
# Each package's boringssl_test.sh compiles its sources with gcc against Debian's
# Android BoringSSL (android-libboringssl-dev), links its unit tests with them, runs
# them and sums their "N passed, N failed" lines, so the code stays in the API subset
# OpenSSL 3 and BoringSSL share (TOOLCHAIN.md). Linked dynamically with an rpath:
# `-static` with the android -L silently picks OpenSSL's libcrypto.a; bssl_check_loads
# proves which library a binary loads.
#
#   . "$(dirname "$(readlink -f "$0")")/../../tests/boringssl/common.sh"
#   bssl_init libssl.so lib/http/conn.c   # the library it needs, a source file it compiles:
#                                  # sets root (where that file is), out; fails or skips
#                                  # without the library
#   srcs=$(bssl_sources lib/http)  # a package's .c files without tests, fuzzers, tools
#   bssl_compile OUT SRC...        # one binary, BoringSSL flags and libraries
#   bssl_check_loads BIN libssl.so
#   bssl_run CMD...                # run in $root, add its counts; output through $BSSL_SHOW
#   bssl_finish "what ran"         # print the total line and exit with its verdict
#
# Environment: CLM_ALLOW_NO_BORINGSSL=1 turns a missing package into a skip (a skipped
# test would claim a portability it never checked, so the default is to fail).

bssl_inc=/usr/include/android
bssl_lib=/usr/lib/x86_64-linux-gnu/android
bssl_passed=0
bssl_failed=0

# The warning set of bazel/clm.bzl.
bssl_cflags="-std=c11 -O1 -g -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow
    -Wstrict-prototypes -Wmissing-prototypes -Werror -Wno-format-truncation"

# The base library every package links.
bssl_base_srcs() {
    for f in arena buf clock error log; do printf '%s ' "$root/lib/base/$f.c"; done
}

bssl_init() {
    # Where the sources are: the runfiles under `bazel test` when they hold them (the
    # packages that declare them as data), else CLM_REPO (tools/test sets it), else the
    # checkout the calling script is in.
    root=
    for d in "${TEST_SRCDIR:-/-}/${TEST_WORKSPACE:-clm}" "${CLM_REPO:-/-}"; do
        if [ -f "$d/$2" ]; then
            root=$d
            break
        fi
    done
    if [ -z "$root" ]; then
        root=$(dirname "$(readlink -f "$0")")
        while [ "$root" != / ] && [ ! -f "$root/$2" ]; do root=$(dirname "$root"); done
    fi
    if [ ! -f "$bssl_inc/openssl/is_boringssl.h" ] || [ ! -e "$bssl_lib/$1" ]; then
        if [ "${CLM_ALLOW_NO_BORINGSSL:-0}" = 1 ]; then
            echo "SKIP: android-libboringssl-dev is not installed (CLM_ALLOW_NO_BORINGSSL=1)"
            echo "0 passed, 0 failed"
            exit 0
        fi
        echo "BoringSSL not found in $bssl_inc and $bssl_lib: apt-get install" \
            "android-libboringssl-dev" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
    out=${TEST_TMPDIR:-$(mktemp -d)}/boringssl
    mkdir -p "$out"
}

# The .c files of the given package directories, without tests, fuzzers and tools.
bssl_sources() {
    for d in "$@"; do
        for f in "$root/$d"/*.c; do
            case $(basename "$f") in
            *_test.c | *_fuzz.c | *_bench.c | corpus_check.c) ;;
            *) printf '%s ' "$f" ;;
            esac
        done
    done
}

# bssl_compile OUT SRC... [-lssl]: compile and link against BoringSSL.
bssl_compile() {
    target=$1
    shift
    # shellcheck disable=SC2086,SC2068
    gcc $bssl_cflags -I"$bssl_inc" -I"$root" "$@" -L"$bssl_lib" -Wl,-rpath,"$bssl_lib" \
        -lcrypto -pthread -o "$target"
}

bssl_check_loads() {
    if ! ldd "$1" | grep -q "$bssl_lib/$2"; then
        echo "the test binary does not load $bssl_lib/$2:" >&2
        ldd "$1" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
}

# Run a test program in the source root; add the counts of its last line. A program
# that fails without saying so counts as one failure.
bssl_run() {
    log=$out/run.log
    status=0
    (cd "$root" && "$@") >"$log" 2>&1 || status=$?
    ${BSSL_SHOW:-cat} "$log" || true
    line=$(tail -n 1 "$log")
    before=$bssl_failed
    case $line in
    *" passed, "*" failed")
        bssl_passed=$((bssl_passed + ${line%% passed*}))
        rest=${line#* passed, }
        bssl_failed=$((bssl_failed + ${rest%% failed}))
        ;;
    *) bssl_failed=$((bssl_failed + 1)) ;;
    esac
    if [ "$status" -ne 0 ] && [ "$bssl_failed" -eq "$before" ]; then
        bssl_failed=$((bssl_failed + 1))
    fi
}

bssl_finish() {
    echo "total ($1):"
    echo "$bssl_passed passed, $bssl_failed failed"
    [ "$bssl_failed" -eq 0 ]
    exit $?
}
