#!/bin/sh
# tools/checksrc must catch a banned call and accept a commented exception.
set -u
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
here=$(cd "$(dirname "$0")/.." && pwd)
printf 'void f(char *b) { sprintf(b, "x"); }\n' > "$dir/bad.c"
printf 'int g(const char *s) { return atoi(s); } /* checksrc: allow atoi: test */\n' > "$dir/ok.c"
printf '/* sprintf( in a comment */ const char *s = "strcpy(";\n' > "$dir/text.c"
pass=0; fail=0
if "$here/tools/checksrc" "$dir" | grep -q "bad.c:1: sprintf() is banned"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: sprintf not caught"; fi
if "$here/tools/checksrc" "$dir" | grep -q "1 problems, 1 allowed exceptions"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: counts"; fi
rm "$dir/bad.c"
if "$here/tools/checksrc" "$dir" >/dev/null; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: clean tree rejected"; fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
