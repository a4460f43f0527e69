/*
 * adapters/ca/acme/jws_test.c: base64url (RFC 4648 vectors), the JWK and its RFC 7638
 * thumbprint, ES256 JWS verified independently (r||s back to DER, EVP_DigestVerify),
 * the EAB HS256 MAC recomputed; and the readers of parse.h, table-driven. No network.
 */
#include "adapters/ca/acme/jws.h"
#include "adapters/ca/acme/parse.h"
#include "lib/pki/key.h"
#include "tests/unit.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdlib.h>

static char *b64(const void *data, size_t len)
{
    clm_buf b = CLM_BUF_INIT;

    acme_b64url_append(&b, data, len);
    clm_buf_append_byte(&b, 0);
    return (char *)clm_buf_detach(&b, NULL);
}

UNIT_TEST(base64url)
{
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""},         {"f", "Zg"},         {"fo", "Zm8"},          {"foo", "Zm9v"},
             {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};

    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        char *e = b64(v[i].in, strlen(v[i].in));
        clm_buf d = CLM_BUF_INIT;
        CHECK_STR_EQ(e, v[i].out);
        CHECK_INT_EQ(acme_b64url_decode(e, strlen(e), &d), CLM_OK);
        CHECK(d.len == strlen(v[i].in) && (d.len == 0 || memcmp(d.data, v[i].in, d.len) == 0));
        clm_buf_free(&d);
        free(e);
    }
    {
        clm_buf d = CLM_BUF_INIT;
        CHECK_INT_EQ(acme_b64url_decode("Zm9v+g", 6, &d), CLM_ERR_PARSE); /* not base64url */
        CHECK_INT_EQ(acme_b64url_decode("Z", 1, &d), CLM_ERR_PARSE);      /* impossible length */
        CHECK_INT_EQ(acme_b64url_decode("Zh", 2, &d), CLM_ERR_PARSE);     /* trailing bits */
        clm_buf_reset(&d);
        CHECK_INT_EQ(acme_b64url_decode("Zg==", 4, &d), CLM_OK); /* padding tolerated */
        CHECK(d.len == 1 && d.data[0] == 'f');
        clm_buf_free(&d);
    }
}

/* Decode a base64url member of a JSON object into out. */
static bool member_decoded(json_t *obj, const char *key, clm_buf *out)
{
    const char *v = json_string_value(json_object_get(obj, key));

    clm_buf_reset(out);
    return v != NULL && acme_b64url_decode(v, strlen(v), out) == CLM_OK;
}

/* Verify an ES256 flattened JWS with key; returns the protected header (caller frees). */
static json_t *verify_es256(const clm_buf *jws, EVP_PKEY *key, clm_buf *payload)
{
    json_t *root = json_loadb((const char *)jws->data, jws->len, 0, NULL), *prot = NULL;
    clm_buf p = CLM_BUF_INIT, sig = CLM_BUF_INIT, input = CLM_BUF_INIT;
    ECDSA_SIG *s = ECDSA_SIG_new();
    unsigned char *der = NULL;
    int der_len;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = false;

    if (root && member_decoded(root, "protected", &p) && member_decoded(root, "payload", payload) &&
        member_decoded(root, "signature", &sig) && sig.len == 64) {
        ECDSA_SIG_set0(s, BN_bin2bn(sig.data, 32, NULL), BN_bin2bn(sig.data + 32, 32, NULL));
        der_len = i2d_ECDSA_SIG(s, &der);
        clm_buf_printf(&input, "%s.%s", json_string_value(json_object_get(root, "protected")),
                       json_string_value(json_object_get(root, "payload")));
        ok = der_len > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(md, der, (size_t)der_len, input.data, input.len) == 1;
        if (ok)
            prot = json_loadb((const char *)p.data, p.len, 0, NULL);
    }
    OPENSSL_free(der);
    ECDSA_SIG_free(s);
    EVP_MD_CTX_free(md);
    json_decref(root);
    clm_buf_free(&p);
    clm_buf_free(&sig);
    clm_buf_free(&input);
    return prot;
}

UNIT_TEST(jwk_and_es256)
{
    EVP_PKEY *pkey = NULL, *rsa = NULL;
    acme_jwk_key key;
    json_t *jwk, *prot;
    clm_buf x = CLM_BUF_INIT, y = CLM_BUF_INIT, jws = CLM_BUF_INIT, payload = CLM_BUF_INIT;
    unsigned char *spki = NULL, digest[SHA256_DIGEST_LENGTH];
    int spki_len;
    char *thumb;

    CHECK_INT_EQ(pki_key_generate(PKI_KEY_EC_P256, &pkey), CLM_OK);
    CHECK_INT_EQ(acme_jwk_key_init(&key, pkey), CLM_OK);
    /* canonical: members in order, no blanks (RFC 7638 3.3) */
    CHECK(strncmp(key.jwk, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"", 31) == 0);
    CHECK(strchr(key.jwk, ' ') == NULL);
    jwk = json_loads(key.jwk, 0, NULL);
    CHECK(jwk != NULL && member_decoded(jwk, "x", &x) && x.len == 32);
    CHECK(jwk != NULL && member_decoded(jwk, "y", &y) && y.len == 32);
    /* x and y are the key's point: the last 64 bytes of its SubjectPublicKeyInfo */
    spki_len = i2d_PUBKEY(pkey, &spki);
    CHECK(spki_len == 91 && memcmp(spki + 27, x.data, 32) == 0 &&
          memcmp(spki + 59, y.data, 32) == 0);
    SHA256((const unsigned char *)key.jwk, strlen(key.jwk), digest);
    thumb = b64(digest, sizeof digest);
    CHECK_STR_EQ(key.thumbprint, thumb);
    CHECK_INT_EQ(strlen(key.thumbprint), 43);

    /* with a kid */
    CHECK_INT_EQ(acme_jws_sign(&key, "https://ca/acct/1", "nonce-1", "https://ca/new-order",
                               "{\"a\":1}", &jws),
                 CLM_OK);
    prot = verify_es256(&jws, pkey, &payload);
    CHECK(prot != NULL);
    CHECK_STR_EQ(json_string_value(json_object_get(prot, "alg")), "ES256");
    CHECK_STR_EQ(json_string_value(json_object_get(prot, "kid")), "https://ca/acct/1");
    CHECK_STR_EQ(json_string_value(json_object_get(prot, "nonce")), "nonce-1");
    CHECK_STR_EQ(json_string_value(json_object_get(prot, "url")), "https://ca/new-order");
    CHECK(json_object_get(prot, "jwk") == NULL);
    CHECK(payload.len == 7 && memcmp(payload.data, "{\"a\":1}", 7) == 0);
    json_decref(prot);
    /* with the JWK, no nonce, POST-as-GET (empty payload) */
    clm_buf_reset(&jws);
    CHECK_INT_EQ(acme_jws_sign(&key, NULL, NULL, "https://ca/x", NULL, &jws), CLM_OK);
    prot = verify_es256(&jws, pkey, &payload);
    CHECK(prot != NULL && json_object_get(prot, "nonce") == NULL);
    CHECK(prot != NULL && json_equal(json_object_get(prot, "jwk"), jwk));
    CHECK_INT_EQ(payload.len, 0);
    CHECK_STR_CONTAINS((const char *)jws.data, "\"payload\":\"\"");
    json_decref(prot);

    /* EAB: HS256 over protected.payload, the payload being the account JWK */
    {
        static const unsigned char mac_key[] = "0123456789abcdef0123456789abcdef";
        clm_buf eab = CLM_BUF_INIT, p = CLM_BUF_INIT, sig = CLM_BUF_INIT, in = CLM_BUF_INIT;
        json_t *e, *eprot;
        unsigned char mac[32];
        unsigned mac_len = 0;

        CHECK_INT_EQ(acme_eab_jws("kid-1", mac_key, 32, "https://ca/new-acct", &key, &eab),
                     CLM_OK);
        e = json_loadb((const char *)eab.data, eab.len, 0, NULL);
        CHECK(e != NULL && member_decoded(e, "protected", &p) && member_decoded(e, "payload", &payload) &&
              member_decoded(e, "signature", &sig));
        eprot = json_loadb((const char *)p.data, p.len, 0, NULL);
        CHECK_STR_EQ(json_string_value(json_object_get(eprot, "alg")), "HS256");
        CHECK_STR_EQ(json_string_value(json_object_get(eprot, "kid")), "kid-1");
        CHECK_STR_EQ(json_string_value(json_object_get(eprot, "url")), "https://ca/new-acct");
        CHECK(payload.len == strlen(key.jwk) && memcmp(payload.data, key.jwk, payload.len) == 0);
        clm_buf_printf(&in, "%s.%s", json_string_value(json_object_get(e, "protected")),
                       json_string_value(json_object_get(e, "payload")));
        HMAC(EVP_sha256(), mac_key, 32, in.data, in.len, mac, &mac_len);
        CHECK(sig.len == 32 && mac_len == 32 && memcmp(sig.data, mac, 32) == 0);
        CHECK(strstr((const char *)eab.data, "0123456789abcdef") == NULL);
        json_decref(eprot);
        json_decref(e);
        clm_buf_free(&eab);
        clm_buf_free(&p);
        clm_buf_free(&sig);
        clm_buf_free(&in);
    }

    /* not P-256: refused, the key untouched */
    CHECK_INT_EQ(pki_key_generate(PKI_KEY_EC_P384, &rsa), CLM_OK);
    {
        acme_jwk_key other;
        CHECK_INT_EQ(acme_jwk_key_init(&other, rsa), CLM_ERR_UNSUPPORTED);
        CHECK(other.pkey == NULL);
    }
    EVP_PKEY_free(rsa);
    acme_jwk_key_clear(&key);
    json_decref(jwk);
    OPENSSL_free(spki);
    free(thumb);
    clm_buf_free(&x);
    clm_buf_free(&y);
    clm_buf_free(&jws);
    clm_buf_free(&payload);
}

/* ---- parse.h ---- */

UNIT_TEST(directory)
{
    static const struct {
        const char *json;
        clm_err want;
        const char *message_has;
    } cases[] = {
        {"{\"newNonce\":\"https://a/n\",\"newAccount\":\"https://a/a\",\"newOrder\":\"https://a/o\","
         "\"meta\":{\"termsOfService\":\"https://a/tos\",\"externalAccountRequired\":true}}",
         CLM_OK, ""},
        {"{\"newNonce\":\"https://a/n\",\"newAccount\":\"https://a/a\"}", CLM_ERR_PARSE,
         "directory.newOrder: missing"},
        {"{\"newNonce\":\"ftp://a/n\",\"newAccount\":\"https://a/a\",\"newOrder\":\"https://a/o\"}",
         CLM_ERR_PARSE, "directory.newNonce: not an http(s) URL"},
        {"{\"newNonce\":\"https://a/ n\",\"newAccount\":\"https://a/a\",\"newOrder\":\"https://a/o\"}",
         CLM_ERR_PARSE, "directory.newNonce"},
        {"[1]", CLM_ERR_PARSE, "directory: not a JSON object"},
        {"{", CLM_ERR_PARSE, "directory: not JSON"},
        {"{\"newNonce\":\"https://a/n\",\"newNonce\":\"https://a/n\"}", CLM_ERR_PARSE, "not JSON"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        clm_arena arena = CLM_ARENA_INIT;
        acme_directory d;
        clm_err err = acme_directory_parse(cases[i].json, strlen(cases[i].json), &arena, &d);
        CHECK_INT_EQ(err, cases[i].want);
        if (err != CLM_OK)
            CHECK_STR_CONTAINS(clm_error_message(), cases[i].message_has);
        else
            CHECK(d.eab_required && strcmp(d.terms_of_service, "https://a/tos") == 0 &&
                  d.revoke_cert == NULL);
        clm_arena_free(&arena);
    }
}

UNIT_TEST(order_and_authorization)
{
    clm_arena arena = CLM_ARENA_INIT;
    acme_order o;
    acme_authorization a;
    acme_problem p;
    const char *order = "{\"status\":\"invalid\",\"authorizations\":[\"https://a/z/1\"],"
                        "\"finalize\":\"https://a/f\",\"error\":{\"type\":\"urn:x\",\"detail\":"
                        "\"bad\\nthing\"}}";
    const char *authz = "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":"
                        "\"a.test\"},\"wildcard\":true,\"challenges\":[{\"type\":\"http-01\","
                        "\"url\":\"https://a/c/1\",\"token\":\"tok-_9\",\"status\":\"pending\"}]}";

    CHECK_INT_EQ(acme_order_parse(order, strlen(order), &arena, &o), CLM_OK);
    CHECK(o.status == ACME_STATUS_INVALID && o.n_authorizations == 1 && o.certificate == NULL);
    CHECK_STR_EQ(o.error.detail, "bad?thing"); /* control characters replaced */
    {
        const char *no_finalize = "{\"status\":\"ready\",\"authorizations\":[]}";
        CHECK_INT_EQ(acme_order_parse(no_finalize, strlen(no_finalize), &arena, &o), CLM_ERR_PARSE);
    }
    CHECK_STR_CONTAINS(clm_error_message(), "order.finalize");
    CHECK_INT_EQ(acme_authorization_parse(authz, strlen(authz), &arena, &a), CLM_OK);
    CHECK(a.status == ACME_STATUS_PENDING && a.wildcard && a.n_challenges == 1);
    CHECK_STR_EQ(a.challenges[0].token, "tok-_9");
    CHECK_STR_EQ(a.identifier_value, "a.test");
    {
        /* a token that could climb out of the webroot is refused */
        const char *evil = "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":"
                           "\"a.test\"},\"challenges\":[{\"type\":\"http-01\",\"url\":"
                           "\"https://a/c/1\",\"token\":\"../../etc/passwd\",\"status\":"
                           "\"pending\"}]}";
        CHECK_INT_EQ(acme_authorization_parse(evil, strlen(evil), &arena, &a), CLM_ERR_PARSE);
        CHECK_STR_CONTAINS(clm_error_message(), "challenges[0].token");
        CHECK(a.n_challenges == 0);
    }
    {
        const char *problem = "{\"type\":\"urn:ietf:params:acme:error:badNonce\"}";
        acme_problem_parse(problem, strlen(problem), &arena, &p);
    }
    CHECK_STR_EQ(p.type, "urn:ietf:params:acme:error:badNonce");
    acme_problem_parse("<html>", 6, &arena, &p);
    CHECK(p.type == NULL && p.detail == NULL);
    CHECK_STR_EQ(acme_status_name(ACME_STATUS_PROCESSING), "processing");
    clm_arena_free(&arena);
}

UNIT_TEST(link_headers)
{
    clm_arena arena = CLM_ARENA_INIT;
    const char **urls;
    size_t n;
    const char *values[] = {
        "<https://a/cert/1/1>;rel=\"alternate\", <https://a/dir>;rel=\"index\"",
        "<https://a/cert/1/2> ; rel=\"up ALTERNATE\" ; title=\"a, \\\"b\\\"\"",
        "<https://a/cert/1/3>; rel=alternate",
    };
    const char *bad[] = {"https://a/x; rel=alternate"};

    CHECK_INT_EQ(acme_link_parse(values, 3, "alternate", &arena, &urls, &n), CLM_OK);
    CHECK_INT_EQ(n, 3);
    if (n == 3) {
        CHECK_STR_EQ(urls[0], "https://a/cert/1/1");
        CHECK_STR_EQ(urls[1], "https://a/cert/1/2");
        CHECK_STR_EQ(urls[2], "https://a/cert/1/3");
    }
    CHECK_INT_EQ(acme_link_parse(values, 3, "index", &arena, &urls, &n), CLM_OK);
    CHECK(n == 1 && strcmp(urls[0], "https://a/dir") == 0);
    CHECK_INT_EQ(acme_link_parse(bad, 1, "alternate", &arena, &urls, &n), CLM_ERR_PARSE);
    CHECK_INT_EQ(acme_link_parse(NULL, 0, "alternate", &arena, &urls, &n), CLM_OK);
    CHECK(n == 0 && urls == NULL);
    clm_arena_free(&arena);
}

UNIT_TEST(pem_chain)
{
    clm_arena arena = CLM_ARENA_INIT;
    EVP_PKEY *key = NULL;
    X509 *x = X509_new();
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem;
    long len;
    adapter_ca_der *certs;
    size_t n;
    const char *cn;
    X509_NAME *name = X509_NAME_new();

    pki_key_generate(PKI_KEY_EC_P256, &key);
    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
                               (const unsigned char *)"Test Root X", -1, -1, 0);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, name);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_sign(x, key, EVP_sha256());
    PEM_write_bio_X509(bio, x);
    PEM_write_bio_X509(bio, x);
    len = BIO_get_mem_data(bio, &pem);
    CHECK_INT_EQ(acme_chain_parse(pem, (size_t)len, &arena, &certs, &n), CLM_OK);
    CHECK_INT_EQ(n, 2);
    CHECK_INT_EQ(acme_chain_top_issuer_cn(certs, n, &arena, &cn), CLM_OK);
    CHECK_STR_EQ(cn, "Test Root X");
    /* a key among the certificates, and nothing at all: refused */
    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
    len = BIO_get_mem_data(bio, &pem);
    CHECK_INT_EQ(acme_chain_parse(pem, (size_t)len, &arena, &certs, &n), CLM_ERR_PARSE);
    CHECK_INT_EQ(acme_chain_parse("hello", 5, &arena, &certs, &n), CLM_ERR_PARSE);
    CHECK(n == 0 && certs == NULL);
    BIO_free(bio);
    X509_NAME_free(name);
    X509_free(x);
    EVP_PKEY_free(key);
    clm_arena_free(&arena);
}

int main(void)
{
    UNIT_RUN(base64url);
    UNIT_RUN(jwk_and_es256);
    UNIT_RUN(directory);
    UNIT_RUN(order_and_authorization);
    UNIT_RUN(link_headers);
    UNIT_RUN(pem_chain);
    return unit_report();
}
