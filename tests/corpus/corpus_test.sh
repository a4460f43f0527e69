#!/bin/sh
# tests/corpus/corpus_test.sh: unpack the corpus, run lib/pki's corpus_check on it
# (readers and the facts differential), then compare the facts with the openssl CLI
# (facts_cli_test.py). Ends with the plain "N passed, N failed" line.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=${TEST_SRCDIR:+$TEST_SRCDIR/${TEST_WORKSPACE:-clm}}
root=${root:-$(cd "$here/../.." && pwd)}
tmp=${TEST_TMPDIR:-$(mktemp -d)}
bin=$root/lib/pki/corpus_check
[ -x "$bin" ] || bin=$root/bazel-bin/lib/pki/corpus_check
corpus_tar=$root/tests/corpus/corpus.tar

rm -rf "$tmp/corpus" "$tmp/out"
mkdir -p "$tmp/corpus"
if ! tar -xf "$corpus_tar" -C "$tmp/corpus"; then
    echo "cannot unpack $corpus_tar"
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
add() { # the last "N passed, N failed" line of a log
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
    if [ -z "$line" ]; then
        failed=$((failed + 1))
        return
    fi
    passed=$((passed + ${line%% passed*}))
    rest=${line#* passed, }
    failed=$((failed + ${rest%% failed}))
}

"$bin" "$tmp/corpus" "$tmp/out" >"$tmp/check.log" 2>"$tmp/check.err"
status=$?
cat "$tmp/check.err"
cat "$tmp/check.log"
add "$tmp/check.log"
[ $status -ne 0 ] && [ "$failed" -eq 0 ] && failed=1

/usr/bin/python3 "$here/facts_cli_test.py" "$tmp/out" >"$tmp/cli.log" 2>&1
status=$?
cat "$tmp/cli.log"
add "$tmp/cli.log"
[ $status -ne 0 ] && [ "$failed" -eq 0 ] && failed=1

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
