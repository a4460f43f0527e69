/*
 * adapters/ca/acme/testing.h: an ACME connector for the adapter's tests (testonly): its
 * vendor fields, a state in memory (adapters/ca/memory_state.h) and the open adapter.
 */
#ifndef CLM_ADAPTERS_CA_ACME_TESTING_H
#define CLM_ADAPTERS_CA_ACME_TESTING_H

#include "adapters/ca/acme/acme.h"
#include "adapters/ca/memory_state.h"

typedef struct connector {
    ca_memory_state state;
    adapter_ca *ca;
    adapter_field_value v[16];
    size_t n;
} connector;

/** Add a vendor field (the strings are borrowed). */
static inline void connector_field(connector *c, const char *name, const char *value)
{
    c->v[c->n++] = (adapter_field_value){name, value};
}

/** Close the adapter and free the state. */
static inline void connector_free(connector *c)
{
    ca_acme_ops.close(c->ca);
    c->ca = NULL;
    ca_memory_state_free(&c->state);
}

#endif
