/*
 * lib/pki/read_pem.c: PEM text (RFC 7468 and OpenSSL's variants): any number of
 * "-----BEGIN <label>-----" ... "-----END <label>-----" blocks, with anything between
 * them (openssl x509 -text output, comments, Windows line ends). Certificates are
 * decoded here (base64 of our own: a 10,000-certificate bundle reads in milliseconds);
 * key blocks go to the TLS library, which knows their encryption headers.
 */
#include "lib/base/buf.h"
#include "lib/pki/key.h"
#include "lib/pki/read_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest label read ("ENCRYPTED PRIVATE KEY" is 21). */
#define LABEL_MAX 64

typedef enum block_kind {
    BLOCK_OTHER,
    BLOCK_CERT,
    BLOCK_TRUSTED_CERT,
    BLOCK_PKCS7,
    BLOCK_KEY
} block_kind;

static block_kind classify(const char *label)
{
    static const struct {
        const char *label;
        block_kind kind;
    } labels[] = {
        {"CERTIFICATE", BLOCK_CERT},
        {"X509 CERTIFICATE", BLOCK_CERT},
        {"TRUSTED CERTIFICATE", BLOCK_TRUSTED_CERT},
        {"PKCS7", BLOCK_PKCS7},
        {"PKCS #7 SIGNED DATA", BLOCK_PKCS7},
        {"CMS", BLOCK_PKCS7},
        {"PRIVATE KEY", BLOCK_KEY},
        {"ENCRYPTED PRIVATE KEY", BLOCK_KEY},
        {"RSA PRIVATE KEY", BLOCK_KEY},
        {"EC PRIVATE KEY", BLOCK_KEY},
    };

    for (size_t i = 0; i < sizeof labels / sizeof *labels; i++) {
        if (strcmp(labels[i].label, label) == 0)
            return labels[i].kind;
    }
    return BLOCK_OTHER;
}

/* Base64 (RFC 4648, standard alphabet) ignoring whitespace; '=' only as padding at the
 * end. out must hold len * 3 / 4 + 3 bytes. @return false on any other character. */
static bool base64_decode(const unsigned char *in, size_t len, unsigned char *out, size_t *out_len)
{
    uint32_t acc = 0;
    size_t n = 0, quad = 0, pad = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = in[i];
        int v;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            if (pad > 2)
                return false;
            continue;
        }
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else
            return false;
        if (pad > 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        if (++quad == 4) {
            out[n++] = (unsigned char)(acc >> 16);
            out[n++] = (unsigned char)(acc >> 8);
            out[n++] = (unsigned char)acc;
            quad = 0;
            acc = 0;
        }
    }
    if (quad == 1 || (pad > 0 && quad + pad != 4))
        return false;
    if (quad == 2) {
        out[n++] = (unsigned char)(acc >> 4);
    } else if (quad == 3) {
        out[n++] = (unsigned char)(acc >> 10);
        out[n++] = (unsigned char)(acc >> 2);
    }
    *out_len = n;
    return true;
}

/* The end of the line starting at p (the '\n' or end). */
static const unsigned char *line_end(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

/* A "-----BEGIN X-----" line at p (leading blanks allowed): its label. */
static bool begin_line(const unsigned char *p, const unsigned char *eol, char label[LABEL_MAX])
{
    const unsigned char *q;
    size_t n;

    while (p < eol && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(eol - p) < 16 || memcmp(p, "-----BEGIN ", 11) != 0)
        return false;
    p += 11;
    q = memmem(p, (size_t)(eol - p), "-----", 5);
    if (q == NULL || (n = (size_t)(q - p)) == 0 || n >= LABEL_MAX)
        return false;
    memcpy(label, p, n);
    label[n] = '\0';
    return true;
}

/* The body of a block: skip RFC 1421 headers ("Proc-Type: ...") up to the blank line. */
static const unsigned char *skip_headers(const unsigned char *body, const unsigned char *end)
{
    const unsigned char *eol = line_end(body, end);

    if (memchr(body, ':', (size_t)(eol - body)) == NULL)
        return body;
    for (const unsigned char *p = body; p < end;) {
        eol = line_end(p, end);
        const unsigned char *q = p;
        while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        p = eol < end ? eol + 1 : end;
        if (q == eol)
            return p; /* the blank line */
    }
    return end;
}

static clm_err cert_block(pki_reader *r, block_kind kind, const unsigned char *body,
                          const unsigned char *end, const char *where)
{
    size_t in_len = (size_t)(end - body), out_len = 0, total = 0;
    unsigned char *der = malloc(in_len / 4 * 3 + 3);
    pki_item *item;
    clm_err err = CLM_OK;

    if (der == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    body = skip_headers(body, end);
    if (!base64_decode(body, (size_t)(end - body), der, &out_len)) {
        free(der);
        if ((item = pki_reader_add(r, PKI_ITEM_CERT, "%s", where)) == NULL)
            return r->failure;
        clm_fail(CLM_ERR_PARSE, "the base64 text is damaged");
        return pki_reader_item_fail(r, CLM_ERR_PARSE);
    }
    if (kind == BLOCK_PKCS7) {
        err = pki_read_pkcs7(r, der, out_len, where);
        free(der);
        return err;
    }
    if ((item = pki_reader_add(r, PKI_ITEM_CERT, "%s", where)) == NULL) {
        free(der);
        return r->failure;
    }
    /* TRUSTED CERTIFICATE: the certificate, then OpenSSL's trust settings */
    if (!pki_read_is_certificate(der, out_len, &total) ||
        (kind == BLOCK_CERT && total != out_len)) {
        if (total != 0)
            clm_fail(CLM_ERR_PARSE, "%zu bytes after the certificate", out_len - total);
        else
            clm_fail(CLM_ERR_PARSE, "not a certificate (truncated or damaged DER)");
        err = pki_reader_item_fail(r, CLM_ERR_PARSE);
    } else {
        item->der = der;
        item->der_len = total;
        der = NULL;
    }
    free(der);
    return err;
}

static clm_err key_block(pki_reader *r, const unsigned char *begin, const unsigned char *end,
                         const char *where)
{
    pki_item *item = pki_reader_add(r, PKI_ITEM_KEY, "%s", where);
    clm_err err;

    if (item == NULL)
        return r->failure;
    err = pki_key_from_pem_password(begin, (size_t)(end - begin), r->password, &item->key);
    return err == CLM_OK ? CLM_OK : pki_reader_item_fail(r, err);
}

clm_err pki_read_pem(pki_reader *r, const unsigned char *data, size_t len)
{
    const unsigned char *p = data, *end = data + len;
    size_t line = 1, block = 0;
    char label[LABEL_MAX], where[256], end_marker[LABEL_MAX + 16];
    clm_err err = CLM_OK;

    while (p < end && err == CLM_OK) {
        const unsigned char *eol = line_end(p, end), *start = p, *body, *q, *next;
        int marker_len;

        p = eol < end ? eol + 1 : end;
        line++;
        if (!begin_line(start, eol, label))
            continue;
        block++;
        snprintf(where, sizeof where, "%s: PEM block %zu (%s, line %zu)", r->name, block, label,
                 line - 1);
        block_kind kind = classify(label);
        marker_len = snprintf(end_marker, sizeof end_marker, "-----END %s-----", label);
        body = p;
        q = memmem(body, (size_t)(end - body), end_marker, (size_t)marker_len);
        next = memmem(body, (size_t)(end - body), "-----BEGIN ", 11);
        if (q == NULL || (next != NULL && next < q)) {
            /* truncated (no END line before the next block): report it, as the kind
             * of item it announced, and go on with the next block */
            if (kind == BLOCK_OTHER) {
                r->res->n_skipped++;
            } else {
                if (pki_reader_add(r, kind == BLOCK_KEY ? PKI_ITEM_KEY : PKI_ITEM_CERT, "%s",
                                   where) == NULL)
                    return r->failure;
                clm_fail(CLM_ERR_PARSE, "truncated: there is no \"%s\" line", end_marker);
                err = pki_reader_item_fail(r, CLM_ERR_PARSE);
            }
            if (next == NULL)
                break;
            while (next > body && next[-1] != '\n') /* back to the start of its line */
                next--;
            for (const unsigned char *s = body; s < next; s++)
                line += *s == '\n';
            p = next;
            continue;
        }
        for (const unsigned char *s = body; s < q; s++)
            line += *s == '\n';
        switch (kind) {
        case BLOCK_CERT:
        case BLOCK_TRUSTED_CERT:
        case BLOCK_PKCS7: err = cert_block(r, kind, body, q, where); break;
        case BLOCK_KEY: err = key_block(r, start, q + marker_len, where); break;
        default: r->res->n_skipped++; break;
        }
        p = line_end(q, end);
        p = p < end ? p + 1 : end;
        line++;
    }
    return err;
}
