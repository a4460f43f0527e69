/* appliance/inventory/tables.c: index key functions of the inventory tables. */
#include "appliance/inventory/tables.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <string.h>

#include "lib/base/buf.h"

void inventory_id_key(uint64_t id, unsigned char key[8])
{
    clm_put_be64(key, id);
}

void inventory_expiry_key(int64_t not_after, unsigned char key[8])
{
    clm_put_be64(key, (uint64_t)not_after ^ (UINT64_C(1) << 63)); /* signed -> sortable */
}

size_t inventory_name_key(const char *name, char *out, size_t out_size)
{
    size_t len = strlen(name);
    size_t n = 0;
    const char *end = name + len;

    while (len > 0 && name[len - 1] == '.')
        end = name + --len; /* "example.com." is "example.com" */
    if (len == 0 || len + 2 > out_size)
        return 0;
    /* copy labels from the last to the first, each followed by '.' */
    while (end > name) {
        const char *start = end;
        while (start > name && start[-1] != '.')
            start--;
        for (const char *p = start; p < end; p++)
            out[n++] = (char)tolower((unsigned char)*p);
        out[n++] = '.';
        end = start > name ? start - 1 : name;
    }
    out[n] = '\0';
    return n;
}

#define RECORD(r) ((const Clm__Store__V1__CertificateRecord *)(r))

static clm_err key_sha256(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    (void)arg;
    return RECORD(r)->sha256.len ? store_keys_add(keys, RECORD(r)->sha256.data,
                                                  RECORD(r)->sha256.len)
                                 : clm_fail(CLM_ERR_INVALID_ARGUMENT, "certificate: no sha256");
}

static clm_err key_sha1(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    (void)arg;
    return RECORD(r)->sha1.len ? store_keys_add(keys, RECORD(r)->sha1.data, RECORD(r)->sha1.len)
                               : CLM_OK;
}

static clm_err key_expiry(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    unsigned char key[8];

    (void)arg;
    inventory_expiry_key(RECORD(r)->not_after, key);
    return store_keys_add(keys, key, sizeof(key));
}

static clm_err key_issuer_serial(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    unsigned char key[32 + 128];
    unsigned int n = 0;
    size_t serial_len = strlen(RECORD(r)->serial_hex);

    (void)arg;
    if (serial_len == 0 || serial_len > 128)
        return CLM_OK;
    if (!EVP_Digest(RECORD(r)->issuer, strlen(RECORD(r)->issuer), key, &n, EVP_sha256(), NULL))
        return clm_fail(CLM_ERR_CRYPTO, "hashing the issuer failed");
    memcpy(key + 32, RECORD(r)->serial_hex, serial_len);
    return store_keys_add(keys, key, 32 + serial_len);
}

static clm_err add_name(store_keys *keys, const char *name)
{
    char key[STORE_KEY_MAX + 1];
    size_t n = inventory_name_key(name, key, sizeof(key));

    return n ? store_keys_add(keys, key, n) : CLM_OK;
}

static clm_err key_names(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    clm_err err = CLM_OK;

    (void)arg;
    if (RECORD(r)->common_name[0] != '\0')
        err = add_name(keys, RECORD(r)->common_name);
    for (size_t i = 0; err == CLM_OK && i < RECORD(r)->n_dns_names; i++)
        err = add_name(keys, RECORD(r)->dns_names[i]);
    return err;
}

/* lower-cased copy of text into key, at most STORE_KEY_MAX bytes */
static size_t lower_key(const char *text, char *key)
{
    size_t n = 0;

    for (; text[n] != '\0' && n < STORE_KEY_MAX; n++)
        key[n] = (char)tolower((unsigned char)text[n]);
    return n;
}

static clm_err key_common_name(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    char key[STORE_KEY_MAX];
    size_t n = lower_key(RECORD(r)->common_name, key);

    (void)arg;
    /* certificates without a CN sort first, under a single NUL byte */
    return n ? store_keys_add(keys, key, n) : store_keys_add(keys, "", 1);
}

static clm_err key_group(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    unsigned char key[8];

    (void)arg;
    clm_put_be64(key, RECORD(r)->group_id ? RECORD(r)->group_id : INVENTORY_DEFAULT_GROUP_ID);
    return store_keys_add(keys, key, sizeof(key));
}

static clm_err key_status(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    unsigned char key = (unsigned char)RECORD(r)->status;

    (void)arg;
    return store_keys_add(keys, &key, 1);
}

static clm_err key_source_device(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    char key[STORE_KEY_MAX];
    clm_err err = CLM_OK;

    (void)arg;
    for (size_t i = 0; err == CLM_OK && i < RECORD(r)->n_sources; i++) {
        const Clm__Store__V1__CertificateSource *s = RECORD(r)->sources[i];
        size_t n = lower_key(s->device, key);
        if (n > 0)
            err = store_keys_add(keys, key, n);
    }
    return err;
}

static clm_err key_attribute(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    char key[STORE_KEY_MAX];
    clm_err err = CLM_OK;

    (void)arg;
    for (size_t i = 0; err == CLM_OK && i < RECORD(r)->n_attributes; i++) {
        size_t n = lower_key(RECORD(r)->attributes[i]->key, key);
        if (n > 0)
            err = store_keys_add(keys, key, n);
    }
    return err;
}

static clm_err key_ski(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    (void)arg;
    return RECORD(r)->ski.len ? store_keys_add(keys, RECORD(r)->ski.data, RECORD(r)->ski.len)
                              : CLM_OK;
}

static const store_index certificate_indexes[CERT_INDEX_MAX] = {
    [CERT_INDEX_SHA256] = {"sha256", STORE_INDEX_UNIQUE, 1, key_sha256, NULL},
    [CERT_INDEX_SHA1] = {"sha1", 0, 1, key_sha1, NULL},
    [CERT_INDEX_EXPIRY] = {"expiry", 0, 1, key_expiry, NULL},
    [CERT_INDEX_ISSUER_SERIAL] = {"issuer_serial", 0, 1, key_issuer_serial, NULL},
    [CERT_INDEX_NAMES] = {"names", 0, 1, key_names, NULL},
    [CERT_INDEX_COMMON_NAME] = {"common_name", 0, 1, key_common_name, NULL},
    [CERT_INDEX_GROUP] = {"group_id", 0, 1, key_group, NULL},
    [CERT_INDEX_STATUS] = {"status", 0, 1, key_status, NULL},
    [CERT_INDEX_SOURCE_DEVICE] = {"source_device", 0, 1, key_source_device, NULL},
    [CERT_INDEX_ATTRIBUTE] = {"attribute", 0, 1, key_attribute, NULL},
    [CERT_INDEX_SKI] = {"ski", 0, 1, key_ski, NULL},
};

const store_table inventory_certificates = {
    "certificates", &clm__store__v1__certificate_record__descriptor, certificate_indexes,
    CERT_INDEX_MAX};

static clm_err key_group_name(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    char key[STORE_KEY_MAX];
    size_t n = lower_key(((const Clm__Store__V1__GroupRecord *)r)->name, key);

    (void)arg;
    return n ? store_keys_add(keys, key, n)
             : clm_fail(CLM_ERR_INVALID_ARGUMENT, "group: empty name");
}

static const store_index group_indexes[] = {
    [GROUP_INDEX_NAME] = {"name", STORE_INDEX_UNIQUE, 1, key_group_name, NULL},
};

const store_table inventory_groups = {"groups", &clm__store__v1__group_record__descriptor,
                                      group_indexes, 1};
