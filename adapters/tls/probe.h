/*
 * adapters/tls/probe.h: the TLS endpoint probe, contract 1 of adapters/adapter.h.
 *
 * A sweep is one event loop on the calling thread, or with options.threads = K, K loops
 * (the calling thread and K - 1 threads of the sweep's own, joined before it returns),
 * each with endpoint i for i % K == its number, its share of max_in_flight and of
 * max_rate, its own epoll instance and SSL_CTX. A loop keeps up to its in-flight share of
 * non-blocking sockets, starts new connections no faster than its rate (a token bucket
 * with 20 ms of burst), and gives each endpoint its own deadlines (TCP connect; then
 * STARTTLS plus the TLS handshake), kept in a min-heap, so an endpoint that never
 * answers holds one slot until its deadline and delays nothing else. Sockets are
 * registered once, edge-triggered, and every step runs until the socket would block.
 * TLS is OpenSSL's SSL_connect state machine driven by SSL_ERROR_WANT_READ /
 * SSL_ERROR_WANT_WRITE, in the API BoringSSL shares (only the security level below is
 * OpenSSL's alone; boringssl_test.sh builds and runs the probe and its tests on
 * BoringSSL).
 *
 * What the client offers: TLS 1.0 to 1.3, every cipher suite with authentication and
 * encryption ("ALL:!aNULL:!eNULL"), SNI when there is a name, no session resumption
 * (every probe gets the full chain). The client verifies nothing during the handshake
 * (a certificate verify callback accepts any chain): it observes, and checks afterwards
 * (name, chain against the trust store, expiry). OpenSSL 3's default security level 1
 * refuses TLS 1.0 and 1.1 and SHA-1 signatures, so the probe's own SSL_CTX, and only
 * it, runs at level 0 (SSL_CTX_set_security_level; BoringSSL has no levels), and
 * allows renegotiation-unaware servers (SSL_OP_LEGACY_SERVER_CONNECT). This affects
 * what the probe can observe, not what it trusts: chain_valid comes from lib/pki's
 * pki_chain_verify() at its normal settings, with the purpose serverAuth. A loop
 * remembers the verification of each distinct served chain (same DER, same order) for
 * the rest of the sweep, so endpoints serving one chain cost one verification.
 *
 * Connections end with an abortive close (SO_LINGER 0, RST): a sweep of thousands of
 * endpoints leaves no TIME_WAIT sockets behind to exhaust local ports.
 *
 * Cost (tools/bench/tls, docs/benchmarks.md): about 1 ms of CPU an endpoint with
 * OpenSSL 3.0 on the project's machine, a third of it parsing the two certificates of
 * the chain (OpenSSL 3.0 decodes each public key through its provider decoders), a
 * fifth verifying the chain; the rest is the handshake's key exchange and signature.
 *
 * Caveats:
 * - File descriptors: max_in_flight is lowered to RLIMIT_NOFILE's soft limit minus 64
 *   when that is smaller; the probe never changes the process's limits.
 * - No signal handling: sockets are written with MSG_NOSIGNAL (TLS through a BIO of
 *   this module that does the same), so a peer that resets never raises SIGPIPE.
 * - Names are resolved with getaddrinfo before the sweep starts (blocking).
 *
 * Thread rules: sweeps on different threads run independently. Within a sweep, the
 * report's arena and on_result are serialised by a lock; the trust store is shared
 * read-only (chain.h allows it).
 */
#ifndef CLM_ADAPTERS_TLS_PROBE_H
#define CLM_ADAPTERS_TLS_PROBE_H

#include "adapters/adapter.h"
#include "adapters/tls/targets.h"

/** The table to register: adapter_probe_register(&tls_probe_ops). Name "tls". */
extern const adapter_probe_ops tls_probe_ops;

/** adapter_probe_ops.check: see adapter.h. */
clm_err tls_probe_check(const adapter_probe_target *targets, size_t n,
                        const adapter_probe_options *options);

/** adapter_probe_ops.sweep: tls_targets_expand() with resolution, then tls_probe_run(). */
clm_err tls_probe_sweep(const adapter_probe_target *targets, size_t n,
                        const adapter_probe_options *options, adapter_probe_report **out);

/**
 * @brief Probe endpoints already expanded (and checked) by tls_targets_expand().
 * @param[in]  endpoints borrowed; the report copies what it keeps.
 * @param[in]  options   as for a sweep; the allow-list is not looked at again.
 * @param[out] out       the report (also on CLM_ERR_CANCELLED); NULL on other errors.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT (options); CLM_ERR_NOT_FOUND (ca_file);
 *         CLM_ERR_CRYPTO (no TLS context); CLM_ERR_IO (epoll); CLM_ERR_CANCELLED;
 *         CLM_ERR_NO_MEMORY.
 */
clm_err tls_probe_run(const tls_endpoint_list *endpoints, const adapter_probe_options *options,
                      adapter_probe_report **out);

/** adapter_probe_ops.report_free. Accepts NULL. */
void tls_probe_report_free(adapter_probe_report *report);

#endif
