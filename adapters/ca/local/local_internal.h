/* adapters/ca/local/local_internal.h: the local CA instance, shared by its sources. */
#ifndef CLM_ADAPTERS_CA_LOCAL_INTERNAL_H
#define CLM_ADAPTERS_CA_LOCAL_INTERNAL_H

#include "adapters/ca/local/local.h"
#include "lib/base/buf.h"

#include <openssl/x509.h>
#include <pthread.h>

/* Connector field defaults. */
#define CA_LOCAL_CRL_DAYS_DEFAULT 7

struct adapter_ca {
    char *connector;
    adapter_ca_state *state;
    const clm_clock *clock;
    bool configured;     /* the state holds a key and chain */
    /* Read-only after open: submit reads them from any thread without locks. */
    EVP_PKEY *key;       /* the issuing CA's */
    X509 *cert;          /* the issuing CA's */
    int64_t cert_not_after;
    unsigned char **chain_der; /* the chain as DER, issuing CA first */
    size_t *chain_len;
    size_t n_chain;
    const ca_local_profile *profiles;
    size_t n_profiles;
    const ca_local_profile *default_profile;
    char *crl_url, *ocsp_url, *issuer_url; /* NULL when not configured */
    int crl_days;
    /* Revocation state, under lock. */
    pthread_mutex_t lock;
    ca_local_revoked *revoked; /* malloc'd; grows by doubling */
    size_t n_revoked, cap_revoked;
    int64_t crl_number;
};

/** The serial as ca_local_revoked.serial spells it. CLM_ERR_PARSE unless 1..20 bytes
 * and positive. */
clm_err ca_local_serial_hex(const ASN1_INTEGER *serial, char out[41]);

/** Encode the revocation list as the "revoked" state item. */
clm_err ca_local_revoked_encode(const ca_local_revoked *list, size_t n, clm_buf *out);

/** Read the revocation state items into ca (at open). */
clm_err ca_local_revocation_load(adapter_ca *ca);

clm_err ca_local_revoke(adapter_ca *ca, const adapter_ca_revocation *revocation,
                        adapter_ca_result *out);
clm_err ca_local_crl(adapter_ca *ca, clm_buf *out);

/** The clock's now, seconds since the epoch. */
int64_t ca_local_now(const adapter_ca *ca);

#endif
