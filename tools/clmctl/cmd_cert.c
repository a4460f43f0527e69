/*
 * tools/clmctl/cmd_cert.c: cert import|ls|show|export|set|rm and report expiry
 * (clm.v1.Inventory).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "clm/v1/inventory.pb-c.h"
#include "lib/base/buf.h"
#include "tools/clmctl/clmctl.h"

#define MAX_ATTRIBUTES 64

/* Read a whole file (bounded). @return 0 after printing why on failure. */
static int read_file(const char *path, clm_buf *out, size_t max)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (f == NULL) {
        fprintf(stderr, "clmctl: %s: %s\n", path, strerror(errno));
        return 0;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (out->len + n > max) {
            fprintf(stderr, "clmctl: %s: larger than %zu bytes\n", path, max);
            fclose(f);
            return 0;
        }
        clm_buf_append(out, chunk, n);
    }
    fclose(f);
    return 1;
}

/* --password-file FILE: the first line, without its newline. */
static char *password_from_file(const char *path)
{
    clm_buf buf = CLM_BUF_INIT;

    if (!read_file(path, &buf, 4096))
        return NULL;
    clm_buf_append_str(&buf, "");
    buf.data[strcspn((char *)buf.data, "\r\n")] = '\0';
    return (char *)clm_buf_detach(&buf, NULL);
}

static int parse_status(const char *text, Clm__V1__CertificateStatus *status)
{
    if (strcasecmp(text, "managed") == 0)
        *status = CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_MANAGED;
    else if (strcasecmp(text, "monitored") == 0)
        *status = CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_MONITORED;
    else if (strcasecmp(text, "ignored") == 0)
        *status = CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_IGNORED;
    else {
        fprintf(stderr, "clmctl: status '%s' is not managed, monitored or ignored\n", text);
        return 0;
    }
    return 1;
}

static const char *status_name(int status)
{
    static const char *const names[] = {"-", "managed", "monitored", "ignored", "revoked"};

    return status >= 0 && status <= 4 ? names[status] : "?";
}

static int parse_attribute(char *text, Clm__V1__Attribute *a)
{
    char *eq = strchr(text, '=');

    clm__v1__attribute__init(a);
    if (eq == NULL || eq == text) {
        fprintf(stderr, "clmctl: --attr '%s' is not KEY=VALUE\n", text);
        return 0;
    }
    *eq = '\0';
    a->key = text;
    a->value = eq + 1;
    return 1;
}

/* What one import message may carry: under clmd's 4 MiB message limit, at most the
 * 1000 items a request takes. */
#define IMPORT_MESSAGE_ITEMS 1000
#define IMPORT_MESSAGE_BYTES (3u << 20)

static int print_import_response(clmctl_globals *g, const Clm__V1__ImportCertificatesResponse *r,
                                 size_t messages)
{
    if (g->output == OUTPUT_JSON) {
        clmctl_print_json(&r->base);
        return r->errors ? 1 : 0;
    }
    static const char *const headers[] = {"ITEM", "OUTCOME", "SHA256", "CN/ERROR"};
    output_table *t = output_table_begin(g->output, headers, 4);
    for (size_t i = 0; i < r->n_results; i++) {
        const Clm__V1__ImportResult *x = r->results[i];
        const char *cells[4] = {x->item, x->outcome, x->sha256,
                                x->error[0] ? x->error : x->common_name};
        output_table_row(t, cells);
    }
    output_table_end(t);
    fprintf(stderr, "%u added, %u merged, %u errors", r->added, r->merged, r->errors);
    if (messages > 0)
        fprintf(stderr, " (streamed in %zu messages; failed items listed%s)", messages,
                r->errors > r->n_results ? ", the first 1000" : "");
    fputc('\n', stderr);
    return r->errors ? 1 : 0;
}

/* Read files[first..] into items until a message is full; returns how many it took
 * (0 after an error, reported). */
static size_t read_message(char **files, size_t nfiles, size_t first, const char *password,
                           Clm__V1__ImportItem *items, Clm__V1__ImportItem **ptrs, clm_buf *data)
{
    size_t n = 0, bytes = 0;

    while (first + n < nfiles && n < IMPORT_MESSAGE_ITEMS) {
        clm_buf *b = &data[n];
        b->len = 0;
        if (!read_file(files[first + n], b, 64u << 20))
            return 0;
        if (n > 0 && bytes + b->len > IMPORT_MESSAGE_BYTES)
            break; /* this file starts the next message */
        clm__v1__import_item__init(&items[n]);
        items[n].name = files[first + n];
        items[n].data.data = b->data;
        items[n].data.len = b->len;
        items[n].password = (char *)password;
        ptrs[n] = &items[n];
        bytes += b->len;
        n++;
    }
    return n;
}

/*
 * One ImportCertificates when everything fits one request (every item's result shown);
 * else ImportCertificatesStream, reading the files one message at a time (clmd answers
 * once with the totals and the failed items).
 */
static int import_files(clmctl_globals *g, Clm__V1__ImportCertificatesRequest *req, char **files,
                        size_t nfiles, const char *password)
{
    size_t total = 0, messages = 0, done = 0;
    Clm__V1__ImportItem *items = calloc(IMPORT_MESSAGE_ITEMS, sizeof(*items));
    Clm__V1__ImportItem **ptrs = calloc(IMPORT_MESSAGE_ITEMS, sizeof(*ptrs));
    clm_buf *data = calloc(IMPORT_MESSAGE_ITEMS, sizeof(*data));
    Clm__V1__ImportCertificatesResponse *r = NULL;
    client_stream *st = NULL;
    clm_client *client;
    int rc = 1, stream;

    for (size_t i = 0; i < nfiles; i++) {
        struct stat sb;
        total += stat(files[i], &sb) == 0 ? (size_t)sb.st_size : 0;
    }
    stream = nfiles > IMPORT_MESSAGE_ITEMS || total > IMPORT_MESSAGE_BYTES;
    if (items == NULL || ptrs == NULL || data == NULL) {
        fprintf(stderr, "clmctl: out of memory\n");
        goto out;
    }
    if (!stream) {
        if ((req->n_items = read_message(files, nfiles, 0, password, items, ptrs, data)) == 0)
            goto out;
        if (req->n_items != nfiles) { /* a file grew since stat() */
            fprintf(stderr, "clmctl: the files changed while being read; try again\n");
            goto out;
        }
        req->items = ptrs;
        r = (void *)clmctl_call(g, "/clm.v1.Inventory/ImportCertificates", &req->base,
                                &clm__v1__import_certificates_response__descriptor);
        rc = r == NULL ? 1 : print_import_response(g, r, 0);
        goto out;
    }
    if ((client = clmctl_client(g)) == NULL ||
        client_stream_open(client, "/clm.v1.Inventory/ImportCertificatesStream", &st) != CLM_OK)
        goto out;
    while (done < nfiles) {
        size_t n = read_message(files, nfiles, done, password, items, ptrs, data);
        if (n == 0)
            break; /* the status below reports what clmd did with the messages sent */
        req->items = ptrs;
        req->n_items = n;
        if (client_stream_send(st, &req->base) != CLM_OK)
            break; /* clmd ended the stream: its status says why */
        done += n;
        messages++;
    }
    client_stream_close_send(st);
    if (client_stream_recv(st, &clm__v1__import_certificates_response__descriptor,
                           (ProtobufCMessage **)&r) != CLM_OK)
        r = NULL;
    if (client_stream_finish(st) != CLM_OK || r == NULL) {
        clmctl_fail("clm.v1.Inventory/ImportCertificatesStream");
        fprintf(stderr, "clmctl: %zu of %zu files were sent; messages before the failed one "
                        "are stored\n", done, nfiles);
    } else {
        rc = print_import_response(g, r, messages);
        if (done < nfiles)
            rc = 1;
    }
out:
    if (r != NULL)
        protobuf_c_message_free_unpacked(&r->base, NULL);
    for (size_t i = 0; data != NULL && i < IMPORT_MESSAGE_ITEMS; i++)
        clm_buf_free(&data[i]);
    free(data);
    free(items);
    free(ptrs);
    return rc;
}

static int cmd_cert_import(clmctl_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"password-file", required_argument, NULL, 'p'}, {"password", required_argument, NULL, 'P'},
        {"group", required_argument, NULL, 'g'},         {"status", required_argument, NULL, 's'},
        {"attr", required_argument, NULL, 'a'},          {"keys", no_argument, NULL, 'k'},
        {NULL, 0, NULL, 0}};
    Clm__V1__ImportCertificatesRequest req = CLM__V1__IMPORT_CERTIFICATES_REQUEST__INIT;
    Clm__V1__Attribute attrs[MAX_ATTRIBUTES], *attr_ptrs[MAX_ATTRIBUTES];
    char *password = NULL;
    int c, rc = 0;

    optind = 0;
    while ((c = getopt_long(argc + 1, argv - 1, "", options, NULL)) != -1) {
        switch (c) {
        case 'p': free(password); password = password_from_file(optarg); if (!password) return 1; break;
        case 'P': free(password); password = strdup(optarg); break;
        case 'g': req.group = optarg; break;
        case 's': if (!parse_status(optarg, &req.status)) return 2; break;
        case 'a':
            if (req.n_attributes == MAX_ATTRIBUTES || !parse_attribute(optarg, &attrs[req.n_attributes]))
                return 2;
            attr_ptrs[req.n_attributes] = &attrs[req.n_attributes];
            req.n_attributes++;
            break;
        case 'k': req.import_private_keys = 1; break;
        default:
            fprintf(stderr, "usage: clmctl cert import [--password-file F] [--group G] [--status S]\n"
                            "  [--attr KEY=VALUE]... [--keys] FILE...\n");
            return 2;
        }
    }
    size_t nfiles = (size_t)(argc + 1 - optind);
    if (nfiles == 0) {
        fprintf(stderr, "usage: clmctl cert import [OPTIONS] FILE...\n");
        return 2;
    }
    req.attributes = attr_ptrs;
    rc = import_files(g, &req, argv + optind - 1, nfiles, password ? password : "");
    if (password) {
        clm_memwipe(password, strlen(password));
        free(password);
    }
    return rc;
}

static void format_date(const Google__Protobuf__Timestamp *t, char *out, size_t size)
{
    time_t s = t ? (time_t)t->seconds : 0;
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(out, size, "%Y-%m-%d", &tm);
}

typedef struct cert_rows {
    output_table *table; /* NULL: JSON */
    unsigned long limit, shown;
} cert_rows;

static int cert_page(const ProtobufCMessage *reply, void *arg)
{
    const Clm__V1__ListCertificatesResponse *r = (const void *)reply;
    cert_rows *rows = arg;

    for (size_t i = 0; i < r->n_certificates; i++) {
        const Clm__V1__Certificate *x = r->certificates[i];
        char date[16], days[24];
        if (rows->limit && rows->shown == rows->limit)
            return 1;
        rows->shown++;
        if (rows->table == NULL) {
            clmctl_print_json(&x->base);
            continue;
        }
        format_date(x->not_after, date, sizeof(date));
        snprintf(days, sizeof(days), "%" PRId64, x->days_to_expiry);
        const char *cells[7] = {x->sha256, x->common_name, date, days, status_name(x->status),
                                x->group, x->issuer};
        output_table_row(rows->table, cells);
    }
    return rows->limit && rows->shown >= rows->limit;
}

static int cmd_cert_ls(clmctl_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"expiring", required_argument, NULL, 'e'}, {"expired", no_argument, NULL, 'x'},
        {"name", required_argument, NULL, 'n'},     {"domain", required_argument, NULL, 'd'},
        {"issuer", required_argument, NULL, 'i'},   {"group", required_argument, NULL, 'g'},
        {"status", required_argument, NULL, 's'},   {"key-type", required_argument, NULL, 'k'},
        {"key-bits", required_argument, NULL, 'b'}, {"device", required_argument, NULL, 'D'},
        {"attr", required_argument, NULL, 'a'},     {"by-name", no_argument, NULL, 'N'},
        {"limit", required_argument, NULL, 'l'},    {NULL, 0, NULL, 0}};
    static const char *const headers[] = {"SHA256", "COMMON NAME", "EXPIRES", "DAYS",
                                          "STATUS", "GROUP", "ISSUER"};
    Clm__V1__ListCertificatesRequest req = CLM__V1__LIST_CERTIFICATES_REQUEST__INIT;
    Clm__V1__Attribute attr;
    unsigned long limit = 0;
    cert_rows rows = {NULL, 0, 0};
    int c;

    optind = 0;
    while ((c = getopt_long(argc + 1, argv - 1, "", options, NULL)) != -1) {
        switch (c) {
        case 'e': req.expiring_within_days = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'x': req.expired = 1; break;
        case 'n': req.name_contains = optarg; break;
        case 'd': req.domain = optarg; break;
        case 'i': req.issuer_contains = optarg; break;
        case 'g': req.group = optarg; break;
        case 's': if (!parse_status(optarg, &req.status)) return 2; break;
        case 'k': req.key_type = optarg; break;
        case 'b': req.key_bits = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'D': req.source_device = optarg; break;
        case 'a': if (!parse_attribute(optarg, &attr)) return 2; req.attribute = &attr; break;
        case 'N': req.order_by = CLM__V1__CERTIFICATE_ORDER__CERTIFICATE_ORDER_NAME; break;
        case 'l': limit = strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: clmctl cert ls [--expiring DAYS] [--expired] [--name TEXT]\n"
                            "  [--domain D] [--issuer TEXT] [--group G] [--status S] [--key-type T]\n"
                            "  [--key-bits N] [--device NAME] [--attr K[=V]] [--by-name] [--limit N]\n");
            return 2;
        }
    }
    if (g->output != OUTPUT_JSON) { /* a table shows the summary: the lighter view */
        rows.table = output_table_begin(g->output, headers, 7);
        req.view = CLM__V1__CERTIFICATE_VIEW__CERTIFICATE_VIEW_BASIC;
    }
    req.page_size = 500;
    rows.limit = limit;
    int rc = clmctl_for_each_page(g, "/clm.v1.Inventory/ListCertificates", &req.base,
                                  &clm__v1__list_certificates_response__descriptor, cert_page,
                                  &rows);
    output_table_end(rows.table);
    return rc;
}

static int cmd_cert_show(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__GetCertificateRequest req = CLM__V1__GET_CERTIFICATE_REQUEST__INIT;
    ProtobufCMessage *r;

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl cert show SHA256|SHA1\n");
        return 2;
    }
    req.id = argv[0];
    r = clmctl_call(g, "/clm.v1.Inventory/GetCertificate", &req.base,
                    &clm__v1__certificate__descriptor);
    if (r == NULL)
        return 1;
    clmctl_print_json(r);
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

static int cmd_cert_export(clmctl_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"format", required_argument, NULL, 'f'}, {"chain", no_argument, NULL, 'c'},
        {"key", no_argument, NULL, 'k'},          {"password-file", required_argument, NULL, 'p'},
        {"aes", no_argument, NULL, 'a'},          {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0}};
    Clm__V1__ExportCertificateRequest req = CLM__V1__EXPORT_CERTIFICATE_REQUEST__INIT;
    Clm__V1__ExportCertificateResponse *r;
    const char *out = NULL;
    char *password = NULL;
    int c, fd, rc = 0;

    optind = 0;
    while ((c = getopt_long(argc + 1, argv - 1, "", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcasecmp(optarg, "pem") == 0) req.format = CLM__V1__EXPORT_FORMAT__EXPORT_FORMAT_PEM;
            else if (strcasecmp(optarg, "der") == 0) req.format = CLM__V1__EXPORT_FORMAT__EXPORT_FORMAT_DER;
            else if (strcasecmp(optarg, "p7b") == 0) req.format = CLM__V1__EXPORT_FORMAT__EXPORT_FORMAT_P7B;
            else if (strcasecmp(optarg, "pfx") == 0) req.format = CLM__V1__EXPORT_FORMAT__EXPORT_FORMAT_PFX;
            else { fprintf(stderr, "clmctl: --format: pem, der, p7b or pfx\n"); return 2; }
            break;
        case 'c': req.include_chain = 1; break;
        case 'k': req.include_private_key = 1; break;
        case 'p': password = password_from_file(optarg); if (!password) return 1; break;
        case 'a': req.pfx_cipher = CLM__V1__PFX_CIPHER__PFX_CIPHER_AES256; break;
        case 'o': out = optarg; break;
        default:
            fprintf(stderr, "usage: clmctl cert export [--format pem|der|p7b|pfx] [--chain] [--key\n"
                            "  --password-file F] [--aes] --out FILE ID\n");
            return 2;
        }
    }
    if (optind != argc || out == NULL) {
        fprintf(stderr, "usage: clmctl cert export [OPTIONS] --out FILE ID\n");
        free(password);
        return 2;
    }
    req.id = argv[argc - 1];
    req.password = password ? password : "";
    r = (void *)clmctl_call(g, "/clm.v1.Inventory/ExportCertificate", &req.base,
                            &clm__v1__export_certificate_response__descriptor);
    if (password) {
        clm_memwipe(password, strlen(password));
        free(password);
    }
    if (r == NULL)
        return 1;
    fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, r->data.data, r->data.len) != (ssize_t)r->data.len) {
        fprintf(stderr, "clmctl: %s: %s\n", out, strerror(errno));
        rc = 1;
    } else {
        printf("wrote %s (%zu bytes)\n", out, r->data.len);
    }
    if (fd >= 0)
        close(fd);
    clm_memwipe(r->data.data, r->data.len);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
}

/* "DAYS" (1-120) enables with that lead; "off" disables. */
static int parse_setting(const char *text, const char *flag, Clm__V1__RenewalSetting *out)
{
    char *end;
    long days;

    clm__v1__renewal_setting__init(out);
    if (strcmp(text, "off") == 0)
        return 1;
    errno = 0;
    days = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || days < 1 || days > 120) {
        fprintf(stderr, "clmctl: --%s: '%s' is not DAYS (1-120) or off\n", flag, text);
        return 0;
    }
    out->enabled = 1;
    out->days_before_expiry = (uint32_t)days;
    return 1;
}

static int cmd_cert_set(clmctl_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"status", required_argument, NULL, 's'},         {"group", required_argument, NULL, 'g'},
        {"attr", required_argument, NULL, 'a'},           {"device-name", required_argument, NULL, 'd'},
        {"application-ip", required_argument, NULL, 'i'}, {"tracking-id", required_argument, NULL, 't'},
        {"renewal-of", required_argument, NULL, 'r'},     {"auto-renew", required_argument, NULL, 'R'},
        {"auto-regenerate", required_argument, NULL, 'G'}, {"re-enroll", required_argument, NULL, 'E'},
        {"connector", required_argument, NULL, 'c'},      {NULL, 0, NULL, 0}};
    Clm__V1__RenewalSetting renew, regenerate, reenroll;
    Clm__V1__UpdateCertificateRequest req = CLM__V1__UPDATE_CERTIFICATE_REQUEST__INIT;
    Clm__V1__Attribute attrs[MAX_ATTRIBUTES], *attr_ptrs[MAX_ATTRIBUTES];
    char *mask[11];
    ProtobufCMessage *r;
    int c, have_attrs = 0;

    optind = 0;
    while ((c = getopt_long(argc + 1, argv - 1, "", options, NULL)) != -1) {
        switch (c) {
        case 's': if (!parse_status(optarg, &req.status)) return 2; mask[req.n_update_mask++] = "status"; break;
        case 'g': req.group = optarg; mask[req.n_update_mask++] = "group"; break;
        case 'a':
            if (req.n_attributes == MAX_ATTRIBUTES || !parse_attribute(optarg, &attrs[req.n_attributes]))
                return 2;
            attr_ptrs[req.n_attributes] = &attrs[req.n_attributes];
            req.n_attributes++;
            if (!have_attrs++)
                mask[req.n_update_mask++] = "attributes";
            break;
        case 'd': req.device_name = optarg; mask[req.n_update_mask++] = "device_name"; break;
        case 'i': req.application_ip = optarg; mask[req.n_update_mask++] = "application_ip"; break;
        case 't': req.tracking_id = optarg; mask[req.n_update_mask++] = "tracking_id"; break;
        case 'r': req.renewal_of = optarg; mask[req.n_update_mask++] = "renewal_of"; break;
        case 'R':
            if (!parse_setting(optarg, "auto-renew", &renew)) return 2;
            req.auto_renew = &renew; mask[req.n_update_mask++] = "auto_renew"; break;
        case 'G':
            if (!parse_setting(optarg, "auto-regenerate", &regenerate)) return 2;
            req.auto_regenerate = &regenerate; mask[req.n_update_mask++] = "auto_regenerate"; break;
        case 'E':
            if (!parse_setting(optarg, "re-enroll", &reenroll)) return 2;
            req.re_enroll = &reenroll; mask[req.n_update_mask++] = "re_enroll"; break;
        case 'c': req.connector = optarg; mask[req.n_update_mask++] = "connector"; break;
        default:
            fprintf(stderr, "usage: clmctl cert set [--status S] [--group G] [--attr K=V]...\n"
                            "  [--device-name N] [--application-ip IP] [--tracking-id T]\n"
                            "  [--renewal-of PREDECESSOR-ID] [--auto-renew DAYS|off]\n"
                            "  [--auto-regenerate DAYS|off] [--re-enroll DAYS|off]\n"
                            "  [--connector NAME] ID\n");
            return 2;
        }
        if (req.n_update_mask == 11)
            break;
    }
    if (optind != argc) {
        fprintf(stderr, "usage: clmctl cert set [OPTIONS] ID\n");
        return 2;
    }
    req.id = argv[argc - 1];
    req.attributes = attr_ptrs;
    req.update_mask = mask;
    r = clmctl_call(g, "/clm.v1.Inventory/UpdateCertificate", &req.base,
                    &clm__v1__certificate__descriptor);
    if (r == NULL)
        return 1;
    clmctl_print_json(r);
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

static void print_time(const char *label, const Google__Protobuf__Timestamp *t)
{
    char text[32];
    time_t tt;
    struct tm tm;

    if (t == NULL)
        return;
    tt = (time_t)t->seconds;
    if (gmtime_r(&tt, &tm) == NULL || strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(text, sizeof(text), "%" PRId64, t->seconds);
    printf("%-15s %s\n", label, text);
}

/* `clmctl cert why ID`: Inventory.ExplainRenewal, as lines for people (--json: as is). */
static int cmd_cert_why(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__GetCertificateRequest req = CLM__V1__GET_CERTIFICATE_REQUEST__INIT;
    Clm__V1__RenewalExplanation *e;
    int json = 0;

    if (argc == 2 && strcmp(argv[0], "--json") == 0) {
        json = 1;
        argv++;
        argc--;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: clmctl cert why [--json] SHA256|SHA1\n");
        return 2;
    }
    req.id = argv[0];
    e = (void *)clmctl_call(g, "/clm.v1.Inventory/ExplainRenewal", &req.base,
                            &clm__v1__renewal_explanation__descriptor);
    if (e == NULL)
        return 1;
    if (json) {
        clmctl_print_json(&e->base);
    } else {
        printf("%-15s %s\n", "certificate", e->sha256);
        printf("%-15s %s\n", "settings", e->why);
        printf("%-15s %s (group %s, override %s), connector %s\n", "from", e->source,
               e->group[0] ? e->group : "-", e->group_override ? "on" : "off",
               e->connector[0] ? e->connector : "-");
        print_time("window opens", e->window_opens);
        print_time("due at", e->due_at);
        printf("%-15s %s%s\n", "state", e->state, e->rate_limited ? " (rate limited)" : "");
        printf("%-15s %s\n", "next action", e->next_action);
        print_time("next attempt", e->next_attempt);
        if (e->last_failure[0])
            printf("%-15s %s (%u consecutive)\n", "last failure", e->last_failure, e->failures);
        if (e->work_order[0])
            printf("%-15s %s (%s)\n", "work order", e->work_order, e->work_order_state);
        if (e->child_sha256[0])
            printf("%-15s %s\n", "renewed into", e->child_sha256);
        if (e->push[0])
            printf("%-15s %s\n", "push", e->push);
    }
    protobuf_c_message_free_unpacked(&e->base, NULL);
    return 0;
}

static int cmd_cert_rm(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__DeleteCertificateRequest req = CLM__V1__DELETE_CERTIFICATE_REQUEST__INIT;
    ProtobufCMessage *r;

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl cert rm ID\n");
        return 2;
    }
    req.id = argv[0];
    r = clmctl_call(g, "/clm.v1.Inventory/DeleteCertificate", &req.base,
                    &clm__v1__delete_certificate_response__descriptor);
    if (r == NULL)
        return 1;
    printf("deleted %s\n", argv[0]);
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

static int cmd_report_expiry(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__ExpiryHistogramRequest req = CLM__V1__EXPIRY_HISTOGRAM_REQUEST__INIT;
    Clm__V1__ExpiryHistogramResponse *r;
    uint64_t max = 1;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--weekly") == 0)
            req.bucket = CLM__V1__HISTOGRAM_BUCKET__HISTOGRAM_BUCKET_WEEK;
        else if (strcmp(argv[i], "--months") == 0 && i + 1 < argc)
            req.months = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
            req.group = argv[++i];
        else {
            fprintf(stderr, "usage: clmctl report expiry [--months N] [--weekly] [--group G]\n");
            return 2;
        }
    }
    r = (void *)clmctl_call(g, "/clm.v1.Inventory/ExpiryHistogram", &req.base,
                            &clm__v1__expiry_histogram_response__descriptor);
    if (r == NULL)
        return 1;
    if (g->output == OUTPUT_JSON) {
        clmctl_print_json(&r->base);
    } else {
        for (size_t i = 0; i < r->n_buckets; i++)
            max = r->buckets[i]->count > max ? r->buckets[i]->count : max;
        printf("%-12s %8" PRIu64 "\n", "expired", r->expired);
        for (size_t i = 0; i < r->n_buckets; i++) {
            char date[16];
            int bar = (int)(r->buckets[i]->count * 50 / max);
            format_date(r->buckets[i]->start, date, sizeof(date));
            printf("%-12s %8" PRIu64 " %.*s\n", date, r->buckets[i]->count, bar,
                   "##################################################");
        }
        printf("%-12s %8" PRIu64 "\n", "later", r->later);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return 0;
}

const clmctl_command clmctl_cert_commands[] = {
    {"cert import", "[OPTIONS] FILE...", "PEM, DER, P7B, PFX or JKS files into the inventory",
     cmd_cert_import},
    {"cert ls", "[FILTERS]", "certificates, soonest expiry first", cmd_cert_ls},
    {"cert show", "ID", "one certificate (SHA-256 fingerprint or SHA-1 thumbprint)", cmd_cert_show},
    {"cert export", "[OPTIONS] --out FILE ID", "PEM, DER, P7B or PFX (with key: admin)",
     cmd_cert_export},
    {"cert set", "[OPTIONS] ID", "status, group, attributes, generic fields, renewal settings, connector", cmd_cert_set},
    {"cert why", "[--json] ID", "where a certificate stands in its renewal: settings, window, state, failures, next attempt", cmd_cert_why},
    {"cert rm", "ID", "remove a certificate from the inventory", cmd_cert_rm},
    {"report expiry", "[--months N] [--weekly]", "expiry histogram", cmd_report_expiry},
    {NULL, NULL, NULL, NULL},
};
