/* lib/pki/csr.c: CSR field rules, building (X509_REQ_*) and reading requests. */
#include "lib/pki/csr.h"

#include "lib/pki/name.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CN_MAX 64
#define EMAIL_MAX 254
#define EMAIL_LOCAL_MAX 64
#define PASSWORD_MIN 8
#define PASSWORD_MAX 255

static const struct {
    const char *name;
    const char *alias; /* the spelling with '-' */
} hashes[PKI_HASH_MAX] = {
    [PKI_HASH_SHA256] = {"SHA256", "SHA-256"},
    [PKI_HASH_SHA384] = {"SHA384", "SHA-384"},
    [PKI_HASH_SHA512] = {"SHA512", "SHA-512"},
    [PKI_HASH_SHA1] = {"SHA1", "SHA-1"},
};

static const pki_hash default_hashes[] = {PKI_HASH_SHA256, PKI_HASH_SHA384, PKI_HASH_SHA512};

const char *pki_hash_name(pki_hash hash)
{
    return (unsigned)hash < PKI_HASH_MAX ? hashes[hash].name : "unknown";
}

clm_err pki_hash_parse(const char *name, pki_hash *out)
{
    for (int i = 0; name != NULL && i < PKI_HASH_MAX; i++) {
        if (strcasecmp(name, hashes[i].name) == 0 || strcasecmp(name, hashes[i].alias) == 0) {
            *out = (pki_hash)i;
            return CLM_OK;
        }
    }
    return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                    "hash \"%.32s\" is unknown; use SHA256, SHA384, SHA512 or SHA1",
                    name ? name : "(null)");
}

/* ---- the rules ---------------------------------------------------------------------------- */

/* Every violation, "csr.<field>: <what>", joined with "; ". */
typedef struct violations {
    clm_buf text;
    size_t n;
    bool no_memory;
} violations;

static void violation(violations *v, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void violation(violations *v, const char *field, const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (clm_buf_printf(&v->text, "%scsr.%s: %s", v->n ? "; " : "", field, what) != CLM_OK)
        v->no_memory = true;
    v->n++;
}

/* Characters of UTF-8 text, or -1 when it is not UTF-8 or holds a control character. */
static long text_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long chars = 0;

    while (*p != '\0') {
        size_t n = *p < 0x80             ? 1
                   : (*p & 0xe0) == 0xc0 ? 2
                   : (*p & 0xf0) == 0xe0 ? 3
                   : (*p & 0xf8) == 0xf0 ? 4
                                         : 0;
        if (n == 0 || *p < 0x20 || *p == 0x7f || (n == 2 && *p < 0xc2))
            return -1;
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return -1;
        }
        p += n;
        chars++;
    }
    return chars;
}

static void check_text(violations *v, const char *field, const char *value, long max)
{
    long chars;

    if (value == NULL)
        return;
    chars = text_chars(value);
    if (chars < 0)
        violation(v, field, "not UTF-8 text, or holds a control character");
    else if (chars == 0)
        violation(v, field, "empty (leave it out instead)");
    else if (chars > max)
        violation(v, field, "%ld characters, at most %ld", chars, max);
}

static void check_common_name(violations *v, const char *cn)
{
    size_t len, start = 0;

    if (cn == NULL || cn[0] == '\0') {
        violation(v, "common_name", "required");
        return;
    }
    len = strlen(cn);
    if (len > CN_MAX) {
        violation(v, "common_name", "%zu characters, at most %d", len, CN_MAX);
        return;
    }
    if (strncmp(cn, "*.", 2) == 0)
        start = 2;
    for (size_t i = start; i < len; i++) {
        unsigned char c = (unsigned char)cn[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (ok)
            continue;
        if (c > 0x20 && c < 0x7f)
            violation(v, "common_name",
                      "'%c' (character %zu) is not allowed: use letters, digits, '-', '_', '.' "
                      "and a leading \"*.\"",
                      c, i + 1);
        else
            violation(v, "common_name",
                      "%s (byte %zu) is not allowed: use letters, digits, '-', '_', '.' and a "
                      "leading \"*.\"",
                      c == ' '                ? "a space"
                      : c < 0x20 || c == 0x7f ? "a control character"
                                              : "a non-ASCII character",
                      i + 1);
        return;
    }
    if (cn[start] == '.' || cn[len - 1] == '.' || strstr(cn, "..") != NULL || start == len)
        violation(v, "common_name", "\"%s\" has an empty label (a leading, trailing or double '.')",
                  cn);
}

static void check_sans(violations *v, const char *sans)
{
    char *copy, **entries;
    size_t n = 0, index = 0;

    if (sans == NULL)
        return;
    copy = strdup(sans);
    entries = calloc(PKI_CSR_SANS_MAX, sizeof *entries);
    if (copy == NULL || entries == NULL) {
        v->no_memory = true;
        free(copy);
        free(entries);
        return;
    }
    /* strtok_r would merge empty entries: split by hand */
    for (char *p = copy;; index++) {
        char *comma = strchr(p, ',');
        char *entry = p, *end;

        if (comma != NULL)
            *comma = '\0';
        while (*entry == ' ' || *entry == '\t')
            entry++;
        end = entry + strlen(entry);
        while (end > entry && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        char field[32];
        snprintf(field, sizeof field, "sans[%zu]", index);
        if (*entry == '\0') {
            violation(v, field, "empty entry (two commas, or a comma at an end)");
        } else if (n == PKI_CSR_SANS_MAX) {
            violation(v, "sans", "more than %d entries", PKI_CSR_SANS_MAX);
            break;
        } else if (!pki_name_parse_ip(entry, NULL, NULL)) {
            if (pki_name_check_dns(entry, true) != CLM_OK)
                violation(v, field, "%s", clm_error_message());
            else if (strncmp(entry, "*.", 2) == 0 && strchr(entry + 2, '.') == NULL)
                violation(v, field, "\"%s\": a wildcard needs at least two labels after \"*.\"",
                          entry);
            entries[n++] = entry;
        } else {
            entries[n++] = entry;
        }
        for (size_t k = 0; n > 0 && k + 1 < n; k++) {
            if (strcasecmp(entries[k], entries[n - 1]) == 0) {
                violation(v, field, "\"%s\" is listed twice", entries[n - 1]);
                n--;
                break;
            }
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    clm_error_clear();
    free(entries);
    free(copy);
}

static void check_country(violations *v, const char *country, bool required)
{
    if (country == NULL) {
        if (required)
            violation(v, "country", "required by the group policy");
        return;
    }
    if (strlen(country) != 2 || country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' ||
        country[1] > 'Z')
        violation(v, "country",
                  "\"%.8s\" is not 2 upper-case letters (ISO 3166-1 alpha-2, e.g. US)",
                  text_chars(country) < 0 ? "?" : country);
}

static bool atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static void check_email(violations *v, const char *email, bool required)
{
    const char *at;
    size_t local;

    if (email == NULL) {
        if (required)
            violation(v, "email", "required by the group policy");
        return;
    }
    at = strrchr(email, '@');
    if (strlen(email) > EMAIL_MAX) {
        violation(v, "email", "%zu characters, at most %d", strlen(email), EMAIL_MAX);
        return;
    }
    if (at == NULL || at == email) {
        violation(v, "email", "not an address of the form name@example.com");
        return;
    }
    local = (size_t)(at - email);
    if (local > EMAIL_LOCAL_MAX) {
        violation(v, "email", "the part before '@' has %zu characters, at most %d", local,
                  EMAIL_LOCAL_MAX);
        return;
    }
    for (size_t i = 0; i < local; i++) {
        bool dot_ok = email[i] == '.' && i > 0 && i + 1 < local && email[i + 1] != '.';
        if (!atext((unsigned char)email[i]) && !dot_ok) {
            violation(v, "email",
                      "the part before '@' has a character that is not allowed "
                      "(character %zu)",
                      i + 1);
            return;
        }
    }
    if (pki_name_check_dns(at + 1, false) != CLM_OK || strchr(at + 1, '.') == NULL)
        violation(v, "email", "the domain after '@' is not a DNS name with at least two labels");
    clm_error_clear();
}

static void check_password(violations *v, const char *password)
{
    bool upper = false, lower = false, digit = false, special = false;
    size_t len;
    char missing[128] = "";

    if (password == NULL)
        return;
    len = strlen(password);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)password[i];
        if (c < 0x20 || c > 0x7e) {
            violation(v, "challenge_password", "only printable ASCII characters are allowed");
            return;
        }
        upper |= c >= 'A' && c <= 'Z';
        lower |= c >= 'a' && c <= 'z';
        digit |= c >= '0' && c <= '9';
        special |= !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
    }
    if (len < PASSWORD_MIN || len > PASSWORD_MAX)
        violation(v, "challenge_password", "%zu characters; %d to %d are allowed", len,
                  PASSWORD_MIN, PASSWORD_MAX);
    if (!upper || !lower || !digit || !special) {
        snprintf(missing, sizeof missing, "%s%s%s%s", upper ? "" : " an upper-case letter,",
                 lower ? "" : " a lower-case letter,", digit ? "" : " a digit,",
                 special ? "" : " a special character,");
        missing[strlen(missing) - 1] = '\0';
        violation(v, "challenge_password", "needs at least one of each class; missing:%s", missing);
    }
}

static void check_policy(violations *v, const pki_csr_fields *f, const pki_csr_policy *p,
                         EVP_PKEY *key)
{
    const pki_hash *allowed = p && p->n_hashes ? p->hashes : default_hashes;
    size_t n_allowed =
        p && p->n_hashes ? p->n_hashes : sizeof default_hashes / sizeof *default_hashes;
    char list[256] = "";
    size_t used = 0;
    bool found = false;

    for (size_t i = 0; i < n_allowed; i++) {
        found |= allowed[i] == f->hash;
        used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0, "%s%s",
                                 i ? ", " : "", pki_hash_name(allowed[i]));
    }
    if ((unsigned)f->hash >= PKI_HASH_MAX)
        violation(v, "hash", "unknown hash function %d", (int)f->hash);
    else if (!found)
        violation(v, "hash", "%s is not allowed by the group policy (allowed: %s)",
                  pki_hash_name(f->hash), list);
    if (key == NULL)
        return;
    pki_key_type type;
    if (pki_key_type_of(key, &type) != CLM_OK) {
        violation(v, "key_type", "%s", clm_error_message());
        clm_error_clear();
        return;
    }
    if (p == NULL || p->n_key_types == 0)
        return;
    found = false;
    used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < p->n_key_types; i++) {
        found |= p->key_types[i] == type;
        used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0, "%s%s",
                                 i ? ", " : "", pki_key_type_name(p->key_types[i]));
    }
    if (!found)
        violation(v, "key_type", "%s is not allowed by the group policy (allowed: %s)",
                  pki_key_type_name(type), list);
}

clm_err pki_csr_check(const pki_csr_fields *fields, const pki_csr_policy *policy, EVP_PKEY *key)
{
    violations v = {CLM_BUF_INIT, 0, false};
    clm_err err = CLM_OK;

    if (fields == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "csr: no fields");
    check_common_name(&v, fields->common_name);
    check_sans(&v, fields->sans);
    check_text(&v, "organization", fields->organization, 64);
    check_text(&v, "org_unit", fields->org_unit, 64);
    check_text(&v, "locality", fields->locality, 128);
    check_text(&v, "state", fields->state, 128);
    check_country(&v, fields->country, policy && policy->require_country);
    check_email(&v, fields->email, policy && policy->require_email);
    check_password(&v, fields->challenge_password);
    check_policy(&v, fields, policy, key);
    if (v.no_memory)
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    else if (v.n > 0)
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s", clm_buf_str(&v.text));
    clm_buf_free(&v.text);
    return err;
}
