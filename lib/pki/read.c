/* lib/pki/read.c: format sniffing, the item list, and the single-object DER readers. */
#include "lib/pki/read.h"

#include "lib/pki/der.h"
#include "lib/pki/key.h"
#include "lib/pki/read_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *pki_format_name(pki_format format)
{
    static const char *const names[PKI_FORMAT_MAX] = {
        [PKI_FORMAT_UNKNOWN] = "unknown",
        [PKI_FORMAT_PEM] = "PEM",
        [PKI_FORMAT_DER_CERT] = "DER certificate",
        [PKI_FORMAT_PKCS7] = "PKCS#7",
        [PKI_FORMAT_PKCS12] = "PKCS#12",
        [PKI_FORMAT_JKS] = "JKS",
        [PKI_FORMAT_DER_KEY] = "DER private key",
        [PKI_FORMAT_DER_CSR] = "DER certificate request",
        [PKI_FORMAT_JCEKS] = "JCEKS",
    };

    return (unsigned)format < PKI_FORMAT_MAX ? names[format] : "unknown";
}

/* ---- sniffing ------------------------------------------------------------------------- */

static const unsigned char oid_signed_data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                0x0d, 0x01, 0x07, 0x02};

/* A certificate's TBSCertificate starts [0] version or INTEGER serial, SEQUENCE
 * algorithm, SEQUENCE issuer, SEQUENCE validity; a request's CertificationRequestInfo
 * INTEGER version, SEQUENCE subject, SEQUENCE key, [0] attributes. */
static pki_format sniff_signed(const pki_der_tlv *inner)
{
    pki_der t = pki_der_contents(inner);
    pki_der_tlv e[4];

    for (int i = 0; i < 4; i++) {
        if (!pki_ber_next(&t, &e[i]))
            return PKI_FORMAT_UNKNOWN;
        if (i == 0 && e[0].tag == PKI_DER_CONTEXT_CONSTRUCTED(0))
            return PKI_FORMAT_DER_CERT;
    }
    if (e[0].tag != PKI_DER_INTEGER)
        return PKI_FORMAT_UNKNOWN;
    if (e[3].tag == PKI_DER_CONTEXT_CONSTRUCTED(0))
        return PKI_FORMAT_DER_CSR;
    return e[3].tag == PKI_DER_SEQUENCE ? PKI_FORMAT_DER_CERT : PKI_FORMAT_UNKNOWN;
}

static pki_format sniff_der(const unsigned char *data, size_t len)
{
    pki_der d = pki_der_make(data, len), in;
    pki_der_tlv outer, a, b, c;

    if (!pki_ber_next(&d, &outer) || outer.tag != PKI_DER_SEQUENCE)
        return PKI_FORMAT_UNKNOWN;
    in = pki_der_contents(&outer);
    if (!pki_ber_next(&in, &a) || !pki_ber_next(&in, &b))
        return PKI_FORMAT_UNKNOWN;
    switch (a.tag) {
    case PKI_DER_INTEGER:
        if (a.len == 1 && a.value[0] == 3 && b.tag == PKI_DER_SEQUENCE)
            return PKI_FORMAT_PKCS12;
        if (b.tag == PKI_DER_INTEGER || b.tag == PKI_DER_OCTET_STRING)
            return PKI_FORMAT_DER_KEY; /* RSAPrivateKey, ECPrivateKey */
        if (b.tag == PKI_DER_SEQUENCE && pki_ber_next(&in, &c) && c.tag == PKI_DER_OCTET_STRING)
            return PKI_FORMAT_DER_KEY; /* PrivateKeyInfo */
        return PKI_FORMAT_UNKNOWN;
    case PKI_DER_OID:
        if (a.len == sizeof oid_signed_data &&
            memcmp(a.value, oid_signed_data, sizeof oid_signed_data) == 0)
            return PKI_FORMAT_PKCS7;
        return PKI_FORMAT_UNKNOWN;
    case PKI_DER_SEQUENCE:
        if (b.tag == PKI_DER_OCTET_STRING)
            return PKI_FORMAT_DER_KEY; /* EncryptedPrivateKeyInfo */
        if (b.tag == PKI_DER_SEQUENCE && pki_ber_next(&in, &c) && c.tag == PKI_DER_BIT_STRING)
            return sniff_signed(&a);
        return PKI_FORMAT_UNKNOWN;
    default: return PKI_FORMAT_UNKNOWN;
    }
}

pki_format pki_read_sniff(const void *data, size_t len)
{
    const unsigned char *p = data;
    pki_format format;

    if (p == NULL || len < 4)
        return PKI_FORMAT_UNKNOWN;
    if (p[0] == 0xfe && p[1] == 0xed && p[2] == 0xfe && p[3] == 0xed)
        return PKI_FORMAT_JKS;
    if (p[0] == 0xce && p[1] == 0xce && p[2] == 0xce && p[3] == 0xce)
        return PKI_FORMAT_JCEKS;
    if (p[0] == PKI_DER_SEQUENCE && (format = sniff_der(p, len)) != PKI_FORMAT_UNKNOWN)
        return format;
    if (memmem(p, len, "-----BEGIN ", 11) != NULL)
        return PKI_FORMAT_PEM;
    return PKI_FORMAT_UNKNOWN;
}

/* ---- the item list ------------------------------------------------------------------------ */

pki_item *pki_reader_add(pki_reader *r, pki_item_kind kind, const char *fmt, ...)
{
    pki_read_result *res = r->res;
    pki_item *item;
    char where[320];
    va_list ap;

    if (res->n_items >= r->max_items) {
        r->failure = clm_fail(CLM_ERR_PARSE, "%s: more than %zu certificates and keys", r->name,
                              r->max_items);
        return NULL;
    }
    if (res->n_items == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        pki_item *grown = realloc(res->items, cap * sizeof *grown);
        if (grown == NULL) {
            r->failure = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            return NULL;
        }
        res->items = grown;
        r->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(where, sizeof where, fmt, ap);
    va_end(ap);
    item = &res->items[res->n_items];
    memset(item, 0, sizeof *item);
    item->kind = kind;
    item->where = strdup(where);
    if (item->where == NULL) {
        r->failure = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        return NULL;
    }
    res->n_items++;
    return item;
}

bool pki_reader_set_der(pki_item *item, const unsigned char *der, size_t len)
{
    item->der = malloc(len ? len : 1);
    if (item->der == NULL)
        return false;
    memcpy(item->der, der, len);
    item->der_len = len;
    return true;
}

bool pki_reader_set_alias(pki_item *item, const char *alias, size_t len)
{
    if (alias == NULL || len == 0)
        return true;
    item->alias = strndup(alias, len);
    return item->alias != NULL;
}

clm_err pki_reader_item_fail(pki_reader *r, clm_err err)
{
    pki_item *item = &r->res->items[r->res->n_items - 1];
    char message[CLM_ERROR_MESSAGE_MAX + 320];

    free(item->der);
    item->der = NULL;
    item->der_len = 0;
    EVP_PKEY_free(item->key);
    item->key = NULL;
    item->err = err;
    snprintf(message, sizeof message, "%s: %s", item->where, clm_error_message());
    free(item->error);
    item->error = strdup(message);
    return item->error != NULL ? CLM_OK : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
}

bool pki_read_is_certificate(const unsigned char *der, size_t len, size_t *total)
{
    pki_der d = pki_der_make(der, len), in;
    pki_der_tlv cert, a;

    if (!pki_ber_next(&d, &cert) || cert.tag != PKI_DER_SEQUENCE)
        return false;
    in = pki_der_contents(&cert);
    if (!pki_ber_next(&in, &a) || a.tag != PKI_DER_SEQUENCE || !pki_ber_next(&in, &a) ||
        a.tag != PKI_DER_SEQUENCE || !pki_ber_next(&in, &a) || a.tag != PKI_DER_BIT_STRING ||
        !pki_der_done(&in))
        return false;
    if (total != NULL)
        *total = cert.total;
    return true;
}

/* ---- single objects ------------------------------------------------------------------------ */

clm_err pki_read_der_cert(pki_reader *r, const unsigned char *data, size_t len, const char *where)
{
    pki_item *item = pki_reader_add(r, PKI_ITEM_CERT, "%s", where);
    size_t total = 0;

    if (item == NULL)
        return r->failure;
    if (!pki_read_is_certificate(data, len, &total)) {
        clm_fail(CLM_ERR_PARSE, "not a certificate (truncated or damaged DER)");
        return pki_reader_item_fail(r, CLM_ERR_PARSE);
    }
    if (total != len) {
        clm_fail(CLM_ERR_PARSE, "%zu bytes after the certificate", len - total);
        return pki_reader_item_fail(r, CLM_ERR_PARSE);
    }
    return pki_reader_set_der(item, data, len) ? CLM_OK
                                               : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
}

clm_err pki_read_der_key(pki_reader *r, const unsigned char *data, size_t len, const char *where)
{
    pki_item *item = pki_reader_add(r, PKI_ITEM_KEY, "%s", where);
    clm_err err;

    if (item == NULL)
        return r->failure;
    err = pki_key_from_der(data, len, r->password, &item->key);
    return err == CLM_OK ? CLM_OK : pki_reader_item_fail(r, err);
}

/* ---- the entry point ---------------------------------------------------------------------- */

void pki_read_result_free(pki_read_result *result)
{
    if (result == NULL)
        return;
    for (size_t i = 0; i < result->n_items; i++) {
        pki_item *item = &result->items[i];
        free(item->der);
        EVP_PKEY_free(item->key);
        free(item->where);
        free(item->alias);
        free(item->error);
    }
    free(result->items);
    memset(result, 0, sizeof *result);
}

static clm_err dispatch(pki_reader *r, pki_format format, const unsigned char *data, size_t len)
{
    switch (format) {
    case PKI_FORMAT_PEM: return pki_read_pem(r, data, len);
    case PKI_FORMAT_DER_CERT: return pki_read_der_cert(r, data, len, r->name);
    case PKI_FORMAT_PKCS7: return pki_read_pkcs7(r, data, len, r->name);
    case PKI_FORMAT_PKCS12: return pki_read_pkcs12(r, data, len);
    case PKI_FORMAT_JKS: return pki_read_jks(r, data, len);
    case PKI_FORMAT_DER_KEY: return pki_read_der_key(r, data, len, r->name);
    case PKI_FORMAT_DER_CSR:
        return clm_fail(CLM_ERR_NOT_FOUND,
                        "%s is a certificate request (CSR), not a certificate: no certificate "
                        "found",
                        r->name);
    case PKI_FORMAT_JCEKS:
        return clm_fail(CLM_ERR_UNSUPPORTED,
                        "%s is a JCEKS keystore, which clm does not read: convert it with "
                        "keytool -importkeystore -deststoretype pkcs12",
                        r->name);
    default:
        return clm_fail(CLM_ERR_PARSE,
                        "%s: not a certificate or key file (not PEM, DER, PKCS#7, PKCS#12 or "
                        "JKS)",
                        r->name);
    }
}

clm_err pki_read(const void *data, size_t len, const pki_read_options *options,
                 pki_read_result *out)
{
    static const pki_read_options defaults = {NULL, NULL, 0, 0, PKI_FORMAT_UNKNOWN};
    const pki_read_options *o = options ? options : &defaults;
    pki_reader r = {o->name ? o->name : "input",
                    o->password,
                    o->max_items ? o->max_items : PKI_READ_MAX_ITEMS,
                    0,
                    out,
                    CLM_OK};
    size_t max_input = o->max_input ? o->max_input : PKI_READ_MAX_INPUT;
    clm_err err;

    memset(out, 0, sizeof *out);
    if (data == NULL || len == 0)
        return clm_fail(CLM_ERR_PARSE, "%s: empty input", r.name);
    if (len > max_input)
        return clm_fail(CLM_ERR_PARSE, "%s: %zu bytes, more than the %zu accepted", r.name, len,
                        max_input);
    out->format = o->format != PKI_FORMAT_UNKNOWN ? o->format : pki_read_sniff(data, len);
    err = dispatch(&r, out->format, data, len);
    for (size_t i = 0; i < out->n_items; i++) {
        const pki_item *item = &out->items[i];
        if (item->err != CLM_OK)
            out->n_errors++;
        else if (item->kind == PKI_ITEM_CERT)
            out->n_certs++;
        else
            out->n_keys++;
    }
    if (err != CLM_OK || out->n_certs + out->n_keys > 0)
        return err;
    for (size_t i = 0; i < out->n_items; i++) {
        if (out->items[i].err != CLM_OK)
            return clm_fail(out->items[i].err, "%s", out->items[i].error);
    }
    if (out->n_skipped > 0)
        return clm_fail(CLM_ERR_NOT_FOUND,
                        "%s: no certificate or private key found (%zu PEM block%s of other "
                        "types, such as certificate requests or CRLs)",
                        r.name, out->n_skipped, out->n_skipped == 1 ? "" : "s");
    return clm_fail(CLM_ERR_NOT_FOUND, "%s: no certificate or private key found", r.name);
}

clm_err pki_read_file(const char *path, const pki_read_options *options, pki_read_result *out)
{
    pki_read_options o = options ? *options : (pki_read_options){0};
    size_t max_input = o.max_input ? o.max_input : PKI_READ_MAX_INPUT;
    clm_buf data = CLM_BUF_INIT;
    unsigned char chunk[65536];
    clm_err err = CLM_OK;
    int fd;

    memset(out, 0, sizeof *out);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return clm_fail(errno == ENOENT ? CLM_ERR_NOT_FOUND : CLM_ERR_IO, "%s: %s", path,
                        strerror(errno));
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = clm_fail(CLM_ERR_IO, "%s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (data.len + (size_t)n > max_input) {
            err = clm_fail(CLM_ERR_PARSE, "%s: more than the %zu bytes accepted", path, max_input);
            break;
        }
        if ((err = clm_buf_append(&data, chunk, (size_t)n)) != CLM_OK)
            break;
    }
    close(fd);
    clm_memwipe(chunk, sizeof chunk); /* may have held a key */
    if (err == CLM_OK) {
        if (o.name == NULL)
            o.name = path;
        err = pki_read(data.data, data.len, &o, out);
    }
    clm_buf_wipe(&data);
    return err;
}
