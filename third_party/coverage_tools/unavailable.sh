#!/bin/sh
echo "bazel coverage is not available offline; use gcov" >&2
exit 1
