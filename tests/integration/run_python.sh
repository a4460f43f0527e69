#!/bin/sh
# Run an integration test script with Debian's Python (its grpcio and protobuf), the
# generated stubs on the path. The python3 first on PATH may be another interpreter.
set -e
here=$(pwd)
export PYTHONPATH="$here/tests/integration/py:$here/tests/integration"
exec /usr/bin/python3 "$@"
