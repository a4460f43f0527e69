/*
 * lib/pki/read_jks.c: the Java KeyStore format (JKS, magic 0xFEEDFEED), read by hand
 * since no library in Debian reads it. Layout (all integers big-endian; sun.security.
 * provider.JavaKeyStore):
 *
 *   u32 magic, u32 version (1 or 2), u32 count, then count entries:
 *     u32 tag (1 private key, 2 trusted certificate), alias (u16 length + Java modified
 *     UTF-8), u64 creation time in ms;
 *     tag 1: u32 length + EncryptedPrivateKeyInfo, u32 chain length, certificates;
 *     tag 2: one certificate.
 *     A certificate: (version 2: u16-length type name "X.509") u32 length + DER.
 *   then 20 bytes: SHA-1(password as UTF-16BE || "Mighty Aphrodite" || all bytes above).
 *
 * Private keys are protected with Sun's KeyProtector (OID 1.3.6.1.4.1.42.2.17.1.1):
 * salt (20 bytes) || key XOR keystream || SHA-1(password || key), where the keystream
 * is the chain of SHA-1(password || previous digest) starting from the salt. They are
 * decoded with the store password (keytool's default key password); a key protected
 * with another password is reported as a failed item, its certificates still read.
 */
#include "lib/base/buf.h"
#include "lib/pki/der.h"
#include "lib/pki/key.h"
#include "lib/pki/read_internal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JKS_MAGIC 0xfeedfeedu
#define JKS_DIGEST 20
#define JKS_PASSWORD_MAX 1024 /* characters */

typedef struct cursor {
    const unsigned char *p, *end;
} cursor;

static bool take(cursor *c, size_t n, const unsigned char **out)
{
    if ((size_t)(c->end - c->p) < n)
        return false;
    if (out != NULL)
        *out = c->p;
    c->p += n;
    return true;
}

static bool u16(cursor *c, uint32_t *v)
{
    const unsigned char *b;

    if (!take(c, 2, &b))
        return false;
    *v = (uint32_t)b[0] << 8 | b[1];
    return true;
}

static bool u32(cursor *c, uint32_t *v)
{
    const unsigned char *b;

    if (!take(c, 4, &b))
        return false;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return true;
}

/* The password as Java hashes it: each UTF-16 code unit big-endian. */
static unsigned char *password_utf16(const char *password, size_t *len)
{
    const unsigned char *s = (const unsigned char *)password;
    size_t n = strlen(password), used = 0;
    unsigned char *out;

    if (n > JKS_PASSWORD_MAX || (out = malloc(4 * n + 1)) == NULL)
        return NULL;
    for (size_t i = 0; i < n;) {
        uint32_t c = s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
        if (k > 1) {
            c &= k == 2 ? 0x1f : k == 3 ? 0x0f : 0x07;
            for (size_t j = 1; j < k && i + j < n; j++)
                c = (c << 6) | (s[i + j] & 0x3f);
        }
        i += k;
        if (c >= 0x10000) {
            uint32_t v = c - 0x10000, hi = 0xd800 | (v >> 10), lo = 0xdc00 | (v & 0x3ff);
            out[used++] = (unsigned char)(hi >> 8);
            out[used++] = (unsigned char)hi;
            out[used++] = (unsigned char)(lo >> 8);
            out[used++] = (unsigned char)lo;
        } else {
            out[used++] = (unsigned char)(c >> 8);
            out[used++] = (unsigned char)c;
        }
    }
    *len = used;
    return out;
}

static bool sha1_parts(const void *a, size_t alen, const void *b, size_t blen, const void *c,
                       size_t clen, unsigned char out[JKS_DIGEST])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, a, alen) == 1 && EVP_DigestUpdate(ctx, b, blen) == 1 &&
              EVP_DigestUpdate(ctx, c, clen) == 1 && EVP_DigestFinal_ex(ctx, out, &n) == 1 &&
              n == JKS_DIGEST;

    EVP_MD_CTX_free(ctx);
    return ok;
}

/* KeyProtector.recover(): the PKCS#8 key inside a JKS key entry. */
static clm_err recover_key(const unsigned char *epki, size_t len, const unsigned char *pw,
                           size_t pw_len, EVP_PKEY **out)
{
    static const unsigned char sun_jks[] = {0x2b, 0x06, 0x01, 0x04, 0x01,
                                            0x2a, 0x02, 0x11, 0x01, 0x01};
    pki_der d = pki_der_make(epki, len), s, a;
    pki_der_tlv seq, alg, oid, data;
    unsigned char digest[JKS_DIGEST], *plain;
    const unsigned char *salt, *enc, *check;
    size_t enc_len;
    clm_err err;

    if (!pki_ber_next(&d, &seq) || seq.tag != PKI_DER_SEQUENCE || !pki_der_done(&d))
        return clm_fail(CLM_ERR_PARSE, "the protected key is not an EncryptedPrivateKeyInfo");
    s = pki_der_contents(&seq);
    if (!pki_ber_next(&s, &alg) || alg.tag != PKI_DER_SEQUENCE || !pki_ber_next(&s, &data) ||
        data.tag != PKI_DER_OCTET_STRING || !pki_der_done(&s))
        return clm_fail(CLM_ERR_PARSE, "the protected key is not an EncryptedPrivateKeyInfo");
    a = pki_der_contents(&alg);
    if (!pki_ber_next(&a, &oid) || oid.tag != PKI_DER_OID || oid.len != sizeof sun_jks ||
        memcmp(oid.value, sun_jks, sizeof sun_jks) != 0)
        return clm_fail(CLM_ERR_UNSUPPORTED,
                        "the key is not protected with Sun's JKS KeyProtector");
    if (data.len < 2 * JKS_DIGEST + 1)
        return clm_fail(CLM_ERR_PARSE, "the protected key is truncated");
    salt = data.value;
    enc = data.value + JKS_DIGEST;
    enc_len = data.len - 2 * JKS_DIGEST;
    check = enc + enc_len;
    plain = malloc(enc_len);
    if (plain == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    memcpy(digest, salt, JKS_DIGEST);
    for (size_t off = 0; off < enc_len; off += JKS_DIGEST) {
        if (!sha1_parts(pw, pw_len, digest, JKS_DIGEST, "", 0, digest)) {
            clm_memwipe(plain, enc_len);
            free(plain);
            return clm_fail(CLM_ERR_CRYPTO, "SHA-1 failed");
        }
        for (size_t i = 0; i < JKS_DIGEST && off + i < enc_len; i++)
            plain[off + i] = enc[off + i] ^ digest[i];
    }
    if (!sha1_parts(pw, pw_len, plain, enc_len, "", 0, digest) ||
        CRYPTO_memcmp(digest, check, JKS_DIGEST) != 0) {
        err = clm_fail(CLM_ERR_UNAUTHENTICATED,
                       "the key password differs from the store password (or the key is "
                       "damaged)");
    } else {
        err = pki_key_from_der(plain, enc_len, NULL, out);
    }
    clm_memwipe(plain, enc_len);
    clm_memwipe(digest, sizeof digest);
    free(plain);
    return err;
}

/* One certificate of an entry. */
static clm_err read_cert(pki_reader *r, cursor *c, uint32_t version, const char *alias,
                         size_t alias_len, const char *what, bool dry)
{
    const unsigned char *type = NULL, *der;
    uint32_t type_len = 0, der_len;
    pki_item *item;

    if (version == 2 && (!u16(c, &type_len) || !take(c, type_len, &type)))
        return clm_fail(CLM_ERR_PARSE, "%s: truncated JKS keystore", r->name);
    if (!u32(c, &der_len) || !take(c, der_len, &der))
        return clm_fail(CLM_ERR_PARSE, "%s: truncated JKS keystore", r->name);
    if (dry)
        return CLM_OK;
    item = pki_reader_add(r, PKI_ITEM_CERT, "%s: entry \"%.*s\"%s", r->name, (int)alias_len, alias,
                          what);
    if (item == NULL)
        return r->failure;
    if (!pki_reader_set_alias(item, alias, alias_len))
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if (version == 2 && (type_len != 5 || memcmp(type, "X.509", 5) != 0)) {
        clm_fail(CLM_ERR_UNSUPPORTED, "certificate type \"%.*s\" is not X.509", (int)type_len,
                 type);
        return pki_reader_item_fail(r, CLM_ERR_UNSUPPORTED);
    }
    if (!pki_read_is_certificate(der, der_len, NULL)) {
        clm_fail(CLM_ERR_PARSE, "not a certificate");
        return pki_reader_item_fail(r, CLM_ERR_PARSE);
    }
    return pki_reader_set_der(item, der, der_len) ? CLM_OK
                                                  : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
}

/* The entries; dry: only check that they are well-formed (before the digest). */
static clm_err read_entries(pki_reader *r, cursor *c, uint32_t version, uint32_t count,
                            const unsigned char *pw, size_t pw_len, bool dry)
{
    clm_err err = CLM_OK;

    for (uint32_t e = 0; e < count && err == CLM_OK; e++) {
        uint32_t tag, alias_len, key_len, chain;
        const unsigned char *alias, *key;

        if (!u32(c, &tag) || !u16(c, &alias_len) || !take(c, alias_len, &alias) ||
            !take(c, 8, NULL))
            return clm_fail(CLM_ERR_PARSE, "%s: truncated JKS keystore", r->name);
        if (tag == 2) {
            err = read_cert(r, c, version, (const char *)alias, alias_len, "", dry);
            continue;
        }
        if (tag != 1)
            return clm_fail(CLM_ERR_PARSE, "%s: JKS entry %u has the unknown type %u", r->name,
                            e + 1, tag);
        if (!u32(c, &key_len) || !take(c, key_len, &key) || !u32(c, &chain))
            return clm_fail(CLM_ERR_PARSE, "%s: truncated JKS keystore", r->name);
        for (uint32_t i = 0; i < chain && err == CLM_OK; i++) {
            char what[32];
            snprintf(what, sizeof what, " chain[%u]", i);
            err = read_cert(r, c, version, (const char *)alias, alias_len, what, dry);
        }
        if (err != CLM_OK || dry)
            continue;
        pki_item *item = pki_reader_add(r, PKI_ITEM_KEY, "%s: entry \"%.*s\" private key", r->name,
                                        (int)alias_len, (const char *)alias);
        if (item == NULL)
            return r->failure;
        if (!pki_reader_set_alias(item, (const char *)alias, alias_len))
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        err = recover_key(key, key_len, pw, pw_len, &item->key);
        if (err != CLM_OK)
            err = err == CLM_ERR_NO_MEMORY ? err : pki_reader_item_fail(r, err);
    }
    return err;
}

clm_err pki_read_jks(pki_reader *r, const unsigned char *data, size_t len)
{
    static const char whitener[] = "Mighty Aphrodite";
    cursor c = {data, data + len};
    uint32_t magic, version, count;
    unsigned char digest[JKS_DIGEST], *pw;
    size_t pw_len = 0;
    clm_err err;

    if (!u32(&c, &magic) || magic != JKS_MAGIC || !u32(&c, &version) || !u32(&c, &count))
        return clm_fail(CLM_ERR_PARSE, "%s: not a JKS keystore", r->name);
    if (version != 1 && version != 2)
        return clm_fail(CLM_ERR_PARSE, "%s: JKS version %u is unknown", r->name, version);
    if (count > r->max_items)
        return clm_fail(CLM_ERR_PARSE, "%s: %u entries, more than the %zu accepted", r->name, count,
                        r->max_items);
    if (len < 12 + JKS_DIGEST)
        return clm_fail(CLM_ERR_PARSE, "%s: truncated JKS keystore", r->name);
    c.end = data + len - JKS_DIGEST;
    if ((err = read_entries(r, &c, version, count, NULL, 0, true)) != CLM_OK)
        return err;
    if (c.p != c.end)
        return clm_fail(CLM_ERR_PARSE, "%s: %zu unexpected bytes after the JKS entries", r->name,
                        (size_t)(c.end - c.p));
    c.p = data + 12;
    if (r->password == NULL)
        return clm_fail(CLM_ERR_UNAUTHENTICATED,
                        "%s: a JKS keystore is read with its store password; none was given",
                        r->name);
    pw = password_utf16(r->password, &pw_len);
    if (pw == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: the password is too long", r->name);
    /* The keyed digest covers everything before the last 20 bytes. */
    if (!sha1_parts(pw, pw_len, whitener, sizeof whitener - 1, data, len - JKS_DIGEST, digest)) {
        err = clm_fail(CLM_ERR_CRYPTO, "SHA-1 failed");
    } else if (CRYPTO_memcmp(digest, data + len - JKS_DIGEST, JKS_DIGEST) != 0) {
        err = clm_fail(CLM_ERR_UNAUTHENTICATED,
                       "%s: wrong store password, or the keystore is damaged (the JKS keyed "
                       "SHA-1 digest does not match)",
                       r->name);
    } else {
        err = read_entries(r, &c, version, count, pw, pw_len, false);
    }
    clm_memwipe(pw, pw_len);
    free(pw);
    return err;
}
