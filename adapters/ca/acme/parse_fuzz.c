/*
 * adapters/ca/acme/parse_fuzz.c: arbitrary bytes as an ACME server's answers, through
 * every reader of parse.h and the base64url decoder (jws.h).
 *
 * Input: byte 0 picks the reader (mod 7), the rest is the body or header text. Each
 * reader must either fail with CLM_ERR_PARSE (or NO_MEMORY) and leave its output
 * zeroed, or keep its promises: required URLs present, counts within limits, tokens of
 * base64url characters only, DER certificates that decode.
 */
#include "adapters/ca/acme/jws.h"
#include "adapters/ca/acme/parse.h"

#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_token(const char *t)
{
    if (t == NULL)
        return;
    if (t[0] == '\0' || strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
                            strlen(t))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clm_arena arena = CLM_ARENA_INIT;
    char *text;

    if (size < 1)
        return 0;
    text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % 7) {
    case 0: {
        acme_directory d;
        if (acme_directory_parse(data + 1, size - 1, &arena, &d) == CLM_OK) {
            if (d.new_nonce == NULL || d.new_account == NULL || d.new_order == NULL)
                abort();
        } else if (d.new_nonce != NULL) {
            abort();
        }
        break;
    }
    case 1: {
        acme_order o;
        if (acme_order_parse(data + 1, size - 1, &arena, &o) == CLM_OK) {
            if (o.finalize == NULL || o.n_authorizations > ACME_LIST_MAX)
                abort();
            for (size_t i = 0; i < o.n_authorizations; i++)
                if (o.authorizations[i] == NULL || strncmp(o.authorizations[i], "http", 4) != 0)
                    abort();
            (void)acme_status_name(o.status);
        } else if (o.finalize != NULL || o.n_authorizations != 0) {
            abort();
        }
        break;
    }
    case 2: {
        acme_authorization a;
        if (acme_authorization_parse(data + 1, size - 1, &arena, &a) == CLM_OK) {
            if (a.identifier_value == NULL || a.n_challenges > ACME_LIST_MAX)
                abort();
            for (size_t i = 0; i < a.n_challenges; i++) {
                if (a.challenges[i].type == NULL || a.challenges[i].url == NULL)
                    abort();
                check_token(a.challenges[i].token);
            }
        } else if (a.n_challenges != 0) {
            abort();
        }
        break;
    }
    case 3: {
        acme_problem p;
        acme_problem_parse(data + 1, size - 1, &arena, &p);
        if (p.detail != NULL && strlen(p.detail) > 200)
            abort();
        break;
    }
    case 4: {
        /* header values split at newlines, as several Link headers */
        const char *values[8];
        size_t n = 0;
        const char **urls;
        size_t n_urls;
        for (char *p = text; n < 8;) {
            char *nl = strchr(p, '\n');
            values[n++] = p;
            if (nl == NULL)
                break;
            *nl = '\0';
            p = nl + 1;
        }
        if (acme_link_parse(values, n, "alternate", &arena, &urls, &n_urls) == CLM_OK)
            for (size_t i = 0; i < n_urls; i++)
                if (urls[i] == NULL || urls[i][0] == '\0')
                    abort();
        break;
    }
    case 5: {
        adapter_ca_der *certs;
        size_t n;
        const char *cn;
        if (acme_chain_parse(data + 1, size - 1, &arena, &certs, &n) == CLM_OK) {
            if (n == 0)
                abort();
            for (size_t i = 0; i < n; i++) {
                const unsigned char *p = certs[i].data;
                X509 *x = d2i_X509(NULL, &p, (long)certs[i].len);
                if (x == NULL)
                    abort();
                X509_free(x);
            }
            (void)acme_chain_top_issuer_cn(certs, n, &arena, &cn);
        }
        break;
    }
    default: {
        clm_buf out = CLM_BUF_INIT, again = CLM_BUF_INIT;
        if (acme_b64url_decode(text, strlen(text), &out) == CLM_OK) {
            clm_buf back = CLM_BUF_INIT;
            /* decoding what was encoded gives the bytes back */
            acme_b64url_append(&back, out.data, out.len);
            if (acme_b64url_decode((const char *)back.data, back.len, &again) != CLM_OK ||
                again.len != out.len || (out.len && memcmp(again.data, out.data, out.len)))
                abort();
            clm_buf_free(&back);
        }
        clm_buf_free(&out);
        clm_buf_free(&again);
        break;
    }
    }
    clm_arena_free(&arena);
    free(text);
    return 0;
}
