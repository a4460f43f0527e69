/*
 * appliance/auth.h: who may call clmd, and with which role.
 *
 * Unix socket: root and the service user are admin; other uids only when listed in
 * [auth] unix_roles ("1000:operator, 1001:viewer"); everyone else is refused at
 * connect time. Mutual TLS: the client certificate was verified against the
 * appliance CA by gRPC; its role comes from the role map file (first match of the
 * full subject or the CN) and otherwise from its OU (an OU named like a role).
 *
 * An auth_policy is immutable once loaded; SIGHUP loads a new one and swaps it in
 * (appliance/app.c), so lookups need no lock on the policy itself.
 */
#ifndef CLM_APPLIANCE_AUTH_H
#define CLM_APPLIANCE_AUTH_H

#include <sys/types.h>

#include "appliance/config.h"
#include "appliance/rpc/rpc.h"

typedef struct auth_policy auth_policy;

/**
 * @brief Build the policy from [auth] unix_roles, service_user and role_map.
 * @return CLM_OK; CLM_ERR_CONFIG naming the key, file and line at fault.
 */
clm_err auth_policy_load(const clm_config *cfg, auth_policy **policy);
void auth_policy_free(auth_policy *policy);

/** Role of a local uid; RPC_ROLE_NONE when it may not connect. */
rpc_role auth_unix_role(const auth_policy *policy, uid_t uid);

/** Fill peer->role and peer->identity for a verified certificate subject (RFC 2253). */
void auth_tls_identify(const auth_policy *policy, const char *subject, rpc_peer *peer);

/**
 * @brief Find an attribute (e.g. "CN", "OU") in an RFC 2253 subject string,
 * unescaping RFC 4514 escapes. `skip` picks the n-th occurrence (0 = first).
 * @return 1 and the value in out, or 0 when absent.
 */
int auth_subject_attribute(const char *subject, const char *type, int skip, char *out,
                           size_t out_size);

#endif
