/* adapters/adapter.c: the contracts' registries and stable names. */
#include "adapters/adapter.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const adapter_probe_ops *probe_registry[ADAPTER_REGISTRY_MAX];
static size_t probe_count;

clm_err adapter_probe_register(const adapter_probe_ops *ops)
{
    if (ops == NULL || ops->name == NULL || ops->name[0] == '\0' || ops->check == NULL ||
        ops->sweep == NULL || ops->report_free == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "an endpoint probe needs a name, check, sweep and report_free");
    if (adapter_probe_find(ops->name) != NULL)
        return clm_fail(CLM_ERR_ALREADY_EXISTS, "endpoint probe \"%s\" is already registered",
                        ops->name);
    if (probe_count == ADAPTER_REGISTRY_MAX)
        return clm_fail(CLM_ERR_NO_MEMORY, "the endpoint probe registry is full (%d)",
                        ADAPTER_REGISTRY_MAX);
    probe_registry[probe_count++] = ops;
    return CLM_OK;
}

const adapter_probe_ops *adapter_probe_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < probe_count; i++)
        if (strcasecmp(probe_registry[i]->name, name) == 0)
            return probe_registry[i];
    return NULL;
}

static const char *const protocol_names[ADAPTER_PROBE_PROTOCOL_MAX] = {
    [ADAPTER_PROBE_AUTO] = "auto", [ADAPTER_PROBE_TLS] = "tls",   [ADAPTER_PROBE_SMTP] = "smtp",
    [ADAPTER_PROBE_IMAP] = "imap", [ADAPTER_PROBE_POP3] = "pop3",
};

const char *adapter_probe_protocol_name(adapter_probe_protocol protocol)
{
    if ((unsigned)protocol >= ADAPTER_PROBE_PROTOCOL_MAX)
        return "unknown";
    return protocol_names[protocol];
}

clm_err adapter_probe_protocol_parse(const char *name, adapter_probe_protocol *out)
{
    for (int i = 0; name != NULL && i < ADAPTER_PROBE_PROTOCOL_MAX; i++) {
        if (strcasecmp(name, protocol_names[i]) == 0) {
            *out = (adapter_probe_protocol)i;
            return CLM_OK;
        }
    }
    return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                    "protocol \"%s\" is not one of auto, tls, smtp, imap, pop3", name ? name : "");
}

static const char *const status_names[ADAPTER_PROBE_STATUS_MAX] = {
    [ADAPTER_PROBE_OK] = "ok",
    [ADAPTER_PROBE_UNRESOLVED] = "unresolved",
    [ADAPTER_PROBE_REFUSED] = "refused",
    [ADAPTER_PROBE_UNREACHABLE] = "unreachable",
    [ADAPTER_PROBE_CONNECT_TIMEOUT] = "connect-timeout",
    [ADAPTER_PROBE_PROTOCOL_ERROR] = "protocol-error",
    [ADAPTER_PROBE_HANDSHAKE_FAILED] = "handshake-failed",
    [ADAPTER_PROBE_HANDSHAKE_TIMEOUT] = "handshake-timeout",
    [ADAPTER_PROBE_CANCELLED] = "cancelled",
};

const char *adapter_probe_status_name(adapter_probe_status status)
{
    if ((unsigned)status >= ADAPTER_PROBE_STATUS_MAX)
        return "unknown";
    return status_names[status];
}

/* ---- CA adapters: stable names and results (the registry is adapters/ca/registry.c,
 * which checks field declarations with adapters/ca/fields.c) ---- */

static const char *const outcome_names[ADAPTER_CA_OUTCOME_MAX] = {
    [ADAPTER_CA_ISSUED] = "issued",
    [ADAPTER_CA_PENDING] = "pending",
    [ADAPTER_CA_REJECTED] = "rejected",
    [ADAPTER_CA_UNREACHABLE] = "unreachable",
    [ADAPTER_CA_UNCONFIGURED] = "unconfigured",
    [ADAPTER_CA_UNSUPPORTED] = "unsupported",
    [ADAPTER_CA_REVOKED] = "revoked",
};

const char *adapter_ca_outcome_name(adapter_ca_outcome outcome)
{
    if ((unsigned)outcome >= ADAPTER_CA_OUTCOME_MAX)
        return "unknown";
    return outcome_names[outcome];
}

static const char *const field_type_names[ADAPTER_FIELD_TYPE_MAX] = {
    [ADAPTER_FIELD_STRING] = "string", [ADAPTER_FIELD_INT] = "int",
    [ADAPTER_FIELD_BOOL] = "bool",     [ADAPTER_FIELD_CHOICE] = "choice",
    [ADAPTER_FIELD_URL] = "url",
};

const char *adapter_field_type_name(adapter_field_type type)
{
    if ((unsigned)type >= ADAPTER_FIELD_TYPE_MAX)
        return "unknown";
    return field_type_names[type];
}

static const char *const reason_names[ADAPTER_CA_REASON_MAX] = {
    [ADAPTER_CA_REASON_UNSPECIFIED] = "unspecified",
    [ADAPTER_CA_REASON_KEY_COMPROMISE] = "keyCompromise",
    [ADAPTER_CA_REASON_CA_COMPROMISE] = "cACompromise",
    [ADAPTER_CA_REASON_AFFILIATION_CHANGED] = "affiliationChanged",
    [ADAPTER_CA_REASON_SUPERSEDED] = "superseded",
    [ADAPTER_CA_REASON_CESSATION_OF_OPERATION] = "cessationOfOperation",
    [ADAPTER_CA_REASON_CERTIFICATE_HOLD] = "certificateHold",
    [ADAPTER_CA_REASON_REMOVE_FROM_CRL] = "removeFromCRL",
    [ADAPTER_CA_REASON_PRIVILEGE_WITHDRAWN] = "privilegeWithdrawn",
    [ADAPTER_CA_REASON_AA_COMPROMISE] = "aACompromise",
};

const char *adapter_ca_revoke_reason_name(adapter_ca_revoke_reason reason)
{
    if ((unsigned)reason >= ADAPTER_CA_REASON_MAX || reason_names[reason] == NULL)
        return "unknown";
    return reason_names[reason];
}

clm_err adapter_ca_revoke_reason_parse(const char *text, adapter_ca_revoke_reason *out)
{
    if (text != NULL && text[0] >= '0' && text[0] <= '9' &&
        (text[1] == '\0' || (text[1] >= '0' && text[1] <= '9' && text[2] == '\0'))) {
        int code = text[1] ? (text[0] - '0') * 10 + (text[1] - '0') : text[0] - '0';
        if (code < ADAPTER_CA_REASON_MAX && reason_names[code] != NULL) {
            *out = (adapter_ca_revoke_reason)code;
            return CLM_OK;
        }
    }
    for (int i = 0; text != NULL && i < ADAPTER_CA_REASON_MAX; i++) {
        if (reason_names[i] != NULL && strcasecmp(text, reason_names[i]) == 0) {
            *out = (adapter_ca_revoke_reason)i;
            return CLM_OK;
        }
    }
    return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                    "reason \"%.32s\" is not an RFC 5280 CRLReason (unspecified, keyCompromise, "
                    "cACompromise, affiliationChanged, superseded, cessationOfOperation, "
                    "certificateHold, privilegeWithdrawn, aACompromise, or 0-6, 9, 10)",
                    text ? text : "");
}

clm_err adapter_ca_result_set(adapter_ca_result *result, adapter_ca_outcome outcome,
                              const char *fmt, ...)
{
    va_list ap;

    result->outcome = outcome;
    va_start(ap, fmt);
    vsnprintf(result->reason, sizeof result->reason, fmt, ap);
    va_end(ap);
    return CLM_OK;
}

void adapter_ca_result_free(adapter_ca_result *result)
{
    if (result == NULL)
        return;
    clm_arena_free(&result->arena);
    memset(result, 0, sizeof *result);
}
