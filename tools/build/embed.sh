#!/bin/sh
# Usage: embed.sh SYMBOL FILE > FILE.c
# Writes a C file defining `const unsigned char SYMBOL[]` and `SYMBOL_len` with the
# bytes of FILE. Uses od (coreutils), so the build needs no xxd.
set -eu
sym=$1
file=$2
echo "#include <stddef.h>"
echo "const unsigned char ${sym}[] = {"
od -An -v -tx1 "$file" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
echo "};"
echo "const size_t ${sym}_len = sizeof(${sym});"
