/* lib/pki/oid.c: binary search in OpenSSL's object table (oid_table.inc). */
#include "lib/pki/oid.h"

static const pki_oid_entry oid_table[] = {
#include "lib/pki/oid_table.inc"
};

#define OID_TABLE_SIZE (sizeof oid_table / sizeof *oid_table)

/* Byte order, a prefix before its extensions: the order gen_oid_table.py sorts in. */
static int compare(const unsigned char *a, size_t alen, const pki_oid_entry *e)
{
    size_t n = alen < e->len ? alen : e->len;
    const unsigned char *b = (const unsigned char *)e->der;

    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    }
    return alen < e->len ? -1 : alen > e->len ? 1 : 0;
}

const pki_oid_entry *pki_oid_find(const unsigned char *der, size_t len)
{
    size_t lo = 0, hi = OID_TABLE_SIZE;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = compare(der, len, &oid_table[mid]);

        if (c == 0)
            return &oid_table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t pki_oid_table(const pki_oid_entry **out)
{
    *out = oid_table;
    return OID_TABLE_SIZE;
}
