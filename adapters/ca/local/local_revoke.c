/* adapters/ca/local/local_revoke.c: the local CA's revocations and its CRL. */
#include "adapters/ca/local/local_internal.h"
#include "lib/base/buf.h"

#include "lib/pki/x509_build.h"

#include <inttypes.h>
#include <openssl/bn.h>
#include <openssl/crypto.h> /* OPENSSL_free */
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* Most revocations one CA lists (the whole list is re-signed into every CRL). */
#define CA_LOCAL_REVOKED_MAX 1000000

clm_err ca_local_serial_normalise(const char *text, char out[41])
{
    static const char digits[] = "0123456789ABCDEF";
    char hex[41];
    size_t n = 0;
    const char *p = text;

    out[0] = '\0';
    if (text == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "serial: required");
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    for (; *p; p++) {
        int v = clm_hex_value(*p);
        if (*p == ':' && p[1] != '\0' && p[1] != ':' && p != text)
            continue;
        if (v < 0)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "serial: \"%.48s\" is not hexadecimal (\"0A1B...\", colons allowed)",
                            text);
        if (n == 0 && v == 0)
            continue; /* leading zeros */
        if (n == 40)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "serial: longer than 20 bytes (RFC 5280)");
        hex[n++] = digits[v];
    }
    if (n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "serial: zero or empty is not a serial number");
    /* two digits per byte, as facts.h and `openssl x509 -serial` print it */
    if (n % 2 == 1)
        out[0] = '0';
    memcpy(out + n % 2, hex, n);
    out[n + n % 2] = '\0';
    return CLM_OK;
}

clm_err ca_local_serial_hex(const ASN1_INTEGER *serial, char out[41])
{
    static const char digits[] = "0123456789ABCDEF";
    BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
    unsigned char bytes[20];
    int len;

    out[0] = '\0';
    if (bn == NULL || BN_is_negative(bn) || BN_is_zero(bn) || BN_num_bytes(bn) > 20) {
        BN_free(bn);
        ERR_clear_error();
        return clm_fail(CLM_ERR_PARSE, "serial: not a positive number of at most 20 bytes");
    }
    len = BN_bn2bin(bn, bytes);
    BN_free(bn);
    for (int i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
    return CLM_OK;
}

static int compare_serials(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool reason_ok(long code)
{
    return code >= 0 && code < ADAPTER_CA_REASON_MAX && code != 7 &&
           code != ADAPTER_CA_REASON_REMOVE_FROM_CRL;
}

clm_err ca_local_revoked_parse(const void *text, size_t len, clm_arena *arena,
                               ca_local_revoked **out, size_t *n)
{
    const char *p = text, *end = p + len;
    size_t count = 0, line = 0;
    ca_local_revoked *list;

    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] == '\n')
            count++;
    if (len > 0 && p[len - 1] != '\n')
        return clm_fail(CLM_ERR_PARSE, "revoked: the last line has no newline");
    if (count == 0)
        return CLM_OK;
    if (count > CA_LOCAL_REVOKED_MAX)
        return clm_fail(CLM_ERR_PARSE, "revoked: more than %d entries", CA_LOCAL_REVOKED_MAX);
    list = clm_arena_alloc(arena, count * sizeof *list);
    if (list == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        ca_local_revoked *e = &list[line];
        const char *q = p;
        size_t digits = 0;
        int64_t when = 0, reason = 0;

        line++;
        while (q < nl && clm_hex_value(*q) >= 0 && !(*q >= 'a' && *q <= 'f') && digits < 40)
            e->serial[digits++] = *q++;
        e->serial[digits] = '\0';
        if (digits == 0 || digits % 2 == 1 || (e->serial[0] == '0' && e->serial[1] == '0') ||
            q >= nl || *q != ' ')
            return clm_fail(CLM_ERR_PARSE,
                            "revoked line %zu: a serial (upper-case hex, two digits per byte, no "
                            "leading zero byte) and a blank expected",
                            line);
        q++;
        /* one spelling per value (no leading zeros): what is read encodes back the same */
        if (q >= nl || *q < '0' || *q > '9' || (*q == '0' && q + 1 < nl && q[1] != ' '))
            return clm_fail(CLM_ERR_PARSE, "revoked line %zu: a time expected", line);
        while (q < nl && *q >= '0' && *q <= '9') {
            if (when > (INT64_MAX - 9) / 10)
                return clm_fail(CLM_ERR_PARSE, "revoked line %zu: the time is too large", line);
            when = when * 10 + (*q++ - '0');
        }
        if (q >= nl || *q != ' ' || q + 1 >= nl || (q[1] == '0' && q + 2 < nl))
            return clm_fail(CLM_ERR_PARSE, "revoked line %zu: a reason code expected", line);
        q++;
        while (q < nl && *q >= '0' && *q <= '9' && reason < 100)
            reason = reason * 10 + (*q++ - '0');
        if (q != nl || !reason_ok((long)reason))
            return clm_fail(CLM_ERR_PARSE, "revoked line %zu: not an RFC 5280 reason code", line);
        e->when = when;
        e->reason = (adapter_ca_revoke_reason)reason;
        p = nl + 1;
    }
    /* no serial twice (checked on a sorted copy: a pairwise check is quadratic) */
    {
        const char **sorted = malloc(count * sizeof *sorted);
        int dup = 0;

        if (sorted == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        for (size_t i = 0; i < count; i++)
            sorted[i] = list[i].serial;
        qsort(sorted, count, sizeof *sorted, compare_serials);
        for (size_t i = 1; i < count && !dup; i++)
            dup = strcmp(sorted[i - 1], sorted[i]) == 0;
        free(sorted);
        if (dup)
            return clm_fail(CLM_ERR_PARSE, "revoked: a serial is listed twice");
    }
    *out = list;
    *n = count;
    return CLM_OK;
}

static clm_err encode_entry(const ca_local_revoked *e, clm_buf *out)
{
    return clm_buf_printf(out, "%s %" PRId64 " %d\n", e->serial, e->when, (int)e->reason);
}

clm_err ca_local_revoked_encode(const ca_local_revoked *list, size_t n, clm_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        clm_err err = encode_entry(&list[i], out);
        if (err != CLM_OK)
            return err;
    }
    return CLM_OK;
}

clm_err ca_local_revocation_load(adapter_ca *ca)
{
    clm_arena arena = CLM_ARENA_INIT;
    ca_local_revoked *parsed = NULL;
    size_t n = 0;
    clm_buf text = CLM_BUF_INIT;
    clm_err err = ca->state->get(ca->state->ctx, "revoked", &text);

    if (err == CLM_ERR_NOT_FOUND) {
        clm_error_clear();
        err = CLM_OK;
    } else if (err == CLM_OK) {
        err = ca_local_revoked_parse(text.data, text.len, &arena, &parsed, &n);
    }
    if (err == CLM_OK && n > 0) {
        ca->revoked = malloc(n * sizeof *ca->revoked);
        if (ca->revoked == NULL) {
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        } else {
            memcpy(ca->revoked, parsed, n * sizeof *parsed);
            ca->n_revoked = ca->cap_revoked = n;
        }
    }
    clm_arena_free(&arena);
    clm_buf_reset(&text);
    if (err == CLM_OK) {
        err = ca->state->get(ca->state->ctx, "crl_number", &text);
        if (err == CLM_ERR_NOT_FOUND) {
            clm_error_clear();
            ca->crl_number = 0;
            err = CLM_OK;
        } else if (err == CLM_OK) {
            char *end;
            long long v = strtoll(clm_buf_str(&text), &end, 10);
            if (text.len == 0 || *end != '\0' || v < 0)
                err = clm_fail(CLM_ERR_PARSE, "state item crl_number: not a number");
            ca->crl_number = v;
        }
    }
    clm_buf_free(&text);
    return err;
}

static ca_local_revoked *find_revoked(adapter_ca *ca, const char *serial)
{
    for (size_t i = 0; i < ca->n_revoked; i++)
        if (strcmp(ca->revoked[i].serial, serial) == 0)
            return &ca->revoked[i];
    return NULL;
}

/* The serial of a DER certificate, when it was issued by this CA. */
static bool cert_serial(adapter_ca *ca, const void *der, size_t len, char serial[41],
                        adapter_ca_result *out)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    EVP_PKEY *ca_key = X509_get_pubkey(ca->cert); /* not get0: BoringSSL lacks it */
    bool ok = false;

    if (x == NULL || p != (const unsigned char *)der + len) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "cert: not one DER certificate");
    } else if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ca->cert)) != 0 ||
               ca_key == NULL || X509_verify(x, ca_key) != 1) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                              "cert: this certificate was not issued by this CA");
    } else if (ca_local_serial_hex(X509_get0_serialNumber(x), serial) != CLM_OK) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "cert: %s", clm_error_message());
    } else {
        ok = true;
    }
    EVP_PKEY_free(ca_key);
    X509_free(x);
    ERR_clear_error();
    return ok;
}

clm_err ca_local_revoke(adapter_ca *ca, const adapter_ca_revocation *revocation,
                        adapter_ca_result *out)
{
    char serial[41], from_cert[41];
    ca_local_revoked *existing, entry;
    clm_buf text = CLM_BUF_INIT;
    adapter_ca_state_item item;
    clm_err err = CLM_OK;

    if (ca == NULL || revocation == NULL || out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "local CA: an instance, a revocation and a "
                                                  "result are required");
    if (!ca->configured)
        return adapter_ca_result_set(out, ADAPTER_CA_UNCONFIGURED,
                                     "local CA \"%s\" has no CA key: nothing to revoke",
                                     ca->connector);
    if (ca_local_serial_normalise(revocation->serial, serial) != CLM_OK)
        return adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "%s", clm_error_message());
    if (!reason_ok((long)revocation->reason))
        return adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                     "reason: %d is not a reason a CRL lists (RFC 5280 5.3.1)",
                                     (int)revocation->reason);
    if (revocation->cert != NULL) {
        if (!cert_serial(ca, revocation->cert, revocation->cert_len, from_cert, out))
            return CLM_OK;
        if (strcmp(from_cert, serial) != 0)
            return adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                         "serial: %s is not the certificate's (%s)", serial,
                                         from_cert);
    }
    pthread_mutex_lock(&ca->lock);
    existing = find_revoked(ca, serial);
    if (existing != NULL && existing->reason != ADAPTER_CA_REASON_CERTIFICATE_HOLD) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                              "serial %s is already revoked (%s); a revocation is final", serial,
                              adapter_ca_revoke_reason_name(existing->reason));
        err = CLM_OK;
        goto done;
    }
    if (existing != NULL && revocation->reason == ADAPTER_CA_REASON_CERTIFICATE_HOLD) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "serial %s is already on hold", serial);
        err = CLM_OK;
        goto done;
    }
    /* Room first (growing changes no entry), then the new list is written; the entries
     * change only once the state has it. */
    if (existing == NULL && ca->n_revoked == ca->cap_revoked) {
        size_t cap = ca->cap_revoked ? ca->cap_revoked * 2 : 64;
        ca_local_revoked *grown = realloc(ca->revoked, cap * sizeof *grown);
        if (grown == NULL) {
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
        ca->revoked = grown;
        ca->cap_revoked = cap;
    }
    memset(&entry, 0, sizeof entry);
    if (existing != NULL) {
        entry = *existing; /* a hold made permanent keeps its revocation date */
    } else {
        memcpy(entry.serial, serial, sizeof entry.serial);
        entry.when = ca_local_now(ca);
    }
    entry.reason = revocation->reason;
    for (size_t i = 0; i < ca->n_revoked && err == CLM_OK; i++)
        err = encode_entry(&ca->revoked[i] == existing ? &entry : &ca->revoked[i], &text);
    if (err == CLM_OK && existing == NULL)
        err = encode_entry(&entry, &text);
    if (err != CLM_OK)
        goto done;
    item = (adapter_ca_state_item){.name = "revoked", .data = text.data, .len = text.len};
    if ((err = ca->state->put(ca->state->ctx, &item, 1)) != CLM_OK) {
        err = clm_error_context(err, "local CA \"%s\": saving the revocation", ca->connector);
        goto done;
    }
    if (existing != NULL)
        *existing = entry;
    else
        ca->revoked[ca->n_revoked++] = entry;
    adapter_ca_result_set(out, ADAPTER_CA_REVOKED, "%s", "");
    out->serial = clm_arena_strdup(&out->arena, serial);
    if (out->serial == NULL)
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
done:
    pthread_mutex_unlock(&ca->lock);
    clm_buf_free(&text);
    return err;
}

static ASN1_INTEGER *serial_integer(const char *hex)
{
    BIGNUM *bn = NULL;
    ASN1_INTEGER *i = NULL;

    if (BN_hex2bn(&bn, hex) > 0)
        i = BN_to_ASN1_INTEGER(bn, NULL);
    BN_free(bn);
    return i;
}

static clm_err crl_add_entry(X509_CRL *crl, const ca_local_revoked *e)
{
    X509_REVOKED *rev = X509_REVOKED_new();
    ASN1_INTEGER *serial = serial_integer(e->serial);
    ASN1_TIME *when = ASN1_TIME_set(NULL, (time_t)e->when);
    ASN1_ENUMERATED *reason = NULL;
    clm_err err = CLM_OK;

    if (rev == NULL || serial == NULL || when == NULL ||
        X509_REVOKED_set_serialNumber(rev, serial) != 1 ||
        X509_REVOKED_set_revocationDate(rev, when) != 1) {
        err = clm_fail(CLM_ERR_CRYPTO, "CRL: cannot make the entry of serial %s", e->serial);
        goto done;
    }
    /* RFC 5280 5.3.1: reasonCode unspecified SHOULD be left out */
    if (e->reason != ADAPTER_CA_REASON_UNSPECIFIED) {
        reason = ASN1_ENUMERATED_new();
        if (reason == NULL || ASN1_ENUMERATED_set(reason, (long)e->reason) != 1 ||
            X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0) != 1) {
            err = clm_fail(CLM_ERR_CRYPTO, "CRL: cannot set the reason of serial %s", e->serial);
            goto done;
        }
    }
    if (X509_CRL_add0_revoked(crl, rev) != 1) {
        err = clm_fail(CLM_ERR_CRYPTO, "CRL: cannot add serial %s", e->serial);
        goto done;
    }
    rev = NULL; /* the CRL owns it */
done:
    ASN1_ENUMERATED_free(reason);
    ASN1_TIME_free(when);
    ASN1_INTEGER_free(serial);
    X509_REVOKED_free(rev);
    ERR_clear_error();
    return err;
}

static clm_err crl_add_aki(X509_CRL *crl, X509 *issuer)
{
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
    AUTHORITY_KEYID *aki;
    clm_err err = CLM_OK;

    if (ski == NULL)
        return CLM_OK; /* an imported CA without SKI: the CRL goes without AKI too */
    aki = AUTHORITY_KEYID_new();
    if (aki == NULL || (aki->keyid = ASN1_OCTET_STRING_dup(ski)) == NULL ||
        X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 0, 0) != 1)
        err = clm_fail(CLM_ERR_CRYPTO, "CRL: cannot add authorityKeyIdentifier");
    AUTHORITY_KEYID_free(aki);
    return err;
}

clm_err ca_local_crl(adapter_ca *ca, clm_buf *out)
{
    X509_CRL *crl = NULL;
    ASN1_TIME *this_update = NULL, *next_update = NULL;
    ASN1_INTEGER *number = NULL;
    unsigned char *der = NULL;
    char text[24];
    adapter_ca_state_item item;
    int64_t now;
    int len;
    clm_err err = CLM_OK;

    if (ca == NULL || out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "local CA: an instance and a buffer are "
                                                  "required");
    if (!ca->configured)
        return clm_fail(CLM_ERR_UNAVAILABLE, "local CA \"%s\" has no CA key yet: no CRL",
                        ca->connector);
    pthread_mutex_lock(&ca->lock);
    now = ca_local_now(ca);
    crl = X509_CRL_new();
    this_update = ASN1_TIME_set(NULL, (time_t)now);
    next_update = ASN1_TIME_set(NULL, (time_t)(now + (int64_t)ca->crl_days * 86400));
    number = ASN1_INTEGER_new();
    if (crl == NULL || this_update == NULL || next_update == NULL || number == NULL ||
        ASN1_INTEGER_set(number, (long)(ca->crl_number + 1)) != 1 ||
        X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) != 1 ||
        X509_CRL_set1_lastUpdate(crl, this_update) != 1 ||
        X509_CRL_set1_nextUpdate(crl, next_update) != 1) {
        err = clm_fail(CLM_ERR_CRYPTO, "CRL: cannot fill in the header");
        goto done;
    }
    for (size_t i = 0; i < ca->n_revoked && err == CLM_OK; i++)
        err = crl_add_entry(crl, &ca->revoked[i]);
    if (err != CLM_OK)
        goto done;
    if (X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) != 1 ||
        (err = crl_add_aki(crl, ca->cert)) != CLM_OK) {
        err = err ? err : clm_fail(CLM_ERR_CRYPTO, "CRL: cannot add cRLNumber");
        goto done;
    }
    X509_CRL_sort(crl);
    if (X509_CRL_sign(crl, ca->key, pki_x509_sign_digest(ca->key)) <= 0) {
        err = clm_fail(CLM_ERR_CRYPTO, "CRL: cannot sign");
        goto done;
    }
    len = i2d_X509_CRL(crl, &der);
    if (len <= 0) {
        err = clm_fail(CLM_ERR_CRYPTO, "CRL: cannot encode");
        goto done;
    }
    /* A number is never given twice: saved before the CRL is handed out. */
    snprintf(text, sizeof text, "%" PRId64, ca->crl_number + 1);
    item = (adapter_ca_state_item){.name = "crl_number", .data = text, .len = strlen(text)};
    if ((err = ca->state->put(ca->state->ctx, &item, 1)) != CLM_OK) {
        err = clm_error_context(err, "local CA \"%s\": saving the CRL number", ca->connector);
        goto done;
    }
    ca->crl_number++;
    err = clm_buf_append(out, der, (size_t)len);
done:
    pthread_mutex_unlock(&ca->lock);
    OPENSSL_free(der);
    ASN1_INTEGER_free(number);
    ASN1_TIME_free(this_update);
    ASN1_TIME_free(next_update);
    X509_CRL_free(crl);
    ERR_clear_error();
    return err;
}
