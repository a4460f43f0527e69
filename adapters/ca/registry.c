/* adapters/ca/registry.c: the CA adapters' registry (adapter.h contract 2). */
#include "adapters/adapter.h"
#include "adapters/ca/fields.h"

#include <stdio.h>
#include <strings.h>

static const adapter_ca_ops *ca_registry[ADAPTER_REGISTRY_MAX];
static size_t ca_count;

clm_err adapter_ca_register(const adapter_ca_ops *ops)
{
    char what[96];
    clm_err err;

    if (ops == NULL || ops->name == NULL || ops->name[0] == '\0' || ops->check_fields == NULL ||
        ops->open == NULL || ops->close == NULL || ops->submit == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "a CA adapter needs a name, check_fields, open, close and submit");
    if (((ops->flags & ADAPTER_CA_F_PENDING) && ops->poll == NULL) ||
        ((ops->flags & ADAPTER_CA_F_REVOKE) && ops->revoke == NULL) ||
        ((ops->flags & ADAPTER_CA_F_CRL) && ops->crl == NULL))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "CA adapter \"%s\": its flags promise poll, revoke or crl, which is NULL",
                        ops->name);
    snprintf(what, sizeof what, "%s: config_fields", ops->name);
    if ((err = ca_fields_check_declarations(ops->config_fields, ops->n_config_fields, what)) !=
        CLM_OK)
        return err;
    snprintf(what, sizeof what, "%s: request_fields", ops->name);
    if ((err = ca_fields_check_declarations(ops->request_fields, ops->n_request_fields, what)) !=
        CLM_OK)
        return err;
    /* Only connector fields are sealed at rest (appliance/ca/connectors.c); a request
       field travels in work orders and replies, so it cannot hold a credential. */
    for (size_t i = 0; i < ops->n_request_fields; i++)
        if (ops->request_fields[i].secret)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%s: request_fields.%s: a request field cannot be secret (only "
                            "connector fields are sealed)",
                            ops->name, ops->request_fields[i].name);
    if (adapter_ca_find(ops->name) != NULL)
        return clm_fail(CLM_ERR_ALREADY_EXISTS, "CA adapter \"%s\" is already registered",
                        ops->name);
    if (ca_count == ADAPTER_REGISTRY_MAX)
        return clm_fail(CLM_ERR_NO_MEMORY, "the CA adapter registry is full (%d)",
                        ADAPTER_REGISTRY_MAX);
    ca_registry[ca_count++] = ops;
    return CLM_OK;
}

const adapter_ca_ops *adapter_ca_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < ca_count; i++)
        if (strcasecmp(ca_registry[i]->name, name) == 0)
            return ca_registry[i];
    return NULL;
}
