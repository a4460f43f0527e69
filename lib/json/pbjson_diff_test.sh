#!/bin/sh
# lib/json/pbjson_diff_test.sh: runs pbjson_diff.py with Debian's python3 (which has
# python3-protobuf); arguments: TOOL SCRIPT CASES PB2_MODULE_FILE.
set -eu
if ! /usr/bin/python3 -c 'import google.protobuf.json_format' 2>/dev/null; then
    echo "pbjson_diff_test: /usr/bin/python3 lacks google.protobuf (apt-get install python3-protobuf)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
exec /usr/bin/python3 "$2" "$1" "$3" "$4"
