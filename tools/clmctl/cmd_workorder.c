/*
 * tools/clmctl/cmd_workorder.c: enroll, and wo ls|show|submit|approve|reject|implement|
 * cancel|watch (clm.v1.WorkOrders). The challenge password is read from a file, never
 * from the command line, where ps would show it. `enroll --from FILE` reads the
 * EnrollmentRequest as proto3 JSON (lib/json pbjson, which is fuzzed).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clm/v1/workorders.pb-c.h"
#include "lib/base/buf.h"
#include "lib/json/pbjson.h"
#include "tools/clmctl/clmctl.h"

#define MAX_ITEMS 64
#define FILE_MAX (512 * 1024)

/* Read a whole file (bounded). @return 0 after printing why. */
static int read_file(const char *path, clm_buf *buf)
{
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t n;

    if (f == NULL) {
        fprintf(stderr, "clmctl: %s: %s\n", path, strerror(errno));
        return 0;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf->len + n > FILE_MAX || clm_buf_append(buf, chunk, n) != CLM_OK) {
            fprintf(stderr, "clmctl: %s: larger than %d bytes\n", path, FILE_MAX);
            fclose(f);
            return 0;
        }
    }
    fclose(f);
    return 1;
}

/* A text file as a string (NUL added; a trailing newline removed when `trim`). */
static char *read_text(const char *path, clm_buf *buf, int trim)
{
    if (!read_file(path, buf) || clm_buf_append_byte(buf, 0) != CLM_OK)
        return NULL;
    while (trim && buf->len > 1 &&
           (buf->data[buf->len - 2] == '\n' || buf->data[buf->len - 2] == '\r'))
        buf->data[--buf->len - 1] = '\0';
    return (char *)buf->data;
}

static char *split_eq(char *text)
{
    char *eq = strchr(text, '=');

    if (eq == NULL || eq == text)
        return NULL;
    *eq = '\0';
    return eq + 1;
}

static int print_reply(ProtobufCMessage *r)
{
    if (r == NULL)
        return 1;
    clmctl_print_json(r);
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

/* ---- enroll ---- */

#define ENROLL_USAGE                                                                        \
    "clmctl enroll --connector C [--group G] [--comment T] [--draft]\n"                     \
    "  (--from REQUEST.json | --csr FILE | --cn CN [--san NAME]... [--org O] [--ou OU]\n"   \
    "   [--locality L] [--state ST] [--country C] [--email E] [--challenge-password-file F]\n" \
    "   [--hash SHA256] [--key-type EC|RSA] [--key-bits N])\n"                              \
    "  [--validity N] [--validity-unit days|months|years] [--field NAME=VALUE]...\n"        \
    "  [--attribute KEY=VALUE]... [--attach FILE]... [--device-name N] [--application-ip IP]\n" \
    "  [--tracking-id ID] [--auto-renew DAYS] [--auto-regenerate DAYS] [--re-enroll DAYS]\n"

typedef struct enroll_parts {
    Clm__V1__CreateWorkOrderRequest req;
    Clm__V1__EnrollmentRequest er;
    Clm__V1__CsrParameters csr;
    char *sans[MAX_ITEMS];
    Clm__V1__Field fields[MAX_ITEMS], *field_ptrs[MAX_ITEMS];
    Clm__V1__Attribute attrs[MAX_ITEMS], *attr_ptrs[MAX_ITEMS];
    Clm__V1__Attachment atts[5], *att_ptrs[5];
    Clm__V1__RenewalSetting renew, regenerate, reenroll; /* the CA Details toggles */
    clm_buf files[5], csr_pem, password, from;
} enroll_parts;

/* --auto-renew DAYS and its siblings: enabled with that lead (the server checks 1-120). */
static Clm__V1__RenewalSetting *renewal_setting(Clm__V1__RenewalSetting *s, const char *days)
{
    clm__v1__renewal_setting__init(s);
    s->enabled = 1;
    s->days_before_expiry = (uint32_t)strtoul(days, NULL, 10);
    return s;
}

static int cmd_enroll(clmctl_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"connector", required_argument, NULL, 'C'}, {"group", required_argument, NULL, 'G'},
        {"comment", required_argument, NULL, 'm'},   {"draft", no_argument, NULL, 'D'},
        {"from", required_argument, NULL, 'F'},      {"csr", required_argument, NULL, 'R'},
        {"cn", required_argument, NULL, 'n'},        {"san", required_argument, NULL, 's'},
        {"org", required_argument, NULL, 'o'},       {"ou", required_argument, NULL, 'u'},
        {"locality", required_argument, NULL, 'l'},  {"state", required_argument, NULL, 't'},
        {"country", required_argument, NULL, 'c'},   {"email", required_argument, NULL, 'e'},
        {"challenge-password-file", required_argument, NULL, 'P'},
        {"hash", required_argument, NULL, 'h'},      {"key-type", required_argument, NULL, 'k'},
        {"key-bits", required_argument, NULL, 'b'},  {"validity", required_argument, NULL, 'v'},
        {"validity-unit", required_argument, NULL, 'V'}, {"field", required_argument, NULL, 'f'},
        {"attribute", required_argument, NULL, 'a'}, {"attach", required_argument, NULL, 'A'},
        {"device-name", required_argument, NULL, 'd'}, {"application-ip", required_argument, NULL, 'i'},
        {"tracking-id", required_argument, NULL, 'T'}, {"auto-renew", required_argument, NULL, 'w'},
        {"auto-regenerate", required_argument, NULL, 'x'}, {"re-enroll", required_argument, NULL, 'y'},
        {NULL, 0, NULL, 0}};
    enroll_parts *p = calloc(1, sizeof(*p));
    ProtobufCMessage *from = NULL;
    int opt, ok = 1, flags = 0, rc;
    const char *from_path = NULL;
    char *v;

    if (p == NULL)
        return 1;
    clm__v1__create_work_order_request__init(&p->req);
    clm__v1__enrollment_request__init(&p->er);
    clm__v1__csr_parameters__init(&p->csr);
    p->req.submit = 1;
    optind = 0;
    while (ok && (opt = getopt_long(argc + 1, argv - 1, "", options, NULL)) != -1) {
        flags += !strchr("CGmDF", opt);
        switch (opt) {
        case 'C': p->req.connector = optarg; break;
        case 'G': p->req.group = optarg; break;
        case 'm': p->req.comment = optarg; break;
        case 'D': p->req.submit = 0; break;
        case 'F': from_path = optarg; break;
        case 'R': ok = read_text(optarg, &p->csr_pem, 0) != NULL;
                  p->er.csr_pem = (char *)p->csr_pem.data; break;
        case 'n': p->csr.common_name = optarg; break;
        case 's': ok = p->csr.n_sans < MAX_ITEMS;
                  if (ok) p->sans[p->csr.n_sans++] = optarg;
                  break;
        case 'o': p->csr.organization = optarg; break;
        case 'u': p->csr.org_unit = optarg; break;
        case 'l': p->csr.locality = optarg; break;
        case 't': p->csr.state = optarg; break;
        case 'c': p->csr.country = optarg; break;
        case 'e': p->csr.email = optarg; break;
        case 'P': ok = (p->csr.challenge_password = read_text(optarg, &p->password, 1)) != NULL;
                  break;
        case 'h': p->csr.hash = optarg; break;
        case 'k': p->csr.key_type = optarg; break;
        case 'b': p->csr.key_bits = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'v': p->er.validity = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'V': p->er.validity_unit = optarg; break;
        case 'f': {
            Clm__V1__Field *f = &p->fields[p->er.n_fields];
            ok = p->er.n_fields < MAX_ITEMS && (v = split_eq(optarg)) != NULL;
            if (ok) {
                clm__v1__field__init(f);
                f->name = optarg;
                f->value = v;
                p->field_ptrs[p->er.n_fields++] = f;
            }
            break;
        }
        case 'a': {
            Clm__V1__Attribute *a = &p->attrs[p->er.n_attributes];
            ok = p->er.n_attributes < MAX_ITEMS && (v = split_eq(optarg)) != NULL;
            if (ok) {
                clm__v1__attribute__init(a);
                a->key = optarg;
                a->value = v;
                p->attr_ptrs[p->er.n_attributes++] = a;
            }
            break;
        }
        case 'A': {
            size_t i = p->er.n_attachments;
            const char *slash = strrchr(optarg, '/');
            ok = i < 5 && read_file(optarg, &p->files[i]);
            if (ok) {
                clm__v1__attachment__init(&p->atts[i]);
                p->atts[i].name = (char *)(slash ? slash + 1 : optarg);
                p->atts[i].data.data = p->files[i].data;
                p->atts[i].data.len = p->files[i].len;
                p->att_ptrs[p->er.n_attachments++] = &p->atts[i];
            }
            break;
        }
        case 'd': p->er.device_name = optarg; break;
        case 'i': p->er.application_ip = optarg; break;
        case 'T': p->er.tracking_id = optarg; break;
        case 'w': p->er.auto_renew = renewal_setting(&p->renew, optarg); break;
        case 'x': p->er.auto_regenerate = renewal_setting(&p->regenerate, optarg); break;
        case 'y': p->er.re_enroll = renewal_setting(&p->reenroll, optarg); break;
        default: ok = 0;
        }
    }
    if (!ok || optind != argc + 1 || (from_path != NULL && flags > 0)) {
        fprintf(stderr, "usage: " ENROLL_USAGE);
        rc = 2;
        goto out;
    }
    if (from_path != NULL) {
        if (!read_file(from_path, &p->from)) {
            rc = 1;
            goto out;
        }
        if (pbjson_decode(&clm__v1__enrollment_request__descriptor, (const char *)p->from.data,
                          p->from.len, &from) != CLM_OK) {
            rc = clmctl_fail(from_path);
            goto out;
        }
        p->req.request = (Clm__V1__EnrollmentRequest *)from;
    } else {
        p->csr.sans = p->sans;
        p->er.fields = p->field_ptrs;
        p->er.attributes = p->attr_ptrs;
        p->er.attachments = p->att_ptrs;
        if (p->er.csr_pem[0] == '\0')
            p->er.csr = &p->csr;
        p->req.request = &p->er;
    }
    rc = print_reply(clmctl_call(g, "/clm.v1.WorkOrders/CreateWorkOrder", &p->req.base,
                                 &clm__v1__work_order__descriptor));
out:
    if (from != NULL)
        protobuf_c_message_free_unpacked(from, NULL);
    for (size_t i = 0; i < 5; i++)
        clm_buf_free(&p->files[i]);
    clm_buf_free(&p->csr_pem);
    clm_buf_wipe(&p->password);
    clm_buf_wipe(&p->from); /* may hold a challenge password */
    free(p);
    return rc;
}

/* ---- wo ls ---- */

static int wo_page(const ProtobufCMessage *reply, void *arg)
{
    const Clm__V1__ListWorkOrdersResponse *r = (const void *)reply;
    output_table *table = arg;

    for (size_t i = 0; i < r->n_work_orders; i++) {
        const Clm__V1__WorkOrder *o = r->work_orders[i];
        char level[16] = "-";
        const char *cn = o->request && o->request->csr ? o->request->csr->common_name
                       : o->request && o->request->csr_info ? o->request->csr_info->common_name
                       : o->target_sha256;
        if (table == NULL) {
            clmctl_print_json(&o->base);
            continue;
        }
        if (strcmp(o->state, "review") == 0)
            snprintf(level, sizeof(level), "%u/%u", o->review_level, o->levels);
        const char *cells[8] = {o->id, o->kind, o->state, level, o->requester, o->group,
                                o->connector, cn};
        output_table_row(table, cells);
    }
    return 0;
}

static int cmd_wo_ls(clmctl_globals *g, int argc, char **argv)
{
    static const char *const headers[] = {"ID",    "KIND",      "STATE",   "LEVEL",
                                          "REQUESTER", "GROUP", "CONNECTOR", "SUBJECT"};
    Clm__V1__ListWorkOrdersRequest req = CLM__V1__LIST_WORK_ORDERS_REQUEST__INIT;
    output_table *table = NULL;
    int rc;

    for (int i = 0; i < argc; i++) {
        char **slot = strcmp(argv[i], "--state") == 0       ? &req.state
                    : strcmp(argv[i], "--kind") == 0        ? &req.kind
                    : strcmp(argv[i], "--requester") == 0   ? &req.requester
                    : strcmp(argv[i], "--group") == 0       ? &req.group
                    : strcmp(argv[i], "--connector") == 0   ? &req.connector
                                                            : NULL;
        if (slot == NULL || i + 1 == argc) {
            fprintf(stderr, "usage: clmctl wo ls [--state S] [--kind K] [--requester R] "
                            "[--group G] [--connector C]\n");
            return 2;
        }
        *slot = argv[++i];
    }
    if (g->output != OUTPUT_JSON)
        table = output_table_begin(g->output, headers, 8);
    rc = clmctl_for_each_page(g, "/clm.v1.WorkOrders/ListWorkOrders", &req.base,
                              &clm__v1__list_work_orders_response__descriptor, wo_page, table);
    output_table_end(table);
    return rc;
}

static int cmd_wo_show(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__GetWorkOrderRequest req = CLM__V1__GET_WORK_ORDER_REQUEST__INIT;

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl wo show ID\n");
        return 2;
    }
    req.id = argv[0];
    return print_reply(clmctl_call(g, "/clm.v1.WorkOrders/GetWorkOrder", &req.base,
                                   &clm__v1__work_order__descriptor));
}

/* ---- actions ---- */

/* "ID [--comment T]" for submit, approve, reject, cancel. */
static int action(clmctl_globals *g, int argc, char **argv, const char *verb, const char *method)
{
    Clm__V1__WorkOrderAction req = CLM__V1__WORK_ORDER_ACTION__INIT;

    if (argc == 3 && strcmp(argv[1], "--comment") == 0)
        req.comment = argv[2];
    else if (argc != 1) {
        fprintf(stderr, "usage: clmctl wo %s ID [--comment TEXT]\n", verb);
        return 2;
    }
    req.id = argv[0];
    return print_reply(clmctl_call(g, method, &req.base, &clm__v1__work_order__descriptor));
}

static int cmd_wo_submit(clmctl_globals *g, int argc, char **argv)
{
    return action(g, argc, argv, "submit", "/clm.v1.WorkOrders/SubmitWorkOrder");
}

static int cmd_wo_approve(clmctl_globals *g, int argc, char **argv)
{
    return action(g, argc, argv, "approve", "/clm.v1.WorkOrders/ApproveWorkOrder");
}

static int cmd_wo_reject(clmctl_globals *g, int argc, char **argv)
{
    return action(g, argc, argv, "reject", "/clm.v1.WorkOrders/RejectWorkOrder");
}

static int cmd_wo_cancel(clmctl_globals *g, int argc, char **argv)
{
    return action(g, argc, argv, "cancel", "/clm.v1.WorkOrders/CancelWorkOrder");
}

/* "+90s", "+10m", "+2h", "+1d", or RFC 3339 UTC "2026-01-02T03:04:05Z". */
static int parse_time(const char *text, int64_t *seconds)
{
    char *end;
    struct tm tm;

    if (text[0] == '+') {
        long long n = strtoll(text + 1, &end, 10);
        long long unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600
                       : *end == 'd' ? 86400 : 0;
        if (end == text + 1 || unit == 0 || end[1] != '\0' || n < 0 || n > 100LL * 365 * 86400)
            return 0;
        *seconds = (int64_t)time(NULL) + n * unit;
        return 1;
    }
    memset(&tm, 0, sizeof(tm));
    end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0')
        return 0;
    *seconds = (int64_t)timegm(&tm);
    return 1;
}

static int cmd_wo_implement(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__ImplementWorkOrderRequest req = CLM__V1__IMPLEMENT_WORK_ORDER_REQUEST__INIT;
    Google__Protobuf__Timestamp at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    int ok = argc >= 1;

    for (int i = 1; ok && i < argc; i++) {
        if (strcmp(argv[i], "--comment") == 0 && i + 1 < argc)
            req.comment = argv[++i];
        else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc &&
                 (ok = parse_time(argv[++i], &at.seconds)))
            req.at = &at;
        else
            ok = 0;
    }
    if (!ok) {
        fprintf(stderr, "usage: clmctl wo implement ID [--at +90s|+10m|2026-01-02T03:04:05Z] "
                        "[--comment TEXT]\n");
        return 2;
    }
    req.id = argv[0];
    return print_reply(clmctl_call(g, "/clm.v1.WorkOrders/ImplementWorkOrder", &req.base,
                                   &clm__v1__work_order__descriptor));
}

/* Follow an order: one line per transition until a final state. */
static int cmd_wo_watch(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__GetWorkOrderRequest req = CLM__V1__GET_WORK_ORDER_REQUEST__INIT;
    clm_client *client;
    client_stream *s;
    char state[32] = "";

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl wo watch ID\n");
        return 2;
    }
    if ((client = clmctl_client(g)) == NULL)
        return 1;
    req.id = argv[0];
    client_stream_open(client, "/clm.v1.WorkOrders/WatchWorkOrder", &s);
    client_stream_send(s, &req.base);
    client_stream_close_send(s);
    for (;;) {
        Clm__V1__WorkOrderEvent *ev;
        if (client_stream_recv(s, &clm__v1__work_order_event__descriptor, (void *)&ev) != CLM_OK ||
            ev == NULL)
            break;
        if (g->output_explicit && g->output == OUTPUT_JSON) {
            clmctl_print_json(&ev->base);
        } else if (ev->transition != NULL) {
            const Clm__V1__Transition *t = ev->transition;
            char level[24] = "";
            if (t->level)
                snprintf(level, sizeof(level), " level %u", t->level);
            printf("%s %s -> %s%s by %s%s%s\n", ev->work_order ? ev->work_order->id : "",
                   t->from[0] ? t->from : "(new)", t->to, level, t->identity,
                   t->comment[0] ? ": " : "", t->comment);
        }
        if (ev->transition != NULL)
            snprintf(state, sizeof(state), "%s", ev->transition->to);
        fflush(stdout);
        protobuf_c_message_free_unpacked(&ev->base, NULL);
    }
    if (client_stream_finish(s) != CLM_OK)
        return clmctl_fail("watch");
    return strcmp(state, "completed") == 0 ? 0 : 1;
}

const clmctl_command clmctl_workorder_commands[] = {
    {"enroll", "--connector C (--from FILE.json | --cn CN ... | --csr FILE) [FLAGS]",
     "an enrollment work order, submitted for approval (--draft: not yet)", cmd_enroll},
    {"wo ls", "[--state S] [--kind K] [--requester R] [--group G] [--connector C]",
     "work orders", cmd_wo_ls},
    {"wo show", "ID", "one work order: request, approvals, history", cmd_wo_show},
    {"wo submit", "ID [--comment T]", "submit a draft for review", cmd_wo_submit},
    {"wo approve", "ID [--comment T]", "approve the waiting review level (approver)",
     cmd_wo_approve},
    {"wo reject", "ID --comment T", "reject at a review level (approver)", cmd_wo_reject},
    {"wo implement", "ID [--at TIME] [--comment T]",
     "implement an approved order now or at TIME (+10m, RFC 3339 UTC)", cmd_wo_implement},
    {"wo cancel", "ID [--comment T]", "cancel before implementing (requester or admin)",
     cmd_wo_cancel},
    {"wo watch", "ID", "follow the transitions until a final state", cmd_wo_watch},
    {NULL, NULL, NULL, NULL},
};
