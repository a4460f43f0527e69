# adapters/ca/acme/testdata/pebble.sh: start Debian's pebble (a real ACME server) and
# pebble-challtestsrv (its DNS, resolving every name to 127.0.0.1) on loopback, for the
# ACME adapter's tests, the clmd integration test and tools/bench/enroll.
# Source it (bash), then:
#   pebble_certs DIR                          a TLS root (DIR/root.pem) and a server
#                                             certificate for 127.0.0.1 and localhost
#   challtestsrv_start DIR DNS_PORT MGMT_PORT
#   pebble_start DIR NAME ACME_PORT MGMT_PORT HTTP_PORT DNS_PORT [EAB_KID EAB_KEY]
#                                             the environment (PEBBLE_*) is the caller's
#   pebble_stop_all                           kill what was started (also on EXIT)
# Every process started is remembered by pid and killed by pid; logs in DIR/NAME.log.
# Ports are the caller's: below 32768, distinct per test so parallel tests never collide.

PEBBLE_PIDS=()

pebble_wait_port() { # PORT: wait up to 20 s until something listens on 127.0.0.1:PORT
    local port=$1 i
    for i in $(seq 1 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "pebble.sh: nothing listens on port $port" >&2
    return 1
}

pebble_certs() {
    local dir=$1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=clm test ACME TLS root" -keyout "$dir/root.key" -out "$dir/root.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
        2>/dev/null || return 1
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null || return 1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' \
        >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/root.pem" -CAkey "$dir/root.key" \
        -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" \
        2>/dev/null || return 1
}

challtestsrv_start() {
    local dir=$1 dns=$2 mgmt=$3
    pebble-challtestsrv -dns01 "127.0.0.1:$dns" -http01 "" -https01 "" -tlsalpn01 "" \
        -management "127.0.0.1:$mgmt" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
        >"$dir/challtestsrv.log" 2>&1 &
    PEBBLE_PIDS+=($!)
    pebble_wait_port "$mgmt"
}

pebble_start() {
    local dir=$1 name=$2 acme=$3 mgmt=$4 http=$5 dns=$6 kid=${7:-} key=${8:-}
    local eab='"externalAccountBindingRequired": false'
    if [ -n "$kid" ]; then
        eab="\"externalAccountBindingRequired\": true, \"externalAccountMACKeys\": {\"$kid\": \"$key\"}"
    fi
    cat >"$dir/$name.json" <<JSON
{
  "pebble": {
    "listenAddress": "127.0.0.1:$acme",
    "managementListenAddress": "127.0.0.1:$mgmt",
    "certificate": "$dir/server.pem",
    "privateKey": "$dir/server.key",
    "httpPort": $http,
    "tlsPort": $((http + 1)),
    "ocspResponderURL": "",
    $eab
  }
}
JSON
    pebble -config "$dir/$name.json" -dnsserver "127.0.0.1:$dns" >"$dir/$name.log" 2>&1 &
    PEBBLE_PIDS+=($!)
    pebble_wait_port "$acme" && pebble_wait_port "$mgmt"
}

pebble_stop_all() {
    local pid
    for pid in "${PEBBLE_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PEBBLE_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    PEBBLE_PIDS=()
}
