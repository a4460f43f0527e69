/*
 * adapters/tls/targets.h: from what the caller asks to probe to the list of endpoints:
 * networks (the allow-list and CIDR targets), port lists, name resolution, limits, and
 * a one-line text form of a target for command lines and configuration.
 *
 * Order of checks (tls_targets_expand): the options' limits, then each target's fields
 * (syntax, port 0, reversed ranges, range sizes), then every literal address and every
 * address of a range against the allow-list, then names are resolved and their
 * addresses checked. Nothing is sent to a target before all of this succeeded; name
 * resolution asks the system's resolver only.
 *
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are treated as the IPv4 address they
 * reach, in targets and in the allow-list alike, so they cannot slip past it.
 *
 * Thread rules: every function may be called from any thread; name resolution blocks
 * (getaddrinfo), for as long as the system's resolver takes.
 */
#ifndef CLM_ADAPTERS_TLS_TARGETS_H
#define CLM_ADAPTERS_TLS_TARGETS_H

#include "adapters/adapter.h"
#include "lib/base/arena.h"
#include "lib/base/error.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/** Longest DNS name (RFC 1035 2.3.4, without the trailing dot). */
#define TLS_NAME_MAX 253
/** Longest ports text ("20000-20999,443,..."). */
#define TLS_PORTS_TEXT_MAX 1024
/** Most addresses one name may resolve to (more are ignored, in resolver order). */
#define TLS_RESOLVE_MAX 64

/** Defaults and ceilings of adapter_probe_options (see adapter.h). */
#define TLS_DEFAULT_CONNECT_TIMEOUT_MS 3000
#define TLS_DEFAULT_HANDSHAKE_TIMEOUT_MS 5000
#define TLS_TIMEOUT_MS_MAX 600000
#define TLS_DEFAULT_IN_FLIGHT 256
#define TLS_IN_FLIGHT_MAX 16384
#define TLS_DEFAULT_RATE 1000
#define TLS_RATE_MAX 100000
#define TLS_DEFAULT_ENDPOINTS_MAX 65536
#define TLS_THREADS_MAX 64
#define TLS_ENDPOINTS_MAX 1048576

/** A network: an address and a prefix length (a single address has the full length). */
typedef struct tls_net {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network byte order; IPv4 in the first 4 bytes */
    unsigned prefix;        /* 0..32 or 0..128 */
} tls_net;

/**
 * @brief Parse "10.0.0.0/8", "192.0.2.7", "fd00::/120", "::1" or "[::1]".
 * @param[in] text  the network; host bits beyond the prefix must be zero.
 * @param[in] field names the input in messages ("options.allow[0]").
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field (not an address, prefix out
 *         of range, host bits set: the message says which network was meant).
 */
clm_err tls_net_parse(const char *text, const char *field, tls_net *out);

/** @return whether every address of inner is in outer. */
bool tls_net_contains(const tls_net *outer, const tls_net *inner);

/** Print a network as "10.0.0.0/8" (single addresses without the prefix), at least 52 bytes. */
void tls_net_format(const tls_net *net, char *out, size_t size);

/** A set of allowed networks. */
typedef struct tls_allow_list {
    tls_net *nets;
    size_t n;
} tls_allow_list;

/**
 * @brief Parse the options' allow-list.
 * @param[out] out free with tls_allow_list_free().
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming "options.allow[i]"; CLM_ERR_NO_MEMORY.
 */
clm_err tls_allow_list_parse(const char *const *allow, size_t n, tls_allow_list *out);
void tls_allow_list_free(tls_allow_list *list);

/** @return whether addr (a single address, prefix ignored) is inside one of the networks. */
bool tls_allow_list_permits(const tls_allow_list *list, const tls_net *addr);

/**
 * @brief Parse a port list: "443", "25,587", "20000-20999", "443,8000-8010".
 * @param[in]  text  the list.
 * @param[in]  field names it in messages.
 * @param[in]  max   the most ports accepted.
 * @param[out] bits  65536 bits (8 KiB), bit p set for each port p; zeroed first.
 * @param[out] count how many ports.
 * @param[out] lowest, highest the smallest and largest port; either may be NULL.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field (empty, port 0, above
 *         65535, reversed range, not a number, more than max ports).
 */
clm_err tls_ports_parse(const char *text, const char *field, size_t max, uint8_t bits[8192],
                        size_t *count, uint16_t *lowest, uint16_t *highest);

/** @return the protocol AUTO stands for on this port (25/587 SMTP, 143 IMAP, 110 POP3). */
adapter_probe_protocol tls_protocol_for_port(uint16_t port);

/** One endpoint to probe. */
typedef struct tls_endpoint {
    size_t target_index;
    const char *host;                /* the target's host text (arena copy) */
    const char *sni;                 /* NULL: send none */
    const char *check_name;          /* what the leaf is checked against: the SNI, else
                                        the address; arena copy */
    adapter_probe_protocol protocol; /* never AUTO */
    uint16_t port;
    bool unresolved;               /* a name without addresses (unresolved_as_result) */
    const char *unresolved_reason; /* the resolver's message, when unresolved */
    char address[48];              /* inet_ntop form; "" when unresolved */
    struct sockaddr_storage addr;  /* port set; ss_family AF_INET or AF_INET6 */
    socklen_t addr_len;
} tls_endpoint;

typedef struct tls_endpoint_list {
    tls_endpoint *v; /* targets in order, then addresses, then ports ascending */
    size_t n;
    clm_arena arena; /* owns v and its strings */
} tls_endpoint_list;

/**
 * @brief Check and expand targets into endpoints (the order of checks is at the top).
 * @param[in]  resolve false: names are checked for syntax but not resolved, and yield no
 *             endpoints (tls_probe_check); true: they are resolved.
 * @param[out] out     free with tls_endpoint_list_free(); empty on error.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field ("targets[1].ports: port 0
 *         is not a port (1-65535)", "options.max_rate: ..."); CLM_ERR_PERMISSION naming
 *         the field and the address outside the allow-list; CLM_ERR_NOT_FOUND naming the
 *         field of a name that does not resolve (unless unresolved_as_result);
 *         CLM_ERR_NO_MEMORY.
 */
clm_err tls_targets_expand(const adapter_probe_target *targets, size_t n,
                           const adapter_probe_options *options, bool resolve,
                           tls_endpoint_list *out);

/** Free an endpoint list; it is empty and reusable afterwards. Accepts NULL. */
void tls_endpoint_list_free(tls_endpoint_list *list);

/**
 * @brief Check the options' numbers (timeouts, in-flight, rate, threads, endpoint limit).
 * @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT naming "options.<field>".
 */
clm_err tls_options_check(const adapter_probe_options *options);

/** One target in text form, parsed: the strings live in this struct. */
typedef struct tls_target_text {
    char host[TLS_NAME_MAX + 1];
    char ports[TLS_PORTS_TEXT_MAX + 1];
    char sni[TLS_NAME_MAX + 1];
    adapter_probe_target target; /* points into the arrays above */
} tls_target_text;

/**
 * @brief Parse the text form of a target: `[PROTOCOL://]HOST[:PORTS][?sni=NAME]`, HOST in
 * brackets when it is IPv6 ("[::1]:443", "[fd00::/120]:993"). Without PORTS: the
 * protocol's usual port (tls 443, smtp 25, imap 143, pop3 110). Examples:
 * "mail.example.com:25,587", "imap://10.0.0.0/28", "127.0.0.1:20000-20999?sni=a.test".
 * Only the syntax is checked here; tls_targets_expand() checks the fields.
 * @param[out] out filled on success; out->target is usable while out lives.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT saying what is wrong with the text.
 */
clm_err tls_target_parse(const char *spec, tls_target_text *out);

#endif
