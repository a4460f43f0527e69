/*
 * adapters/adapter.h: the contracts between the appliance and its adapters.
 *
 * An adapter does network work for the appliance and knows nothing about the store or
 * the API (DESIGN.md, floor 3): it takes plain inputs, and returns results the appliance
 * persists. Each contract is an operations table (after curl's lib/protocol.h): every
 * member says MUST (an implementation provides it) or MAY (it can be NULL or 0). An
 * implementation registers its table once, at start-up, in the contract's registry,
 * which rejects duplicate names (after Redis connTypeRegister).
 *
 * Contracts, in this order:
 *   1. Endpoint probe      what does a network endpoint serve (adapters/tls)
 *   2. CA adapters         submit a CSR, poll a cookie, revoke, CRL (adapters/ca)
 *   3. Endpoint adapters   (to come: test connection, discover, push, bind, unbind,
 *                           run a script: Windows gateway | WinRM | SSM)
 *
 * Caveats: registries are filled before the first worker thread starts and are
 * read-only afterwards; registering is not thread-safe, looking up is.
 */
#ifndef CLM_ADAPTERS_ADAPTER_H
#define CLM_ADAPTERS_ADAPTER_H

#include "lib/base/arena.h"
#include "lib/base/buf.h"
#include "lib/base/clock.h"
#include "lib/base/error.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ==== 1. Endpoint probe ================================================================
 *
 * A sweep connects to endpoints (address, port, server name), completes a TLS handshake
 * (after a STARTTLS exchange where the protocol has one) and reports, per endpoint,
 * what was served: the certificate chain as DER, the leaf's SHA-256, the TLS version and
 * cipher, whether the leaf matches the name asked for, whether the chain verifies
 * against a trust store, and days to expiry; or why it could not (refused, timeout,
 * handshake failure with the reason, STARTTLS protocol error).
 *
 * Targets are expanded before any packet is sent: CIDR ranges and port lists become
 * endpoints, names are resolved, and every address is checked against the allow-list
 * the caller gives (from configuration). One address outside it and the whole sweep is
 * refused (CLM_ERR_PERMISSION naming the field): a scanner must never be pointed at the
 * world by mistake. Loopback is not implicitly allowed either.
 *
 * The discovery job stores what was found; the push validation job compares the
 * served leaf with the one it expects. Verdicts are theirs; the probe only observes.
 */

/** How the TLS session is reached on a port. Stable names: adapter_probe_protocol_name(). */
typedef enum adapter_probe_protocol {
    ADAPTER_PROBE_AUTO = 0, /* by port: 25/587 SMTP, 143 IMAP, 110 POP3, else implicit TLS */
    ADAPTER_PROBE_TLS,      /* implicit TLS from the first byte (443, 465, 636, 993, 995) */
    ADAPTER_PROBE_SMTP,     /* SMTP STARTTLS (RFC 3207): greeting, EHLO, STARTTLS, 220 */
    ADAPTER_PROBE_IMAP,     /* IMAP STARTTLS (RFC 2595, RFC 3501 6.2.1): tag OK */
    ADAPTER_PROBE_POP3,     /* POP3 STLS (RFC 2595 4): +OK */
    ADAPTER_PROBE_PROTOCOL_MAX
} adapter_probe_protocol;

/**
 * What to probe. Strings are borrowed for the duration of the call.
 * Field names in error messages are "targets[i].host" and so on.
 */
typedef struct adapter_probe_target {
    /** MUST: a DNS name, an IPv4 or IPv6 literal (brackets allowed), or a CIDR range
     *  ("10.1.2.0/24", "fd00::/120"); ranges larger than the options allow are refused. */
    const char *host;
    /** MUST: a port, a list and/or ranges, 1..65535: "443", "25,587", "20000-20999". */
    const char *ports;
    /** MAY: the server name sent (SNI) and checked against the leaf. NULL: the host when
     *  it is a DNS name; none for addresses and ranges (then the leaf is checked against
     *  the address). Never an IP literal (RFC 6066 3). */
    const char *sni;
    /** MAY: ADAPTER_PROBE_AUTO picks by port. */
    adapter_probe_protocol protocol;
} adapter_probe_target;

/** Outcome of one endpoint. Stable names: adapter_probe_status_name(). */
typedef enum adapter_probe_status {
    ADAPTER_PROBE_OK = 0,            /* handshake done, chain captured */
    ADAPTER_PROBE_UNRESOLVED,        /* the name has no address (only with
                                        unresolved_as_result; otherwise an error) */
    ADAPTER_PROBE_REFUSED,           /* TCP connection refused (nothing listens) */
    ADAPTER_PROBE_UNREACHABLE,       /* no route, host down, other connect errors */
    ADAPTER_PROBE_CONNECT_TIMEOUT,   /* no answer to the connection attempt in time */
    ADAPTER_PROBE_PROTOCOL_ERROR,    /* STARTTLS exchange failed: refused, not offered,
                                        malformed or over-long reply, closed */
    ADAPTER_PROBE_HANDSHAKE_FAILED,  /* TLS alert, closed or reset during the handshake,
                                        not TLS at all; the reason says which */
    ADAPTER_PROBE_HANDSHAKE_TIMEOUT, /* connected, but STARTTLS or the handshake did not
                                        finish in time; the reason says which phase */
    ADAPTER_PROBE_CANCELLED,         /* the sweep was cancelled before this one ended */
    ADAPTER_PROBE_STATUS_MAX
} adapter_probe_status;

/** A check that may not have been made. */
typedef enum adapter_probe_check {
    ADAPTER_PROBE_NOT_CHECKED = 0, /* no handshake, or the caller turned the check off */
    ADAPTER_PROBE_PASS,
    ADAPTER_PROBE_FAIL,
} adapter_probe_check;

/** One certificate as served, DER. */
typedef struct adapter_probe_der {
    const unsigned char *data;
    size_t len;
} adapter_probe_der;

/** Longest reason text kept, NUL included. */
#define ADAPTER_PROBE_REASON_MAX 192

/**
 * One endpoint's result. Everything it points to lives in the report's arena.
 * Fields after `reason` are meaningful only when status is ADAPTER_PROBE_OK, except
 * the timings, which are set as far as the probe got.
 */
typedef struct adapter_probe_result {
    size_t target_index; /* which adapter_probe_target it came from */
    const char *host;    /* the target's host as given (a name or range) */
    char address[48];    /* the address probed, inet_ntop form; "" unresolved */
    uint16_t port;
    const char *sni;                 /* the name sent, NULL when none */
    adapter_probe_protocol protocol; /* never AUTO */
    adapter_probe_status status;
    char reason[ADAPTER_PROBE_REASON_MAX]; /* why not OK; "" when OK */

    int tls_version;              /* wire value: 0x0301 (TLS 1.0) .. 0x0304 (TLS 1.3) */
    const char *tls_version_name; /* "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" */
    const char *cipher;           /* the agreed cipher suite (OpenSSL's name) */
    adapter_probe_der *chain;     /* as served, the leaf first */
    size_t chain_len;
    char leaf_sha256[65];            /* lower-case hex of the leaf DER */
    int64_t not_after;               /* the leaf's, seconds since the epoch */
    int64_t days_to_expiry;          /* floor((not_after - now) / 86400); negative: expired */
    adapter_probe_check name_match;  /* the leaf against the SNI, else the address */
    adapter_probe_check chain_valid; /* against the trust store, at the clock's time */
    int verify_code;                 /* X509_V_OK or X509_V_ERR_* when chain_valid is FAIL */
    int verify_depth;                /* where verification failed; 0 is the leaf */
    const char *verify_error;        /* the verifier's text ("certificate has expired") */

    int64_t connect_us;   /* TCP connect: from the attempt to established */
    int64_t starttls_us;  /* the STARTTLS exchange; 0 for implicit TLS */
    int64_t handshake_us; /* the TLS handshake */
    int64_t total_us;     /* from the attempt to the result */
} adapter_probe_result;

/** A finished sweep. Free with the ops' report_free. */
typedef struct adapter_probe_report {
    adapter_probe_result *results; /* one per endpoint, in expansion order: targets in
                                      order, then addresses, then ports ascending */
    size_t n;
    size_t counts[ADAPTER_PROBE_STATUS_MAX]; /* results per status */
    int64_t elapsed_us;                      /* the sweep's wall time, expansion included */
    clm_arena arena;                         /* owns the results and everything they point to */
} adapter_probe_report;

/**
 * How to sweep. Zero-initialise, then set what differs from the defaults.
 * Everything borrowed is borrowed for the duration of the call.
 */
typedef struct adapter_probe_options {
    /** MUST: networks that may be probed, as CIDR or single addresses ("10.0.0.0/8",
     *  "127.0.0.1", "::1/128"). Empty: every sweep is refused. */
    const char *const *allow;
    size_t n_allow;
    /** MAY: per-endpoint TCP connect timeout; 0: 3000 ms. */
    int connect_timeout_ms;
    /** MAY: per-endpoint time from connected to the end of the handshake, the STARTTLS
     *  exchange included; 0: 5000 ms. */
    int handshake_timeout_ms;
    /** MAY: endpoints in flight at once; 0: 256. At most 16384. */
    int max_in_flight;
    /** MAY: new connections started per second; 0: 1000. At most 100000. */
    int max_rate;
    /** MAY: event loops on threads of their own, each with a share of the endpoints,
     *  of max_in_flight and of max_rate; 0 or 1: one loop, on the calling thread only.
     *  At most 64. (TLS handshakes are CPU-bound: more loops than cores gain nothing.) */
    int threads;
    /** MAY: the most endpoints one sweep expands to; 0: 65536. At most 1048576. */
    size_t max_endpoints;
    /** MAY: trust anchors for chain_valid, a PEM bundle file; NULL: the system store. */
    const char *ca_file;
    /** MAY: skip chain verification (chain_valid stays NOT_CHECKED). */
    bool no_verify;
    /** MAY: a name that does not resolve gives an UNRESOLVED result instead of failing
     *  the sweep (discovery over a long host list). */
    bool unresolved_as_result;
    /** MAY: the name given in SMTP EHLO; NULL: the local address as an address literal
     *  ("[127.0.0.1]", "[IPv6:::1]"), which RFC 5321 4.1.3 allows. */
    const char *ehlo_name;
    /** MAY: wall-clock time for expiry and verification; NULL: the system clock. Only
     *  its now_ns is read: timeouts are real waits on sockets (CLOCK_MONOTONIC). */
    const clm_clock *clock;
    /** MAY: called as each endpoint finishes, in completion order, one call at a time
     *  (on the calling thread, or on one of the sweep's threads when threads > 1); the
     *  result is borrowed until the sweep returns. */
    void (*on_result)(void *arg, const adapter_probe_result *result);
    void *on_result_arg;
    /** MAY: set to true from any thread to stop the sweep: connections in flight are
     *  closed, unfinished endpoints end CANCELLED, and the sweep returns CLM_ERR_CANCELLED
     *  with the partial report. */
    const atomic_bool *cancel;
} adapter_probe_options;

/** Capability flags of an endpoint probe. */
enum {
    ADAPTER_PROBE_F_STARTTLS = 1u << 0, /* speaks SMTP, IMAP and POP3 STARTTLS */
    ADAPTER_PROBE_F_IPV6 = 1u << 1,
};

/** An endpoint probe implementation. */
typedef struct adapter_probe_ops {
    /** MUST: unique name ("tls"). */
    const char *name;
    /** MAY: ADAPTER_PROBE_F_* bits. */
    unsigned flags;
    /**
     * MUST: check targets and options without resolving names or sending anything:
     * syntax, ranges and limits, the allow-list for literal addresses and ranges. For the
     * API's field validation (nothing written on bad input).
     * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field ("targets[2].ports: ...");
     *         CLM_ERR_PERMISSION naming the field when an address or range is outside
     *         the allow-list.
     */
    clm_err (*check)(const adapter_probe_target *targets, size_t n,
                     const adapter_probe_options *options);
    /**
     * MUST: expand, resolve, check the allow-list, then probe every endpoint. Blocks
     * the calling thread until every endpoint has a result (bounded by the timeouts).
     * @param[out] out the report, also on CLM_ERR_CANCELLED; NULL on other errors.
     * @return CLM_OK (per-endpoint failures are results, not errors); what check()
     *         returns; CLM_ERR_NOT_FOUND naming the field when a name does not resolve
     *         (unless unresolved_as_result); CLM_ERR_NOT_FOUND when ca_file cannot be
     *         loaded; CLM_ERR_CANCELLED; CLM_ERR_IO (epoll); CLM_ERR_NO_MEMORY.
     */
    clm_err (*sweep)(const adapter_probe_target *targets, size_t n,
                     const adapter_probe_options *options, adapter_probe_report **out);
    /** MUST: free a report made by sweep. Accepts NULL. */
    void (*report_free)(adapter_probe_report *report);
} adapter_probe_ops;

/**
 * @brief Register an endpoint probe (at start-up, before threads).
 * @param[in] ops a static table; name, check, sweep and report_free must be set.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT (a MUST member missing);
 *         CLM_ERR_ALREADY_EXISTS (the name is taken); CLM_ERR_NO_MEMORY (the registry
 *         is full: ADAPTER_REGISTRY_MAX).
 */
clm_err adapter_probe_register(const adapter_probe_ops *ops);

/** @return the registered probe of that name, or NULL. */
const adapter_probe_ops *adapter_probe_find(const char *name);

/** Most tables one registry holds. */
#define ADAPTER_REGISTRY_MAX 16

/** @return "auto", "tls", "smtp", "imap", "pop3"; "unknown" out of range. */
const char *adapter_probe_protocol_name(adapter_probe_protocol protocol);

/**
 * @brief Parse a protocol name (case-insensitive), as adapter_probe_protocol_name().
 * @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT.
 */
clm_err adapter_probe_protocol_parse(const char *name, adapter_probe_protocol *out);

/** @return "ok", "unresolved", "refused", "unreachable", "connect-timeout",
 *          "protocol-error", "handshake-failed", "handshake-timeout", "cancelled";
 *          "unknown" out of range. Stable: stored by the appliance. */
const char *adapter_probe_status_name(adapter_probe_status status);

/* ==== 2. CA adapters ====================================================================
 *
 * A CA adapter turns a certificate signing request into a certificate, after certmonger's
 * helpers: every call ends in one outcome of a closed set, which the appliance stores
 * and acts on (enrollment state machine, DESIGN.md "Data flow" 3):
 *
 *   issued        the certificate and its chain are in the result; done.
 *   pending       the CA took the request but has not decided (approval, validation):
 *                 store the cookie, call poll(cookie) again after retry_after seconds.
 *   rejected      the CA refused this request for good (policy, bad CSR); the reason
 *                 says why; resubmitting the same request gives the same answer.
 *   unreachable   the CA could not be asked now (network, 5xx); retry after
 *                 retry_after seconds with the same request.
 *   unconfigured  the connector lacks something only an admin can supply (no CA key,
 *                 no account); the reason says what; do not retry until it changes.
 *   unsupported   this adapter does not do that operation (poll on a CA that never
 *                 answers pending, revoke on one that cannot).
 *   revoked       revoke only: the CA recorded the revocation.
 *
 * A clm_err other than CLM_OK means the call itself went wrong (a caller bug such as a
 * NULL argument, CLM_ERR_NO_MEMORY, CLM_ERR_INTERNAL): no outcome, nothing changed.
 * What the CA decides is an outcome with CLM_OK, never an error.
 *
 * Vendor fields: each adapter declares the fields it takes (adapter_field), once for the
 * connector (the CA account: URLs, credentials, limits) and once per request (profile,
 * validity); values arrive as name/value text pairs and are checked generically against
 * the declarations (adapters/ca/fields.h: unknown field, missing required, wrong type,
 * value not allowed, each an error naming the field), so the API rejects bad input
 * before anything is written.
 *
 * State: adapters keep no files and know no store. What a connector must remember (the
 * local CA's key and chain, its revocations; an ACME account key) goes through the
 * adapter_ca_state the appliance gives to open(): named items, written together or not
 * at all, secret ones sealed at rest by the appliance (store/seal.h).
 *
 * Thread rules: open and close are called once per connector instance, on one thread.
 * submit and poll MAY be called from several threads at once on one instance (enrollment
 * workers); revoke and crl too, and an implementation serialises what they change.
 */

/** Outcome of a CA call. Stable names: adapter_ca_outcome_name(). */
typedef enum adapter_ca_outcome {
    ADAPTER_CA_ISSUED = 0,
    ADAPTER_CA_PENDING,
    ADAPTER_CA_REJECTED,
    ADAPTER_CA_UNREACHABLE,
    ADAPTER_CA_UNCONFIGURED,
    ADAPTER_CA_UNSUPPORTED,
    ADAPTER_CA_REVOKED,
    ADAPTER_CA_OUTCOME_MAX
} adapter_ca_outcome;

/** Type of a vendor field's value. Stable names: adapter_field_type_name(). */
typedef enum adapter_field_type {
    ADAPTER_FIELD_STRING = 0, /* UTF-8 text without control characters, 1..max_len bytes */
    ADAPTER_FIELD_INT,        /* decimal integer in min..max */
    ADAPTER_FIELD_BOOL,       /* "true" or "false" */
    ADAPTER_FIELD_CHOICE,     /* one of allowed (exact, case-sensitive) */
    ADAPTER_FIELD_URL,        /* http:// or https:// URL without blanks or controls */
    ADAPTER_FIELD_TYPE_MAX
} adapter_field_type;

/** Declaration of one vendor field (the reference guide's "Vendor-Specific Details"). */
typedef struct adapter_field {
    const char *name;        /* MUST: [a-z0-9_]+, unique in its list */
    adapter_field_type type; /* MUST */
    bool required;           /* MAY: false: optional */
    const char *const *allowed; /* CHOICE: MUST, NULL-terminated; other types: NULL */
    int64_t min, max;           /* INT: MUST, the inclusive range */
    size_t max_len;             /* STRING, URL: MAY, 0: 1024 bytes */
    const char *help;           /* MUST: one line for forms and `clmctl ... describe` */
    /** MAY (connector fields of type STRING only): a credential (an API key, an EAB MAC
     *  key). The appliance keeps the value sealed at rest, never returns or logs it, and
     *  gives it to open() in clear like any other field. */
    bool secret;
} adapter_field;

/** One vendor field value as text; both strings borrowed for the call. */
typedef struct adapter_field_value {
    const char *name;
    const char *value;
} adapter_field_value;

/** A list of vendor field values. */
typedef struct adapter_fields {
    const adapter_field_value *v;
    size_t n;
} adapter_fields;

/** One item of connector state (see adapter_ca_state). */
typedef struct adapter_ca_state_item {
    const char *name;  /* [a-z0-9_]+ */
    const void *data;  /* borrowed for the call */
    size_t len;
    bool secret;       /* sealed at rest, never returned by the API, never logged */
} adapter_ca_state_item;

/**
 * Where a connector keeps what it must remember; implemented by the appliance (one
 * LMDB record per connector, secret items sealed), by tests in memory.
 */
typedef struct adapter_ca_state {
    /**
     * MUST: append the item's bytes to out (opened when secret; the caller wipes secret
     * buffers with clm_buf_wipe()).
     * @return CLM_OK; CLM_ERR_NOT_FOUND when never written; CLM_ERR_STORE, CLM_ERR_CRYPTO
     *         (a sealed item does not open).
     */
    clm_err (*get)(void *ctx, const char *name, clm_buf *out);
    /**
     * MUST: write the items, all or none (one transaction); items not named are kept.
     * @return CLM_OK; CLM_ERR_STORE, CLM_ERR_STORE_FULL, CLM_ERR_NO_MEMORY: nothing written.
     */
    clm_err (*put)(void *ctx, const adapter_ca_state_item *items, size_t n);
    void *ctx;
} adapter_ca_state;

/** What open() needs; everything borrowed until close(). */
typedef struct adapter_ca_config {
    const char *connector;   /* MUST: the connector's name, for messages */
    adapter_fields fields;   /* MUST: connector fields, already checked (check_fields) */
    adapter_ca_state *state; /* MUST */
    const clm_clock *clock;  /* MAY: NULL: the system clock */
} adapter_ca_config;

/** One enrollment. Everything borrowed for the call. */
typedef struct adapter_ca_request {
    const void *csr;       /* MUST: PKCS#10, PEM or DER */
    size_t csr_len;
    adapter_fields fields; /* MUST: request fields, already checked (check_fields) */
    const char *request_id; /* MAY: the appliance's id, for the CA's records and logs */
} adapter_ca_request;

/** RFC 5280 5.3.1 CRLReason codes (the values are the wire values). */
typedef enum adapter_ca_revoke_reason {
    ADAPTER_CA_REASON_UNSPECIFIED = 0,
    ADAPTER_CA_REASON_KEY_COMPROMISE = 1,
    ADAPTER_CA_REASON_CA_COMPROMISE = 2,
    ADAPTER_CA_REASON_AFFILIATION_CHANGED = 3,
    ADAPTER_CA_REASON_SUPERSEDED = 4,
    ADAPTER_CA_REASON_CESSATION_OF_OPERATION = 5,
    ADAPTER_CA_REASON_CERTIFICATE_HOLD = 6,
    /* 7 is not used */
    ADAPTER_CA_REASON_REMOVE_FROM_CRL = 8, /* delta CRLs only: never accepted by revoke */
    ADAPTER_CA_REASON_PRIVILEGE_WITHDRAWN = 9,
    ADAPTER_CA_REASON_AA_COMPROMISE = 10,
    ADAPTER_CA_REASON_MAX
} adapter_ca_revoke_reason;

/** One revocation. Strings borrowed for the call. */
typedef struct adapter_ca_revocation {
    const char *serial; /* MUST: hex, as facts.h prints it (upper or lower case) */
    adapter_ca_revoke_reason reason;
    const void *cert;   /* MAY: the certificate (DER), for CAs that revoke by certificate */
    size_t cert_len;
} adapter_ca_revocation;

/** One certificate, DER. */
typedef struct adapter_ca_der {
    const unsigned char *data;
    size_t len;
} adapter_ca_der;

/** Longest reason text kept, NUL included. */
#define ADAPTER_CA_REASON_TEXT_MAX 256

/**
 * The result of submit, poll or revoke. Zero-initialise before the call; release with
 * adapter_ca_result_free() after every call, whatever it returned (the arena may hold
 * memory). Everything it points to lives in its arena.
 */
typedef struct adapter_ca_result {
    adapter_ca_outcome outcome;
    char reason[ADAPTER_CA_REASON_TEXT_MAX]; /* not issued/revoked: why, for people */
    const char *cookie;  /* pending: opaque text the appliance stores and gives to poll */
    int64_t retry_after; /* pending, unreachable: seconds; 0: the caller's default */
    adapter_ca_der cert; /* issued: the certificate */
    adapter_ca_der *chain; /* issued: its issuers, nearest first, up to the root if known */
    size_t chain_len;
    const char *serial;  /* issued, revoked: upper-case hex (facts.h) */
    clm_arena arena;
} adapter_ca_result;

/** A configured connector: the adapter's own, opaque to the appliance. */
typedef struct adapter_ca adapter_ca;

/** Capability flags of a CA adapter. */
enum {
    ADAPTER_CA_F_PENDING = 1u << 0, /* may answer pending (then poll MUST be set) */
    ADAPTER_CA_F_REVOKE = 1u << 1,  /* revoke is set */
    ADAPTER_CA_F_CRL = 1u << 2,     /* crl is set */
    ADAPTER_CA_F_ROLLOVER = 1u << 3, /* rollover is set */
    ADAPTER_CA_F_REMOTE = 1u << 4,   /* the CA is across the network: a call may take
                                        seconds, so the appliance never makes it on an
                                        RPC thread */
};

/** A CA adapter implementation (adapters/ca/<name>/). */
typedef struct adapter_ca_ops {
    /** MUST: unique name ("local", "acme"). */
    const char *name;
    /** MAY: ADAPTER_CA_F_* bits. */
    unsigned flags;
    /** MUST (may be 0 long): the connector's fields. */
    const adapter_field *config_fields;
    size_t n_config_fields;
    /** MUST (may be 0 long): each request's fields. */
    const adapter_field *request_fields;
    size_t n_request_fields;
    /**
     * MUST: check field values against the declarations (ca_fields_check) and any rule
     * that spans fields; no network, no state. request false: connector fields; true:
     * request fields.
     * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field ("fields.profile: ...").
     */
    clm_err (*check_fields)(const adapter_fields *fields, bool request);
    /**
     * MUST: make a connector instance: read its state, parse keys once (submit must be
     * cheap). A connector that still lacks what only an admin can give opens fine and
     * answers unconfigured.
     * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT (fields); CLM_ERR_STORE, CLM_ERR_CRYPTO,
     *         CLM_ERR_PARSE (state unreadable: a message naming the item);
     *         CLM_ERR_NO_MEMORY.
     */
    clm_err (*open)(const adapter_ca_config *config, adapter_ca **out);
    /** MUST: free an instance (no call on it may be running). Accepts NULL. */
    void (*close)(adapter_ca *ca);
    /**
     * MUST: submit a request.
     * @param[out] out issued | pending | rejected | unreachable | unconfigured.
     * @return CLM_OK with an outcome; CLM_ERR_INVALID_ARGUMENT (NULL arguments);
     *         CLM_ERR_NO_MEMORY; CLM_ERR_STORE when the state cannot be written.
     */
    clm_err (*submit)(adapter_ca *ca, const adapter_ca_request *request,
                      adapter_ca_result *out);
    /** MAY (MUST with ADAPTER_CA_F_PENDING): ask again about a pending cookie; outcomes
     *  as submit (revoked for a pending revocation). */
    clm_err (*poll)(adapter_ca *ca, const char *cookie, adapter_ca_result *out);
    /** MAY (MUST with ADAPTER_CA_F_REVOKE): revoke a certificate.
     *  @param[out] out revoked | pending | rejected | unreachable | unconfigured. */
    clm_err (*revoke)(adapter_ca *ca, const adapter_ca_revocation *revocation,
                      adapter_ca_result *out);
    /** MAY (MUST with ADAPTER_CA_F_CRL): append the CA's current CRL (DER) to out.
     *  @return CLM_OK; CLM_ERR_UNAVAILABLE (not configured, unreachable); others. */
    clm_err (*crl)(adapter_ca *ca, clm_buf *out);
    /**
     * MAY (MUST with ADAPTER_CA_F_ROLLOVER): replace the key of the connector's account
     * at the CA (ACME keyChange, RFC 8555 7.3.5): a new key is made, the CA is told, and
     * only once it agreed is the new key written to the state (the old one is then
     * gone; a failed write leaves the CA expecting the new key and is reported as
     * CLM_ERR_STORE). Runs while submit and poll may run on other threads: they keep
     * the key they started with, so a request the CA refuses for the old key ends
     * rejected or unconfigured, and the next attempt signs with the new one.
     * @param[out] out issued (the CA now knows the new key; "issued" as in a new key
     *             issued to the account, nothing in cert) | rejected | unreachable |
     *             unconfigured (no account yet: nothing to roll over).
     * @return CLM_OK with an outcome; CLM_ERR_STORE (see above); CLM_ERR_NO_MEMORY.
     */
    clm_err (*rollover)(adapter_ca *ca, adapter_ca_result *out);
} adapter_ca_ops;

/**
 * @brief Register a CA adapter (at start-up, before threads). The CA registry lives in
 * adapters/ca (//adapters/ca, registry.c), beside the field checks it runs on the
 * declarations.
 * @param[in] ops a static table; name, check_fields, open, close, submit must be set,
 *            and poll, revoke, crl as its flags promise; the field lists must be valid
 *            declarations (names, allowed lists, ranges).
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming what is wrong;
 *         CLM_ERR_ALREADY_EXISTS (the name is taken); CLM_ERR_NO_MEMORY (full).
 */
clm_err adapter_ca_register(const adapter_ca_ops *ops);

/** @return the registered CA adapter of that name, or NULL. */
const adapter_ca_ops *adapter_ca_find(const char *name);

/** @return "issued", "pending", "rejected", "unreachable", "unconfigured",
 *          "unsupported", "revoked"; "unknown" out of range. Stable: stored. */
const char *adapter_ca_outcome_name(adapter_ca_outcome outcome);

/** @return "string", "int", "bool", "choice", "url"; "unknown" out of range. */
const char *adapter_field_type_name(adapter_field_type type);

/** @return RFC 5280's names: "unspecified", "keyCompromise", "cACompromise",
 *          "affiliationChanged", "superseded", "cessationOfOperation", "certificateHold",
 *          "removeFromCRL", "privilegeWithdrawn", "aACompromise"; "unknown" otherwise. */
const char *adapter_ca_revoke_reason_name(adapter_ca_revoke_reason reason);

/**
 * @brief Parse a reason name as adapter_ca_revoke_reason_name() gives it (ignoring case)
 * or its decimal code.
 * @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT naming the value (7 is not a reason).
 */
clm_err adapter_ca_revoke_reason_parse(const char *text, adapter_ca_revoke_reason *out);

/**
 * @brief Set an outcome with its reason (printf-style), for implementations.
 * @return CLM_OK, so that `return adapter_ca_result_set(...)` ends a call.
 */
clm_err adapter_ca_result_set(adapter_ca_result *result, adapter_ca_outcome outcome,
                              const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** Release what a result holds and zero it. Accepts NULL. */
void adapter_ca_result_free(adapter_ca_result *result);

/* ==== 3. Endpoint adapters ==============================================================
 * To come (adapters/windows/, adapters/aws/): test connection, discover, push, bind,
 * unbind, run a script, over the gateway, WinRM or SSM transports.
 */

#endif
