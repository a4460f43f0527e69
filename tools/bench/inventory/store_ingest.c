/*
 * tools/bench/inventory/store_ingest.c: inventory ingest without gRPC, and the facts
 * export that the SQLite baseline loads.
 *
 *   store_ingest import CORPUS DIR [--count N] [--batch B] [--threads T]
 *       inventory_import() (appliance/inventory/certs.h) on requests of B DER items
 *       (default 1000), the path clmd's ImportCertificates runs, from T threads (default
 *       2, like clmd's two completion-queue threads): parsing and facts in parallel,
 *       writes serialized by store_update(). An audit entry per request, as clmd.
 *   store_ingest direct CORPUS DIR [--count N] [--batch B] [--indexes LIST]
 *       One thread, the same records by hand: facts (pki_facts_from_der) of a batch, then
 *       one store_update() that looks the fingerprint up and store_put()s each record
 *       (STORE_PUT_APPEND). Times the facts and the store phases apart. --indexes keeps
 *       only the named indexes of tables.h ("sha256,expiry"; "none": the records
 *       alone), to measure what each costs.
 *   --madv-random 1 (import, direct): madvise(MADV_RANDOM) on LMDB's map of DIR/data.mdb,
 *       as MDB_NORDAHEAD would (an experiment; see advise_random()).
 *   store_ingest export CORPUS TSV [--count N]
 *       One line of facts per certificate for sqlite_ingest.py (columns: see below).
 *
 * Every request carries one attribute (cost_centre = CC<batch % 50>), so that the
 * attribute index has entries, as in ./run's API ingest. DIR must not exist or be empty.
 * Prints one "result key=value ..." line; messages go to stderr.
 */
#include "appliance/inventory/certs.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "lib/pki/facts.h"
#include "store/audit.h"
#include "tools/bench/inventory/corpus.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

static const store_table *tables[] = {&inventory_certificates, &inventory_groups};

/* direct --indexes: the certificates table with only some of its indexes */
static store_index chosen[CERT_INDEX_MAX];
static store_table subset;
static const store_table *cert_table = &inventory_certificates;
static const store_index *sha256_index; /* NULL: not indexed (--indexes) */

static void choose_indexes(const char *list)
{
    char names[512];

    snprintf(names, sizeof(names), ",%s,", list);
    subset = inventory_certificates;
    subset.indexes = chosen;
    subset.n_indexes = 0;
    sha256_index = NULL;
    for (size_t i = 0; i < inventory_certificates.n_indexes; i++) {
        char want[80];
        snprintf(want, sizeof(want), ",%s,", inventory_certificates.indexes[i].name);
        if (strstr(names, want) != NULL)
            chosen[subset.n_indexes++] = inventory_certificates.indexes[i];
    }
    for (size_t i = 0; i < subset.n_indexes; i++)
        if (strcmp(chosen[i].name, "sha256") == 0)
            sha256_index = &chosen[i];
    cert_table = &subset;
    tables[0] = &subset;
}

static corpus cp;
static store *st;
static const char *store_dir;
static int madv_random; /* --madv-random: experiment, see advise_random() */

static void advise_random(void);
static size_t batch_size = 1000;

static void fail(const char *what, clm_err err)
{
    fprintf(stderr, "store_ingest: %s: %s: %s\n", what, clm_strerror(err), clm_error_message());
    exit(1);
}

static clm_err ensure_default(store_txn *txn, void *arg)
{
    (void)arg;
    return group_ensure_default(txn, clm_clock_now_ns(clm_clock_system()));
}

static void open_store(const char *dir)
{
    clm_err err = store_open(dir, NULL, tables, 2, &st);

    if (err == CLM_OK)
        err = store_update(st, ensure_default, NULL);
    if (err != CLM_OK)
        fail("opening the store", err);
    advise_random();
}

/*
 * --madv-random: what LMDB's MDB_NORDAHEAD does (madvise(MADV_RANDOM) on its map),
 * applied from outside: find the mappings of DIR/data.mdb in /proc/self/maps and advise
 * them. Called again after every transaction, as a map growth maps the file anew.
 */
static void advise_random(void)
{
    char want[4200], line[4600];
    FILE *fp;

    if (!madv_random || (fp = fopen("/proc/self/maps", "r")) == NULL)
        return;
    snprintf(want, sizeof(want), "%s/data.mdb", store_dir);
    while (fgets(line, sizeof(line), fp) != NULL) {
        unsigned long lo, hi;
        char *path = strchr(line, '/');
        if (path == NULL || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
            continue;
        path[strcspn(path, "\n")] = '\0';
        if (strstr(path, want) != NULL)
            madvise((void *)lo, hi - lo, MADV_RANDOM);
    }
    fclose(fp);
}

/* A number after "field" in a /proc/self file: write_bytes of io (bytes this process
 * caused to be written to storage), RssAnon of status (kB). */
static double proc_value(const char *file, const char *field)
{
    char path[64], line[128];
    size_t len = strlen(field);
    double v = 0;
    FILE *fp;

    snprintf(path, sizeof(path), "/proc/self/%s", file);
    fp = fopen(path, "r");
    while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
        if (strncmp(line, field, len) == 0 && line[len] == ':')
            v = strtod(line + len + 1, NULL);
    if (fp != NULL)
        fclose(fp);
    return v;
}

static double written_bytes(void)
{
    return proc_value("io", "write_bytes");
}

static double dir_mdb_size(const char *dir)
{
    char path[4200];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    return stat(path, &sb) == 0 ? (double)sb.st_size : 0;
}

/* ---- import: inventory_import() from several threads ---- */

static atomic_size_t next_batch;
static atomic_size_t added, merged, errors;

static clm_err audit(store_txn *txn, void *arg)
{
    store_audit_event ev = {"bench", 1, "/clm.v1.Inventory/ImportCertificates", arg, "ok"};

    return store_audit_append(txn, &ev, NULL);
}

static void *import_worker(void *arg)
{
    size_t n_batches = (cp.n + batch_size - 1) / batch_size;
    Clm__V1__ImportItem *items = calloc(batch_size, sizeof(*items));
    Clm__V1__ImportItem **item_ptrs = calloc(batch_size, sizeof(*item_ptrs));

    (void)arg;
    if (items == NULL || item_ptrs == NULL)
        fail("memory", CLM_ERR_NO_MEMORY);
    for (size_t b; (b = atomic_fetch_add(&next_batch, 1)) < n_batches;) {
        Clm__V1__ImportCertificatesRequest req = CLM__V1__IMPORT_CERTIFICATES_REQUEST__INIT;
        Clm__V1__ImportCertificatesResponse resp = CLM__V1__IMPORT_CERTIFICATES_RESPONSE__INIT;
        Clm__V1__Attribute attr = CLM__V1__ATTRIBUTE__INIT, *attrs[1] = {&attr};
        clm_arena arena = CLM_ARENA_INIT;
        char value[16], target[32];
        size_t first = b * batch_size, n = first + batch_size <= cp.n ? batch_size : cp.n - first;
        import_context ctx = {st, NULL, clm_clock_system(), &arena, "bench", audit, target};

        snprintf(value, sizeof(value), "CC%zu", b % 50);
        snprintf(target, sizeof(target), "%zu items", n);
        attr.key = "cost_centre";
        attr.value = value;
        for (size_t i = 0; i < n; i++) {
            clm__v1__import_item__init(&items[i]);
            items[i].data.data = (uint8_t *)cp.certs[first + i].der;
            items[i].data.len = cp.certs[first + i].len;
            item_ptrs[i] = &items[i];
        }
        req.items = item_ptrs;
        req.n_items = n;
        req.attributes = attrs;
        req.n_attributes = 1;
        clm_err err = inventory_import_validate(&req);
        if (err == CLM_OK)
            err = inventory_import(&ctx, &req, &resp);
        if (err != CLM_OK)
            fail("inventory_import", err);
        advise_random();
        atomic_fetch_add(&added, resp.added);
        atomic_fetch_add(&merged, resp.merged);
        atomic_fetch_add(&errors, resp.errors);
        if (resp.errors)
            fprintf(stderr, "store_ingest: batch %zu: %u errors, first: %s\n", b, resp.errors,
                    resp.n_results ? resp.results[0]->error : "?");
        clm_arena_free(&arena);
    }
    free(items);
    free(item_ptrs);
    return NULL;
}

static void run_import(const char *dir, int threads)
{
    pthread_t tids[16];
    double t0;

    open_store(dir);
    t0 = bench_now();
    for (int i = 0; i < threads; i++)
        pthread_create(&tids[i], NULL, import_worker, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    double secs = bench_now() - t0;
    store_close(st);
    printf("result mode=import certs=%zu added=%zu merged=%zu errors=%zu seconds=%.3f "
           "rate=%.0f threads=%d batch=%zu db_bytes=%.0f written_bytes=%.0f madv_random=%d\n",
           cp.n, (size_t)added, (size_t)merged, (size_t)errors, secs, (double)cp.n / secs,
           threads, batch_size, dir_mdb_size(dir), written_bytes(), madv_random);
}

/* ---- direct: facts, then store_put in one transaction per batch ---- */

/* The record inventory_import() builds for a new certificate (certs.c add_new). */
static void fill(clm_arena *a, const pki_facts *f, const corpus_cert *c, int64_t now,
                 Clm__Store__V1__Attribute **attrs, Clm__Store__V1__CertificateRecord *r)
{
    Clm__Store__V1__CertificateSource *src = clm_arena_alloc(a, sizeof(*src));

    clm__store__v1__certificate_record__init(r);
    r->der.data = (uint8_t *)c->der;
    r->der.len = c->len;
    inventory_fill_facts(a, f, r);
    r->status = CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_MONITORED;
    r->group_id = INVENTORY_DEFAULT_GROUP_ID;
    clm__store__v1__certificate_source__init(src);
    src->kind = "imported";
    src->by = "bench";
    src->first_seen = src->last_seen = now;
    r->sources = clm_arena_alloc(a, sizeof(*r->sources));
    r->sources[0] = src;
    r->n_sources = 1;
    r->attributes = attrs;
    r->n_attributes = 1;
    r->created_at = r->updated_at = now;
}

typedef struct direct_batch {
    Clm__Store__V1__CertificateRecord *records;
    size_t n;
} direct_batch;

static clm_err direct_txn(store_txn *txn, void *arg)
{
    direct_batch *b = arg;
    uint64_t first;
    clm_err err = store_seq_next(txn, cert_table, b->n, &first);

    for (size_t i = 0; i < b->n && err == CLM_OK; i++) {
        Clm__Store__V1__CertificateRecord *r = &b->records[i];
        unsigned char key[8];
        store_item found;

        if (sha256_index != NULL) {
            err = store_index_get(txn, cert_table, sha256_index, r->sha256.data, r->sha256.len,
                                  &found);
            if (err == CLM_OK)
                return clm_fail(CLM_ERR_ALREADY_EXISTS, "certificate %zu is there already", i);
        }
        r->id = first + i;
        inventory_id_key(r->id, key);
        err = store_put(txn, cert_table, key, 8, &r->base, STORE_PUT_APPEND);
    }
    return err;
}

static void run_direct(const char *dir)
{
    Clm__Store__V1__CertificateRecord *records = calloc(batch_size, sizeof(*records));
    pki_facts **facts = calloc(batch_size, sizeof(*facts));
    double t_facts = 0, t_store = 0, t0 = bench_now();
    clm_arena arena = CLM_ARENA_INIT;

    if (records == NULL || facts == NULL)
        fail("memory", CLM_ERR_NO_MEMORY);
    if (cert_table == &inventory_certificates)
        sha256_index = CERT_INDEX(CERT_INDEX_SHA256);
    open_store(dir);
    for (size_t first = 0, b = 0; first < cp.n; first += batch_size, b++) {
        size_t n = first + batch_size <= cp.n ? batch_size : cp.n - first;
        int64_t now = clm_clock_now_ns(clm_clock_system());
        Clm__Store__V1__Attribute attr = CLM__STORE__V1__ATTRIBUTE__INIT, *attrs[1] = {&attr};
        char value[16];
        double t1 = bench_now(), t2;
        clm_err err;

        snprintf(value, sizeof(value), "CC%zu", b % 50);
        attr.key = "cost_centre";
        attr.value = value;
        for (size_t i = 0; i < n; i++) {
            if ((err = pki_facts_from_der(cp.certs[first + i].der, cp.certs[first + i].len,
                                          &facts[i])) != CLM_OK)
                fail("facts", err);
            fill(&arena, facts[i], &cp.certs[first + i], now, attrs, &records[i]);
        }
        t2 = bench_now();
        direct_batch db = {records, n};
        if ((err = store_update(st, direct_txn, &db)) != CLM_OK)
            fail("store_update", err);
        advise_random();
        t_store += bench_now() - t2;
        t_facts += t2 - t1;
        for (size_t i = 0; i < n; i++)
            pki_facts_free(facts[i]);
        clm_arena_reset(&arena);
    }
    double secs = bench_now() - t0;
    store_stats stats;
    store_stats_get(st, &stats);
    store_close(st);
    printf("result mode=direct certs=%zu seconds=%.3f rate=%.0f facts_seconds=%.3f "
           "facts_rate=%.0f store_seconds=%.3f store_rate=%.0f batch=%zu db_bytes=%.0f "
           "map_grows=%" PRIu64 " indexes=%zu written_bytes=%.0f rss_anon_kb=%.0f madv_random=%d\n",
           cp.n, secs, (double)cp.n / secs, t_facts, (double)cp.n / t_facts, t_store,
           (double)cp.n / t_store, batch_size, dir_mdb_size(dir), stats.grow_count,
           cert_table->n_indexes, written_bytes(), proc_value("status", "RssAnon"), madv_random);
    clm_arena_free(&arena);
    free(records);
    free(facts);
}

/* ---- export: facts as TSV for sqlite_ingest.py ---- */

static void put_field(FILE *fp, const char *s)
{
    for (; s && *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, fp);
    fputc('\t', fp);
}

static void put_list(FILE *fp, const pki_strv *v)
{
    for (size_t i = 0; i < v->n; i++) {
        if (i)
            fputc(',', fp);
        for (const char *s = v->v[i]; *s; s++)
            fputc(*s == '\t' || *s == '\n' || *s == ',' ? ' ' : *s, fp);
    }
    fputc('\t', fp);
}

/*
 * Columns: sha256 sha1 not_before not_after issuer_hash serial subject issuer
 * common_name cn_lower dns_names ip_addresses name_keys key_type key_bits key_curve
 * signature_algorithm ski aki key_usage ext_key_usage ocsp ca_issuers crl template
 * is_ca self_signed version path_len. Hex in lower case; lists comma-separated;
 * name_keys are the names index keys (tables.h: CN and DNS SANs, labels reversed),
 * de-duplicated; issuer_hash is SHA-256 of the issuer string, as in issuer_serial.
 */
static void run_export(const char *path)
{
    FILE *fp = fopen(path, "w");
    static char keys[64][STORE_KEY_MAX + 1];
    double t0 = bench_now();

    if (fp == NULL) {
        perror(path);
        exit(1);
    }
    for (size_t i = 0; i < cp.n; i++) {
        pki_facts *f;
        unsigned char h[32];
        char hex[65], lower[STORE_KEY_MAX + 1];
        size_t n_keys = 0, j;
        clm_err err = pki_facts_from_der(cp.certs[i].der, cp.certs[i].len, &f);

        if (err != CLM_OK)
            fail("facts", err);
        EVP_Digest(f->issuer, strlen(f->issuer), h, NULL, EVP_sha256(), NULL);
        for (j = 0; j < 32; j++)
            snprintf(hex + 2 * j, 3, "%02x", h[j]);
        for (j = 0; f->common_name && f->common_name[j] && j < STORE_KEY_MAX; j++)
            lower[j] = (char)(f->common_name[j] >= 'A' && f->common_name[j] <= 'Z'
                                  ? f->common_name[j] + 32 : f->common_name[j]);
        lower[j] = '\0';
        for (size_t k = 0; k <= f->dns_names.n && n_keys < 64; k++) {
            const char *name = k == 0 ? f->common_name : f->dns_names.v[k - 1];
            size_t m;
            if (name == NULL || name[0] == '\0' ||
                inventory_name_key(name, keys[n_keys], sizeof(keys[0])) == 0)
                continue;
            for (m = 0; m < n_keys && strcmp(keys[m], keys[n_keys]) != 0; m++)
                ;
            if (m == n_keys)
                n_keys++;
        }
        fprintf(fp, "%s\t%s\t%" PRId64 "\t%" PRId64 "\t%s\t", f->sha256, f->sha1, f->not_before,
                f->not_after, hex);
        put_field(fp, f->serial);
        put_field(fp, f->subject);
        put_field(fp, f->issuer);
        put_field(fp, f->common_name);
        put_field(fp, lower);
        put_list(fp, &f->dns_names);
        put_list(fp, &f->ip_addresses);
        for (j = 0; j < n_keys; j++)
            fprintf(fp, "%s%s", j ? "," : "", keys[j]);
        fputc('\t', fp);
        fprintf(fp, "%s\t%d\t", pki_key_alg_name(f->key_alg), f->key_bits);
        put_field(fp, f->key_curve);
        put_field(fp, f->signature_algorithm);
        put_field(fp, f->subject_key_id);
        put_field(fp, f->authority_key_id);
        for (unsigned bit = 0, first = 1; f->has_key_usage && bit < 9; bit++)
            if (f->key_usage & (1u << bit)) {
                fprintf(fp, "%s%s", first ? "" : ",", pki_key_usage_name(bit));
                first = 0;
            }
        fputc('\t', fp);
        for (j = 0; j < f->ext_key_usage.n; j++)
            fprintf(fp, "%s%s", j ? "," : "",
                    f->ext_key_usage_names && f->ext_key_usage_names[j] ? f->ext_key_usage_names[j]
                                                                        : f->ext_key_usage.v[j]);
        fputc('\t', fp);
        put_list(fp, &f->ocsp_uris);
        put_list(fp, &f->ca_issuer_uris);
        put_list(fp, &f->crl_uris);
        put_field(fp, f->template_name ? f->template_name : f->template_oid);
        fprintf(fp, "%d\t%d\t%d\t%d\n", f->is_ca, f->self_signed, f->version, f->path_len);
        pki_facts_free(f);
    }
    if (fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
    printf("result mode=export certs=%zu seconds=%.3f\n", cp.n, bench_now() - t0);
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int threads = 2;

    if (argc < 4) {
        fprintf(stderr, "usage: store_ingest import|direct CORPUS DIR [--count N] [--batch B] "
                        "[--threads T] [--indexes LIST] [--madv-random 1]\n       store_ingest export CORPUS TSV [--count N]\n");
        return 2;
    }
    for (int i = 4; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--count") == 0)
            count = (size_t)bench_parse_number(argv[i], argv[i + 1]);
        else if (strcmp(argv[i], "--batch") == 0)
            batch_size = (size_t)bench_parse_number(argv[i], argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = (int)bench_parse_number(argv[i], argv[i + 1]);
        else if (strcmp(argv[i], "--indexes") == 0 && strcmp(argv[1], "direct") == 0)
            choose_indexes(argv[i + 1]);
        else if (strcmp(argv[i], "--madv-random") == 0)
            madv_random = (int)bench_parse_number(argv[i], argv[i + 1]);
        else {
            fprintf(stderr, "store_ingest: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (batch_size < 1 || batch_size > 100000 || threads < 1 || threads > 16) {
        fprintf(stderr, "store_ingest: --batch 1..100000, --threads 1..16\n");
        return 2;
    }
    clm_log_set_level(CLM_LOG_WARN);
    store_dir = argv[3];
    if (corpus_open(argv[2], count, &cp) != 0)
        return 1;
    if (strcmp(argv[1], "import") == 0) {
        if (batch_size > IMPORT_MAX_ITEMS)
            batch_size = IMPORT_MAX_ITEMS;
        run_import(argv[3], threads);
    } else if (strcmp(argv[1], "direct") == 0) {
        run_direct(argv[3]);
    } else if (strcmp(argv[1], "export") == 0) {
        run_export(argv[3]);
    } else {
        fprintf(stderr, "store_ingest: unknown mode %s\n", argv[1]);
        return 2;
    }
    corpus_close(&cp);
    return 0;
}
