/* adapters/ca/acme/jws.c: base64url, JWK, thumbprint, ES256 and HS256 JWS (jws.h). */
#include "adapters/ca/acme/jws.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

clm_err acme_b64url_append(clm_buf *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i = 0;
    char quad[4];
    clm_err err;

    if ((err = clm_buf_reserve(out, (len + 2) / 3 * 4 + 1)) != CLM_OK)
        return err;
    for (; i + 3 <= len; i += 3) {
        quad[0] = b64url_alphabet[p[i] >> 2];
        quad[1] = b64url_alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        quad[2] = b64url_alphabet[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
        quad[3] = b64url_alphabet[p[i + 2] & 63];
        clm_buf_append(out, quad, 4);
    }
    if (len - i == 1) {
        quad[0] = b64url_alphabet[p[i] >> 2];
        quad[1] = b64url_alphabet[(p[i] & 3) << 4];
        clm_buf_append(out, quad, 2);
    } else if (len - i == 2) {
        quad[0] = b64url_alphabet[p[i] >> 2];
        quad[1] = b64url_alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        quad[2] = b64url_alphabet[(p[i + 1] & 15) << 2];
        clm_buf_append(out, quad, 3);
    }
    return CLM_OK;
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

clm_err acme_b64url_decode(const char *text, size_t len, clm_buf *out)
{
    unsigned acc = 0;
    int bits = 0;

    while (len > 0 && text[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return clm_fail(CLM_ERR_PARSE, "base64url: %zu characters is not a possible length",
                        len);
    if (clm_buf_reserve(out, len * 3 / 4 + 1) != CLM_OK)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)text[i]);
        if (v < 0)
            return clm_fail(CLM_ERR_PARSE, "base64url: character %zu is outside the alphabet",
                            i);
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            clm_buf_append_byte(out, (unsigned char)(acc >> bits));
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return clm_fail(CLM_ERR_PARSE, "base64url: trailing bits are not zero");
    return CLM_OK;
}

clm_err acme_jwk_key_init(acme_jwk_key *key, EVP_PKEY *pkey)
{
    X509_PUBKEY *pub = NULL;
    const unsigned char *point = NULL;
    X509_ALGOR *alg = NULL;
    const void *param = NULL;
    int point_len = 0, ptype = 0;
    clm_buf x = CLM_BUF_INIT, y = CLM_BUF_INIT;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    clm_buf thumb = CLM_BUF_INIT;
    clm_err err = CLM_OK;

    memset(key, 0, sizeof *key);
    if (pkey == NULL || EVP_PKEY_id(pkey) != EVP_PKEY_EC)
        return clm_fail(CLM_ERR_UNSUPPORTED, "account key: not an EC key (ES256 needs P-256)");
    if (X509_PUBKEY_set(&pub, pkey) != 1 ||
        X509_PUBKEY_get0_param(NULL, &point, &point_len, &alg, pub) != 1) {
        err = clm_fail(CLM_ERR_CRYPTO, "account key: its public key does not encode");
        goto done;
    }
    X509_ALGOR_get0(NULL, &ptype, &param, alg);
    if (ptype != V_ASN1_OBJECT || OBJ_obj2nid(param) != NID_X9_62_prime256v1 ||
        point_len != 65 || point[0] != 0x04) {
        err = clm_fail(CLM_ERR_UNSUPPORTED, "account key: not an EC P-256 key");
        goto done;
    }
    if (acme_b64url_append(&x, point + 1, 32) != CLM_OK ||
        acme_b64url_append(&y, point + 33, 32) != CLM_OK) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    /* RFC 7638 3.2: the required members in lexicographic order, no whitespace. */
    snprintf(key->jwk, sizeof key->jwk, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
             clm_buf_str(&x), clm_buf_str(&y));
    SHA256((const unsigned char *)key->jwk, strlen(key->jwk), digest);
    if (acme_b64url_append(&thumb, digest, sizeof digest) != CLM_OK ||
        thumb.len >= sizeof key->thumbprint) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    memcpy(key->thumbprint, thumb.data, thumb.len);
    key->thumbprint[thumb.len] = '\0';
    key->pkey = pkey;
done:
    if (err != CLM_OK)
        memset(key, 0, sizeof *key);
    ERR_clear_error();
    X509_PUBKEY_free(pub);
    clm_buf_free(&x);
    clm_buf_free(&y);
    clm_buf_free(&thumb);
    return err;
}

void acme_jwk_key_clear(acme_jwk_key *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey);
    memset(key, 0, sizeof *key);
}

/* ES256 over "protected.payload": the DER ECDSA signature as r||s, 32 bytes each. */
static clm_err es256_sign(EVP_PKEY *pkey, const clm_buf *input, unsigned char rs[64])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t der_len = sizeof der;
    const unsigned char *p = der;
    ECDSA_SIG *sig = NULL;
    const BIGNUM *r, *s;
    clm_err err = CLM_OK;

    if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSign(md, der, &der_len, input->data, input->len) != 1 ||
        (sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) == NULL) {
        err = clm_fail(CLM_ERR_CRYPTO, "ES256: signing failed");
        goto done;
    }
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32)
        err = clm_fail(CLM_ERR_CRYPTO, "ES256: the signature does not fit 64 bytes");
done:
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return err;
}

/* {"protected":..., "payload":..., "signature":...} from the parts. */
static clm_err jws_assemble(const clm_buf *protected_b64, const clm_buf *payload_b64,
                            const unsigned char *sig, size_t sig_len, clm_buf *out)
{
    clm_buf sig_b64 = CLM_BUF_INIT;
    clm_err err;

    if ((err = acme_b64url_append(&sig_b64, sig, sig_len)) == CLM_OK)
        err = clm_buf_printf(out, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
                             clm_buf_str(protected_b64), clm_buf_str(payload_b64),
                             clm_buf_str(&sig_b64));
    clm_buf_free(&sig_b64);
    return err == CLM_OK ? CLM_OK : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
}

/* base64url of a JSON object's compact text. */
static clm_err json_b64(json_t *obj, clm_buf *out)
{
    char *text;
    clm_err err;

    if (obj == NULL || (text = json_dumps(obj, JSON_COMPACT)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    err = acme_b64url_append(out, text, strlen(text));
    free(text);
    return err;
}

clm_err acme_jws_sign(const acme_jwk_key *key, const char *kid, const char *nonce,
                      const char *url, const char *payload, clm_buf *out)
{
    json_t *prot = json_object(), *jwk = NULL;
    clm_buf prot_b64 = CLM_BUF_INIT, payload_b64 = CLM_BUF_INIT, input = CLM_BUF_INIT;
    unsigned char rs[64];
    clm_err err = CLM_ERR_NO_MEMORY;

    if (key == NULL || key->pkey == NULL || url == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "JWS: no key or URL");
    if (prot == NULL || json_object_set_new(prot, "alg", json_string("ES256")) != 0)
        goto done;
    if (kid != NULL) {
        if (json_object_set_new(prot, "kid", json_string(kid)) != 0)
            goto done;
    } else if ((jwk = json_loads(key->jwk, 0, NULL)) == NULL ||
               json_object_set(prot, "jwk", jwk) != 0) {
        goto done;
    }
    if ((nonce != NULL && json_object_set_new(prot, "nonce", json_string(nonce)) != 0) ||
        json_object_set_new(prot, "url", json_string(url)) != 0)
        goto done;
    if ((err = json_b64(prot, &prot_b64)) != CLM_OK)
        goto done;
    if (payload != NULL && payload[0] != '\0' &&
        (err = acme_b64url_append(&payload_b64, payload, strlen(payload))) != CLM_OK)
        goto done;
    if (clm_buf_printf(&input, "%s.%s", clm_buf_str(&prot_b64), clm_buf_str(&payload_b64)) !=
        CLM_OK) {
        err = CLM_ERR_NO_MEMORY;
        goto done;
    }
    if ((err = es256_sign(key->pkey, &input, rs)) != CLM_OK)
        goto done;
    err = jws_assemble(&prot_b64, &payload_b64, rs, sizeof rs, out);
done:
    if (err == CLM_ERR_NO_MEMORY)
        clm_fail(err, "out of memory");
    json_decref(prot);
    json_decref(jwk);
    clm_buf_free(&prot_b64);
    clm_buf_free(&payload_b64);
    clm_buf_free(&input);
    return err;
}

clm_err acme_eab_jws(const char *eab_kid, const unsigned char *mac_key, size_t mac_key_len,
                     const char *url, const acme_jwk_key *account, clm_buf *out)
{
    json_t *prot = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "kid", eab_kid, "url", url);
    clm_buf prot_b64 = CLM_BUF_INIT, payload_b64 = CLM_BUF_INIT, input = CLM_BUF_INIT;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    clm_err err;

    if ((err = json_b64(prot, &prot_b64)) != CLM_OK ||
        (err = acme_b64url_append(&payload_b64, account->jwk, strlen(account->jwk))) != CLM_OK ||
        (err = clm_buf_printf(&input, "%s.%s", clm_buf_str(&prot_b64),
                              clm_buf_str(&payload_b64))) != CLM_OK) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    if (HMAC(EVP_sha256(), mac_key, (int)mac_key_len, input.data, input.len, mac, &mac_len) ==
        NULL) {
        ERR_clear_error();
        err = clm_fail(CLM_ERR_CRYPTO, "external account binding: HMAC-SHA256 failed");
        goto done;
    }
    err = jws_assemble(&prot_b64, &payload_b64, mac, mac_len, out);
done:
    clm_memwipe(mac, sizeof mac);
    json_decref(prot);
    clm_buf_free(&prot_b64);
    clm_buf_free(&payload_b64);
    clm_buf_free(&input);
    return err;
}
