/* adapters/adapter.c: the contracts' registries and stable names. */
#include "adapters/adapter.h"

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
