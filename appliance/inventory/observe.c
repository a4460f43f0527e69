/* appliance/inventory/observe.c: certificates seen in the field (observe.h). */
#include "appliance/inventory/observe.h"

#include <string.h>

#include "appliance/inventory/certs.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"

static Clm__Store__V1__CertificateSource *new_source(clm_arena *arena,
                                                     const inventory_observation *o)
{
    Clm__Store__V1__CertificateSource *s = clm_arena_alloc(arena, sizeof(*s));

    if (s == NULL)
        return NULL;
    clm__store__v1__certificate_source__init(s);
    s->kind = (char *)o->kind;
    s->endpoint = (char *)(o->endpoint ? o->endpoint : "");
    s->first_seen = s->last_seen = o->now_ns;
    return s;
}

static int same_source(const Clm__Store__V1__CertificateSource *s, const inventory_observation *o)
{
    return strcmp(s->kind, o->kind) == 0 && strcmp(s->endpoint, o->endpoint ? o->endpoint : "") == 0;
}

/* Add the source, or move its last_seen; make room by dropping the stalest. */
static clm_err merge_source(clm_arena *arena, Clm__Store__V1__CertificateRecord *r,
                            const inventory_observation *o)
{
    Clm__Store__V1__CertificateSource **grown;
    size_t stalest = 0;

    for (size_t i = 0; i < r->n_sources; i++) {
        if (same_source(r->sources[i], o)) {
            r->sources[i]->last_seen = o->now_ns;
            return CLM_OK;
        }
        if (r->sources[i]->last_seen < r->sources[stalest]->last_seen)
            stalest = i;
    }
    if (r->n_sources >= OBSERVE_MAX_SOURCES) {
        r->sources[stalest] = new_source(arena, o);
        return r->sources[stalest] ? CLM_OK : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    if ((grown = clm_arena_alloc(arena, (r->n_sources + 1) * sizeof(*grown))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if (r->n_sources)
        memcpy(grown, r->sources, r->n_sources * sizeof(*grown));
    if ((grown[r->n_sources] = new_source(arena, o)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    r->sources = grown;
    r->n_sources++;
    return CLM_OK;
}

clm_err inventory_observe(store_txn *txn, clm_arena *arena, const inventory_observation *o,
                          uint64_t *id, bool *added)
{
    Clm__Store__V1__CertificateRecord *r;
    unsigned char key[8];
    clm_err err;

    *id = 0;
    *added = false;
    err = inventory_cert_find(txn, arena, o->facts->sha256, &r);
    if (err == CLM_OK) {
        if ((err = merge_source(arena, r, o)) != CLM_OK)
            return err;
        *id = r->id;
        return inventory_cert_put(txn, r, o->now_ns);
    }
    if (err != CLM_ERR_NOT_FOUND)
        return err;
    clm_error_clear();
    if (!o->add_new)
        return CLM_OK;
    if ((r = clm_arena_alloc(arena, sizeof(*r))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__store__v1__certificate_record__init(r);
    if ((err = store_seq_next(txn, &inventory_certificates, 1, &r->id)) != CLM_OK)
        return err;
    r->der.data = (uint8_t *)o->der;
    r->der.len = o->der_len;
    inventory_fill_facts(arena, o->facts, r);
    r->status = o->status;
    r->group_id = o->group_id ? o->group_id : INVENTORY_DEFAULT_GROUP_ID;
    r->sources = clm_arena_alloc(arena, sizeof(*r->sources));
    if (r->sources == NULL || (r->sources[0] = new_source(arena, o)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    r->n_sources = 1;
    r->created_at = r->updated_at = o->now_ns;
    inventory_id_key(r->id, key);
    if ((err = store_put(txn, &inventory_certificates, key, 8, &r->base, STORE_PUT_APPEND)) !=
        CLM_OK)
        return err;
    *id = r->id;
    *added = true;
    return CLM_OK;
}
