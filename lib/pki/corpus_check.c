/*
 * lib/pki/corpus_check.c: reads every file of the test corpus (tests/corpus/
 * make_corpus.sh) as its manifest expects, and compares the fast facts path with the
 * OpenSSL path on every certificate read.
 *
 *   corpus_check CORPUS_DIR OUT_DIR
 *
 * CORPUS_DIR/manifest.txt: one line per file, "FILE PASSWORD RESULT CERTS KEYS"
 * (PASSWORD "-" for none; RESULT OK, PARSE, UNAUTHENTICATED, NOT_FOUND or UNSUPPORTED;
 * CERTS and KEYS a number or "*"). OUT_DIR receives, per distinct certificate,
 * certs/<sha256>.der and one line of facts.jsonl for the openssl CLI comparison
 * (facts_cli_test.py). Ends with the "N passed, N failed" line: one check per manifest
 * line and per certificate compared.
 */
#include "lib/base/buf.h"
#include "lib/pki/facts.h"
#include "lib/pki/read.h"

#include <errno.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int passed, failed;
static size_t compared, fast_ok, fallbacks, unique_certs;

static const struct {
    const char *name;
    clm_err err;
} results[] = {{"OK", CLM_OK},
               {"PARSE", CLM_ERR_PARSE},
               {"UNAUTHENTICATED", CLM_ERR_UNAUTHENTICATED},
               {"NOT_FOUND", CLM_ERR_NOT_FOUND},
               {"UNSUPPORTED", CLM_ERR_UNSUPPORTED}};

static int read_file(const char *path, clm_buf *out)
{
    FILE *fp = fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (fp == NULL)
        return -1;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        clm_buf_append(out, chunk, n);
    fclose(fp);
    return 0;
}

static void json_str(FILE *out, const char *s)
{
    if (s == NULL) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void json_strv(FILE *out, const char *key, const pki_strv *v)
{
    fprintf(out, ",\"%s\":[", key);
    for (size_t i = 0; i < v->n; i++) {
        if (i)
            fputc(',', out);
        json_str(out, v->v[i]);
    }
    fputc(']', out);
}

/* One line of facts.jsonl, and the DER beside it (first time a certificate is seen). */
static void write_facts(const char *out_dir, const char *file, const pki_facts *f,
                        const unsigned char *der, size_t len)
{
    char path[4096];
    FILE *fp;
    struct stat st;

    snprintf(path, sizeof path, "%s/certs/%s.der", out_dir, f->sha256);
    if (stat(path, &st) == 0)
        return;
    unique_certs++;
    fp = fopen(path, "wb");
    if (fp == NULL || fwrite(der, 1, len, fp) != len) {
        fprintf(stderr, "corpus_check: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fclose(fp);
    snprintf(path, sizeof path, "%s/facts.jsonl", out_dir);
    fp = fopen(path, "a");
    if (fp == NULL)
        exit(1);
    fprintf(fp, "{\"file\":");
    json_str(fp, file);
    fprintf(fp, ",\"der\":\"certs/%s.der\",\"version\":%d,\"subject\":", f->sha256, f->version);
    json_str(fp, f->subject);
    fprintf(fp, ",\"issuer\":");
    json_str(fp, f->issuer);
    fprintf(fp, ",\"common_name\":");
    json_str(fp, f->common_name);
    json_strv(fp, "dns", &f->dns_names);
    json_strv(fp, "ip", &f->ip_addresses);
    json_strv(fp, "email", &f->emails);
    json_strv(fp, "uri", &f->uris);
    fprintf(fp, ",\"serial\":\"%s\",\"not_before\":%lld,\"not_after\":%lld", f->serial,
            (long long)f->not_before, (long long)f->not_after);
    fprintf(fp, ",\"key_alg\":\"%s\",\"key_bits\":%d,\"key_curve\":", pki_key_alg_name(f->key_alg),
            f->key_bits);
    json_str(fp, f->key_curve);
    fprintf(fp, ",\"signature_algorithm\":");
    json_str(fp, f->signature_algorithm);
    fprintf(fp, ",\"sha1\":\"%s\",\"sha256\":\"%s\",\"ski\":", f->sha1, f->sha256);
    json_str(fp, f->subject_key_id);
    fprintf(fp, ",\"aki\":");
    json_str(fp, f->authority_key_id);
    fprintf(fp, ",\"has_key_usage\":%s,\"key_usage\":%u", f->has_key_usage ? "true" : "false",
            f->key_usage);
    json_strv(fp, "eku", &f->ext_key_usage);
    /* OpenSSL's long names of the EKU OIDs, as `openssl x509 -text` prints them */
    fprintf(fp, ",\"eku_text\":[");
    for (size_t i = 0; i < f->ext_key_usage.n; i++) {
        ASN1_OBJECT *obj = OBJ_txt2obj(f->ext_key_usage.v[i], 1);
        int nid = obj ? OBJ_obj2nid(obj) : NID_undef;
        if (i)
            fputc(',', fp);
        json_str(fp, nid != NID_undef ? OBJ_nid2ln(nid) : f->ext_key_usage.v[i]);
        ASN1_OBJECT_free(obj);
    }
    fprintf(fp, "],\"has_basic_constraints\":%s,\"is_ca\":%s,\"path_len\":%d",
            f->has_basic_constraints ? "true" : "false", f->is_ca ? "true" : "false", f->path_len);
    json_strv(fp, "ocsp", &f->ocsp_uris);
    json_strv(fp, "ca_issuers", &f->ca_issuer_uris);
    json_strv(fp, "crl", &f->crl_uris);
    fprintf(fp, ",\"self_signed\":%s,\"template_oid\":", f->self_signed ? "true" : "false");
    json_str(fp, f->template_oid);
    fprintf(fp, ",\"template_major\":%d,\"template_name\":", f->template_major);
    json_str(fp, f->template_name);
    fprintf(fp, ",\"bad_extensions\":%u}\n", f->bad_extensions);
    fclose(fp);
}

static void check_cert(const char *out_dir, const char *file, const pki_item *it)
{
    pki_facts *fast = NULL, *slow = NULL;
    clm_err ef = pki_facts_from_der_fast(it->der, it->der_len, &fast);
    char fast_why[CLM_ERROR_MESSAGE_MAX], why[1024];
    clm_err es;

    snprintf(fast_why, sizeof fast_why, "%s", clm_error_message());
    es = pki_facts_from_der_openssl(it->der, it->der_len, &slow);
    compared++;
    if (es != CLM_OK) {
        failed++;
        fprintf(stderr, "FAIL %s: the OpenSSL path rejects it: %s\n", it->where,
                clm_error_message());
    } else if (ef != CLM_OK) {
        fallbacks++;
        passed++;
        fprintf(stderr, "note %s: fast path refused (%s); the OpenSSL path describes it\n",
                it->where, fast_why);
    } else if (!pki_facts_equal(fast, slow, why, sizeof why)) {
        failed++;
        fprintf(stderr, "FAIL %s: the paths differ: %s\n", it->where, why);
    } else {
        fast_ok++;
        passed++;
    }
    if (slow != NULL)
        write_facts(out_dir, file, slow, it->der, it->der_len);
    pki_facts_free(fast);
    pki_facts_free(slow);
}

static void check_line(const char *dir, const char *out_dir, char *line)
{
    char file[1024], password[256], result[32], certs[16], keys[16], path[2048];
    clm_buf data = CLM_BUF_INIT;
    pki_read_result r;
    clm_err want = CLM_ERR_MAX, got;

    if (sscanf(line, "%1023s %255s %31s %15s %15s", file, password, result, certs, keys) != 5) {
        fprintf(stderr, "FAIL manifest line: %s", line);
        failed++;
        return;
    }
    for (size_t i = 0; i < sizeof results / sizeof *results; i++) {
        if (strcmp(result, results[i].name) == 0)
            want = results[i].err;
    }
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (read_file(path, &data) != 0) {
        fprintf(stderr, "FAIL %s: cannot read it\n", file);
        failed++;
        return;
    }
    pki_read_options o = {file, strcmp(password, "-") ? password : NULL, 0, 0, PKI_FORMAT_UNKNOWN};
    clock_t t0 = clock();
    got = pki_read(data.data, data.len, &o, &r);
    bool ok = got == want && (certs[0] == '*' || strtoul(certs, NULL, 10) == r.n_certs) &&
              (keys[0] == '*' || strtoul(keys, NULL, 10) == r.n_keys);
    if (ok)
        passed++;
    else
        failed++;
    fprintf(stderr, "%s %s: %s %s, %zu certificates, %zu keys, %zu failed items (%.3f s)%s%s\n",
            ok ? "ok  " : "FAIL", file, pki_format_name(r.format), clm_strerror(got), r.n_certs,
            r.n_keys, r.n_errors, (double)(clock() - t0) / CLOCKS_PER_SEC,
            got != CLM_OK ? ": " : "", got != CLM_OK ? clm_error_message() : "");
    for (size_t i = 0; i < r.n_items; i++) {
        if (r.items[i].kind == PKI_ITEM_CERT && r.items[i].err == CLM_OK)
            check_cert(out_dir, file, &r.items[i]);
    }
    pki_read_result_free(&r);
    clm_buf_free(&data);
}

int main(int argc, char **argv)
{
    char path[4096], line[2048];
    FILE *manifest;

    if (argc != 3) {
        fprintf(stderr, "usage: corpus_check CORPUS_DIR OUT_DIR\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/certs", argv[2]);
    mkdir(argv[2], 0755);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/manifest.txt", argv[1]);
    manifest = fopen(path, "r");
    if (manifest == NULL) {
        fprintf(stderr, "corpus_check: %s: %s\n", path, strerror(errno));
        return 1;
    }
    while (fgets(line, sizeof line, manifest) != NULL) {
        if (line[0] != '#' && line[0] != '\n')
            check_line(argv[1], argv[2], line);
    }
    fclose(manifest);
    printf("compared the fast and the OpenSSL path on %zu certificates (%zu distinct): %zu "
           "by the fast path, %zu fell back to OpenSSL, %d failures\n",
           compared, unique_certs, fast_ok, fallbacks, failed);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
