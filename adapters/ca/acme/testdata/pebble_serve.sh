#!/usr/bin/env bash
# adapters/ca/acme/testdata/pebble_serve.sh DIR ACME_PORT MGMT_PORT HTTP_PORT DNS_PORT
#     DNS_MGMT_PORT [EAB_KID EAB_KEY]
# Start pebble-challtestsrv and one pebble (testdata/pebble.sh) with a TLS root made in
# DIR (DIR/root.pem), print "ready" once both listen, and stop both when stdin closes:
# a test or benchmark in another language keeps the pipe open for as long as it needs
# them (or on SIGTERM). The environment (PEBBLE_*) is the caller's.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/pebble.sh"
dir=$1
trap pebble_stop_all EXIT
trap 'exit 143' TERM INT
if pebble_certs "$dir" && challtestsrv_start "$dir" "$5" "$6" &&
    pebble_start "$dir" pebble "$2" "$3" "$4" "$5" "${7:-}" "${8:-}"; then
    echo ready
else
    echo "failed: see $dir/*.log"
    exit 1
fi
cat <&0 >/dev/null &
wait $!
