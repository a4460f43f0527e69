/*
 * Fuzz target: a CreateConnectorRequest from the API (protobuf bytes) through
 * connector_validate, which runs the adapter's generic vendor field checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/ca/connectors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int registered;
    Clm__V1__CreateConnectorRequest *req;

    if (!registered) {
        if (connectors_register_adapters() != CLM_OK)
            abort();
        registered = 1;
    }
    req = clm__v1__create_connector_request__unpack(NULL, size, data);
    if (req == NULL)
        return 0;
    if (connector_validate(req->connector, "connector.") == CLM_OK) {
        const Clm__V1__Connector *c = req->connector;
        /* what was accepted keeps the documented limits */
        if (strlen(c->description) > CONNECTOR_DESCRIPTION_MAX || c->name[0] == '\0' ||
            strlen(c->name) > CONNECTOR_NAME_MAX ||
            (c->auto_renew && c->auto_renew->days_before_expiry > 120) ||
            adapter_ca_find(c->type) == NULL)
            abort();
    }
    clm__v1__create_connector_request__free_unpacked(req, NULL);
    return 0;
}
