/* adapters/ca/acme/acme_internal.h: the ACME connector instance and the client steps
 * its sources share (acme.c: fields, account, transport; order.c: orders, revocation,
 * rollover). */
#ifndef CLM_ADAPTERS_CA_ACME_INTERNAL_H
#define CLM_ADAPTERS_CA_ACME_INTERNAL_H

#include "adapters/ca/acme/acme.h"
#include "adapters/ca/acme/jws.h"
#include "adapters/ca/acme/parse.h"
#include "adapters/ca/acme/solver.h"
#include "lib/base/arena.h"
#include "lib/base/buf.h"
#include "lib/http/http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define ACME_NONCE_POOL 32
#define ACME_MAX_ORDERS_DEFAULT 16
#define ACME_ORDER_WAIT_DEFAULT 60
/** retry_after of a pending answer when the server gave none. */
#define ACME_PENDING_RETRY_DEFAULT 30
/** retry_after of an unreachable answer when the server gave none. */
#define ACME_UNREACHABLE_RETRY_DEFAULT 60

/** The account: its key and URL, refcounted (rollover replaces it under the lock). */
typedef struct acme_account {
    atomic_int refs;
    acme_jwk_key key;
    char *url;
} acme_account;

struct adapter_ca {
    char *connector;
    adapter_ca_state *state;
    const clm_clock *clock;
    char *directory_url;
    char *ca_file, *ca_pem;
    http_tls_options tls;
    char *contact;
    bool terms_agreed;
    char *eab_kid;
    unsigned char *eab_mac; /* decoded; wiped at close */
    size_t eab_mac_len;
    char *preferred_chain;
    int max_orders;
    int order_wait_seconds;
    const acme_solver_kind *solver;
    void *solver_ctx;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t slot_free;
    int in_flight;
    bool have_directory;
    acme_directory directory; /* in directory_arena */
    clm_arena directory_arena;
    char *nonces[ACME_NONCE_POOL];
    size_t n_nonces;
    acme_account *account; /* NULL until loaded or made */
    pthread_mutex_t account_lock; /* serialises making the account and rollover */
    atomic_long bad_nonces; /* badNonce answers retried, for tests and logs */
};

/**
 * One call's context. Steps return true to go on; false when the call ends: then
 * either decided is set (the outcome is in out) or err holds a hard error.
 */
typedef struct acme_call {
    adapter_ca *ca;
    acme_account *account; /* a reference, dropped at the end */
    adapter_ca_result *out;
    clm_arena arena; /* per call scratch */
    bool decided;
    clm_err err;
    int64_t deadline_ns; /* monotonic: when to answer pending */
    bool challenges_posted; /* poll: the submit that answered pending already responded to
                               every challenge; posting again makes some servers (pebble)
                               validate again, possibly after the cleanup */
} acme_call;

/** Set the outcome (printf reason) and return false. */
bool acme_decide(acme_call *c, adapter_ca_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** A hard error from the thread's message: returns false. */
bool acme_hard(acme_call *c, clm_err err);

void acme_account_unref(acme_account *account);

/** Begin a call: wait for an order slot when `slot`. */
void acme_call_begin(acme_call *c, adapter_ca *ca, adapter_ca_result *out, bool slot);
/** End it: release the slot and the account; @return what the call returns. */
clm_err acme_call_end(acme_call *c, bool slot);

/** The directory, fetched once. */
bool acme_directory_get(acme_call *c, const acme_directory **dir);

/** Make sure c->account is set: from the state, or a new account (newAccount). */
bool acme_account_ensure(acme_call *c);

/**
 * POST a JWS to url (payload NULL: POST-as-GET) signed with the call's account (kid),
 * retrying badNonce. On any response below 400 returns true with it; on a problem
 * decides: 5xx/429/rateLimited unreachable, account problems unconfigured, others
 * rejected (prefixed with `what`).
 */
bool acme_post(acme_call *c, const char *url, const char *payload, const char *accept,
               const char *what, http_response *resp);

/**
 * The same with explicit signing: key and kid (NULL kid: the JWK), returning any
 * response after the badNonce retries (the caller reads its status).
 */
bool acme_post_signed(acme_call *c, const acme_jwk_key *key, const char *kid, const char *url,
                      const char *payload, const char *accept, http_response *resp);

/** Decide from a problem response (status >= 400); returns false. */
bool acme_decide_problem(acme_call *c, const http_response *resp, const char *what,
                         bool account_request);

/** Retry-After of a response in seconds, or dflt. */
int64_t acme_retry_after(const acme_call *c, const http_response *resp, int64_t dflt);

/** Sleep up to ms, not past the deadline; false when the deadline passed. */
bool acme_sleep(acme_call *c, int64_t ms);

#endif
