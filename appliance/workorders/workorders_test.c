/*
 * appliance/workorders/workorders_test.c: the work order state machine (every rule of
 * workorders.h, nothing changed on a refusal) and the validation of CreateWorkOrder
 * (every CSR rule violated once: INVALID_ARGUMENT naming the field, nothing stored).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509.h>

#include "adapters/adapter.h"
#include "appliance/ca/connectors.h"
#include "appliance/ca/issue.h"
#include "appliance/inventory/certs.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"
#include "appliance/workorders/internal.h"
#include "appliance/workorders/workorders.h"
#include "lib/pki/cert.h"
#include "lib/pki/key.h"
#include "store/audit.h"
#include "tests/unit.h"

static store *st;
static seal_key *seal_k;
static clm_clock_fake fake;
static int audits;

/* ---- the state machine (pure) ---- */

static const workorder_actor OPERATOR = {"CN=olga", RPC_ROLE_OPERATOR};
static const workorder_actor OTHER_OPERATOR = {"CN=otto", RPC_ROLE_OPERATOR};
static const workorder_actor APPROVER_A = {"CN=anna", RPC_ROLE_APPROVER};
static const workorder_actor APPROVER_B = {"CN=bert", RPC_ROLE_APPROVER};
static const workorder_actor VIEWER = {"CN=vera", RPC_ROLE_VIEWER};
static const workorder_actor REQUESTER_AS_APPROVER = {"CN=olga", RPC_ROLE_APPROVER};
static const workorder_actor ADMIN = {"uid:0", RPC_ROLE_ADMIN};

static void order_init(Clm__V1__WorkOrder *o, uint32_t levels)
{
    clm__v1__work_order__init(o);
    o->id = "WO-000001";
    o->state = "draft";
    o->requester = "CN=olga";
    o->levels = levels;
}

UNIT_TEST(two_levels_four_eyes)
{
    clm_arena arena = CLM_ARENA_INIT;
    Clm__V1__WorkOrder o;

    order_init(&o, 2);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_APPROVE, &APPROVER_A, "", 1, 0, &arena),
                 CLM_ERR_CONFLICT);
    CHECK_STR_CONTAINS(clm_error_message(), "state: WO-000001 is draft");
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_SUBMIT, &OTHER_OPERATOR, "", 1, 0, &arena),
                 CLM_ERR_PERMISSION);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_SUBMIT, &OPERATOR, "please", 1, 0, &arena), CLM_OK);
    CHECK_STR_EQ(o.state, "review");
    CHECK_INT_EQ(o.review_level, 1);
    CHECK_INT_EQ(o.n_history, 2); /* draft -> submitted -> review */
    CHECK_STR_EQ(o.history[0]->to, "submitted");
    CHECK_STR_EQ(o.history[1]->from, "submitted");
    CHECK_INT_EQ(o.history[1]->level, 1);

    CHECK_INT_EQ(workorder_step(&o, WO_ACT_APPROVE, &REQUESTER_AS_APPROVER, "", 2, 0, &arena),
                 CLM_ERR_PERMISSION);
    CHECK_STR_CONTAINS(clm_error_message(), "four eyes");
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_APPROVE, &VIEWER, "", 2, 0, &arena),
                 CLM_ERR_PERMISSION);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_APPROVE, &OPERATOR, "", 2, 0, &arena),
                 CLM_ERR_PERMISSION);
    CHECK_INT_EQ(o.n_approvals, 0);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_APPROVE, &APPROVER_A, "ok 1", 3, 0, &arena), CLM_OK);
    CHECK_STR_EQ(o.state, "review");
    CHECK_INT_EQ(o.review_level, 2);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_APPROVE, &APPROVER_A, "again", 4, 0, &arena),
                 CLM_ERR_PERMISSION);
    CHECK_STR_CONTAINS(clm_error_message(), "approved level 1");
    CHECK_INT_EQ(o.n_approvals, 1); /* nothing changed */
    CHECK_INT_EQ(o.n_history, 3);
    CHECK_INT_EQ(o.review_level, 2);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_REJECT, &APPROVER_B, "", 4, 0, &arena),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "comment");
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_IMPLEMENT, &OPERATOR, "", 4, 0, &arena),
                 CLM_ERR_CONFLICT);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_APPROVE, &APPROVER_B, "ok 2", 5, 0, &arena), CLM_OK);
    CHECK_STR_EQ(o.state, "approved");
    CHECK_INT_EQ(o.n_approvals, 2);
    CHECK_INT_EQ(o.approvals[1]->level, 2);
    CHECK_STR_EQ(o.approvals[1]->identity, "CN=bert");

    CHECK_INT_EQ(workorder_step(&o, WO_ACT_IMPLEMENT, &APPROVER_A, "", 6, 0, &arena),
                 CLM_ERR_PERMISSION);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_IMPLEMENT, &OPERATOR, "go", 6000000000, 9000000000,
                                &arena),
                 CLM_OK);
    CHECK_STR_EQ(o.state, "scheduled");
    CHECK(o.implement_at != NULL && o.implement_at->seconds == 9);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_CANCEL, &OTHER_OPERATOR, "", 7, 0, &arena),
                 CLM_ERR_PERMISSION);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_START, &ADMIN, "", 8, 0, &arena), CLM_OK);
    CHECK_STR_EQ(o.state, "implementing");
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_CANCEL, &OPERATOR, "", 9, 0, &arena),
                 CLM_ERR_CONFLICT);
    CHECK_STR_CONTAINS(clm_error_message(), "implementing");
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_FAIL, &ADMIN, "", 9, 0, &arena),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_COMPLETE, &ADMIN, "issued", 10, 0, &arena), CLM_OK);
    CHECK_STR_EQ(o.state, "completed");
    CHECK(workorder_state_is_final(o.state));
    CHECK_INT_EQ(o.n_history, 7);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_CANCEL, &ADMIN, "", 11, 0, &arena), CLM_ERR_CONFLICT);
    clm_arena_free(&arena);
}

UNIT_TEST(no_review_reject_cancel)
{
    clm_arena arena = CLM_ARENA_INIT;
    Clm__V1__WorkOrder o;

    order_init(&o, 0); /* a group without review levels */
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_SUBMIT, &OPERATOR, "", 1, 0, &arena), CLM_OK);
    CHECK_STR_EQ(o.state, "approved");
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_CANCEL, &ADMIN, "not needed", 2, 0, &arena), CLM_OK);
    CHECK_STR_EQ(o.state, "cancelled");

    order_init(&o, 1);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_SUBMIT, &ADMIN, "", 1, 0, &arena), CLM_OK);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_REJECT, &APPROVER_A, "wrong CN", 2, 0, &arena), CLM_OK);
    CHECK_STR_EQ(o.state, "rejected");
    CHECK_STR_EQ(o.history[o.n_history - 1]->comment, "wrong CN");
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_APPROVE, &APPROVER_B, "", 3, 0, &arena),
                 CLM_ERR_CONFLICT);
    CHECK_STR_CONTAINS(clm_error_message(), "rejected");

    order_init(&o, 2);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_CANCEL, &OTHER_OPERATOR, "", 1, 0, &arena),
                 CLM_ERR_PERMISSION);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_CANCEL, &OPERATOR, "", 1, 0, &arena), CLM_OK);
    CHECK_INT_EQ(workorder_step(&o, WO_ACT_SUBMIT, &OPERATOR, "", 1, 0, &arena), CLM_ERR_CONFLICT);
    clm_arena_free(&arena);
}

/* ---- CreateWorkOrder validation, through the store ---- */

static clm_err audit_test(store_txn *txn, void *arg, const char *target, const char *what)
{
    store_audit_event ev = {"CN=olga", RPC_ROLE_OPERATOR, "test", target, what};

    (void)arg;
    audits++;
    return store_audit_append(txn, &ev, NULL);
}

static workorder_context context(clm_arena *arena)
{
    workorder_context ctx = {st, seal_k, &fake.clock, NULL, arena, OPERATOR,
                             audit_test, NULL, NULL, NULL, NULL, NULL};
    return ctx;
}

typedef struct req_parts {
    Clm__V1__CreateWorkOrderRequest req;
    Clm__V1__EnrollmentRequest er;
    Clm__V1__CsrParameters csr;
    Clm__V1__Attachment att, *atts[1];
    Clm__V1__Attribute attr, *attrs[1];
    Clm__V1__Field field, *fields[1];
    char *sans[2];
    char big[300];
} req_parts;

static void base_request(req_parts *p)
{
    memset(p, 0, sizeof(*p));
    clm__v1__create_work_order_request__init(&p->req);
    clm__v1__enrollment_request__init(&p->er);
    clm__v1__csr_parameters__init(&p->csr);
    clm__v1__attachment__init(&p->att);
    clm__v1__attribute__init(&p->attr);
    clm__v1__field__init(&p->field);
    p->req.connector = "lca";
    p->req.request = &p->er;
    p->er.csr = &p->csr;
    p->csr.common_name = "www.example.test";
    p->sans[0] = "www.example.test";
    p->sans[1] = "192.0.2.10";
    p->csr.sans = p->sans;
    p->csr.n_sans = 2;
    p->csr.email = "pki@example.test";
    p->csr.challenge_password = "Sup3r-secret";
    p->att.name = "ticket.txt";
    p->att.data.data = (uint8_t *)"hello";
    p->att.data.len = 5;
    p->atts[0] = &p->att;
    p->er.attachments = p->atts;
    p->er.n_attachments = 1;
    p->attr.key = "cost-center";
    p->attr.value = "42";
    p->attrs[0] = &p->attr;
    p->er.attributes = p->attrs;
    p->er.n_attributes = 1;
    p->er.device_name = "web01";
    p->er.application_ip = "192.0.2.10";
    p->er.tracking_id = "CHG-1";
    p->field.name = "profile";
    p->field.value = "server";
    p->fields[0] = &p->field;
    p->er.fields = p->fields;
    p->er.n_fields = 1;
    memset(p->big, 'a', sizeof(p->big) - 1);
}

typedef struct bad_case {
    const char *what;
    void (*spoil)(req_parts *p);
    clm_err want;
    const char *names;
} bad_case;

static void long_cn(req_parts *p) { p->big[65] = '\0'; p->csr.common_name = p->big; }
static void bad_cn(req_parts *p) { p->csr.common_name = "www example!"; }
static void no_cn(req_parts *p) { p->csr.common_name = ""; }
static void comma_san(req_parts *p) { p->sans[1] = "a.example.test,b.example.test"; }
static void wildcard_san(req_parts *p) { p->sans[1] = "*.com"; }
static void long_o(req_parts *p) { p->big[65] = '\0'; p->csr.organization = p->big; }
static void long_ou(req_parts *p) { p->big[65] = '\0'; p->csr.org_unit = p->big; }
static void long_l(req_parts *p) { p->big[129] = '\0'; p->csr.locality = p->big; }
static void long_st(req_parts *p) { p->big[129] = '\0'; p->csr.state = p->big; }
static void bad_c(req_parts *p) { p->csr.country = "usa"; }
static void bad_email(req_parts *p) { p->csr.email = "pki-at-example"; }
static void weak_password(req_parts *p) { p->csr.challenge_password = "weakpass"; }
static void bad_hash(req_parts *p) { p->csr.hash = "MD5"; }
static void bad_key_type(req_parts *p) { p->csr.key_type = "DSA"; }
static void bad_rsa_bits(req_parts *p) { p->csr.key_type = "RSA"; p->csr.key_bits = 1024; }
static void bad_ec_bits(req_parts *p) { p->csr.key_bits = 512; }
static void bad_unit(req_parts *p) { p->er.validity = 1; p->er.validity_unit = "weeks"; }
static void long_validity(req_parts *p) { p->er.validity = 101; p->er.validity_unit = "years"; }
static void big_attachment(req_parts *p) { p->att.data.len = WORKORDER_ATTACHMENT_MAX + 1; }
static void bad_attachment_name(req_parts *p) { p->att.name = "../etc/passwd"; }
static void empty_attribute(req_parts *p) { p->attr.key = ""; }
static void bad_ip(req_parts *p) { p->er.application_ip = "192.0.2"; }
static void control_device(req_parts *p) { p->er.device_name = "web\n01"; }
static void unknown_ca_field(req_parts *p) { p->field.name = "colour"; }
static void bad_profile(req_parts *p) { p->field.value = "gold"; }
static void no_connector(req_parts *p) { p->req.connector = ""; }
static void unknown_connector(req_parts *p) { p->req.connector = "nope"; }
static void unknown_group(req_parts *p) { p->req.group = "nope"; }
static void policy_key(req_parts *p) { p->req.group = "strict"; }
static void policy_hash(req_parts *p) { p->req.group = "strict"; p->csr.key_bits = 384;
                                        p->csr.hash = "SHA512"; }
static void bad_kind(req_parts *p) { p->req.kind = "renovate"; }
static void long_comment(req_parts *p) { static char c[2002]; memset(c, 'c', 2001);
                                         p->req.comment = c; }
static void csr_and_pem(req_parts *p) { p->er.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----"; }
static void bad_pem(req_parts *p) { p->er.csr = NULL; p->er.csr_pem = "not a CSR"; }
static void revoke_no_target(req_parts *p) { p->req.kind = "revoke"; p->req.request = NULL; }

static const bad_case bad_cases[] = {
    {"CN too long", long_cn, CLM_ERR_INVALID_ARGUMENT, "request.csr.common_name"},
    {"CN characters", bad_cn, CLM_ERR_INVALID_ARGUMENT, "request.csr.common_name"},
    {"CN missing", no_cn, CLM_ERR_INVALID_ARGUMENT, "request.csr.common_name"},
    {"SAN with a comma", comma_san, CLM_ERR_INVALID_ARGUMENT, "request.csr.sans[1]"},
    {"SAN wildcard", wildcard_san, CLM_ERR_INVALID_ARGUMENT, "request.csr.sans"},
    {"O too long", long_o, CLM_ERR_INVALID_ARGUMENT, "request.csr.organization"},
    {"OU too long", long_ou, CLM_ERR_INVALID_ARGUMENT, "request.csr.org"},
    {"L too long", long_l, CLM_ERR_INVALID_ARGUMENT, "request.csr.locality"},
    {"ST too long", long_st, CLM_ERR_INVALID_ARGUMENT, "request.csr.state"},
    {"C not 2 letters", bad_c, CLM_ERR_INVALID_ARGUMENT, "request.csr.country"},
    {"e-mail", bad_email, CLM_ERR_INVALID_ARGUMENT, "request.csr.email"},
    {"weak password", weak_password, CLM_ERR_INVALID_ARGUMENT, "request.csr.challenge_password"},
    {"hash", bad_hash, CLM_ERR_INVALID_ARGUMENT, "request.csr.hash"},
    {"key type", bad_key_type, CLM_ERR_INVALID_ARGUMENT, "request.csr.key_type"},
    {"RSA bits", bad_rsa_bits, CLM_ERR_INVALID_ARGUMENT, "request.csr.key_bits"},
    {"EC bits", bad_ec_bits, CLM_ERR_INVALID_ARGUMENT, "request.csr.key_bits"},
    {"validity unit", bad_unit, CLM_ERR_INVALID_ARGUMENT, "request.validity_unit"},
    {"validity too long", long_validity, CLM_ERR_INVALID_ARGUMENT, "request.validity"},
    {"attachment size", big_attachment, CLM_ERR_INVALID_ARGUMENT, "request.attachments[0].data"},
    {"attachment name", bad_attachment_name, CLM_ERR_INVALID_ARGUMENT,
     "request.attachments[0].name"},
    {"attribute key", empty_attribute, CLM_ERR_INVALID_ARGUMENT, "request.attributes[0].key"},
    {"application IP", bad_ip, CLM_ERR_INVALID_ARGUMENT, "request.application_ip"},
    {"device name", control_device, CLM_ERR_INVALID_ARGUMENT, "request.device_name"},
    {"unknown CA field", unknown_ca_field, CLM_ERR_INVALID_ARGUMENT, "request.fields.colour"},
    {"CA field value", bad_profile, CLM_ERR_INVALID_ARGUMENT, "request.fields.profile"},
    {"no connector", no_connector, CLM_ERR_INVALID_ARGUMENT, "connector"},
    {"unknown connector", unknown_connector, CLM_ERR_NOT_FOUND, "connector"},
    {"unknown group", unknown_group, CLM_ERR_NOT_FOUND, "group"},
    {"key type outside policy", policy_key, CLM_ERR_INVALID_ARGUMENT, "request.csr.key_type"},
    {"hash outside policy", policy_hash, CLM_ERR_INVALID_ARGUMENT, "SHA512"},
    {"kind", bad_kind, CLM_ERR_INVALID_ARGUMENT, "kind"},
    {"comment", long_comment, CLM_ERR_INVALID_ARGUMENT, "comment"},
    {"csr with csr_pem", csr_and_pem, CLM_ERR_INVALID_ARGUMENT, "request.csr"},
    {"csr_pem not a CSR", bad_pem, CLM_ERR_INVALID_ARGUMENT, "request.csr_pem"},
    {"revoke without target", revoke_no_target, CLM_ERR_INVALID_ARGUMENT, "target_sha256"},
};

static clm_err count_txn(store_txn *txn, void *arg)
{
    return store_count(txn, &workorder_table, NULL, arg);
}

static uint64_t stored(void)
{
    uint64_t n = (uint64_t)-1;

    store_view(st, count_txn, &n);
    return n;
}

UNIT_TEST(every_rule_violated_once)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        clm_arena arena = CLM_ARENA_INIT;
        workorder_context ctx = context(&arena);
        Clm__V1__WorkOrder *o = NULL;
        req_parts p;
        clm_err err;

        base_request(&p);
        bad_cases[i].spoil(&p);
        unit_current = bad_cases[i].what;
        err = workorder_create(&ctx, &p.req, &o);
        CHECK_INT_EQ(err, bad_cases[i].want);
        CHECK_STR_CONTAINS(clm_error_message(), bad_cases[i].names);
        CHECK(strstr(clm_error_message(), "weakpass") == NULL); /* no secret in a message */
        clm_arena_free(&arena);
    }
    unit_current = "every_rule_violated_once";
    CHECK_INT_EQ(stored(), 0);
    CHECK_INT_EQ(audits, 0);
}

typedef struct get_op {
    clm_arena *arena;
    uint64_t id;
    Clm__Store__V1__WorkOrderRecord *r;
} get_op;

static clm_err get_txn(store_txn *txn, void *arg)
{
    get_op *op = arg;
    return workorder_get(txn, op->arena, op->id, &op->r);
}

UNIT_TEST(create_and_act)
{
    clm_arena arena = CLM_ARENA_INIT;
    workorder_context ctx = context(&arena);
    Clm__V1__WorkOrder *o = NULL;
    get_op g = {&arena, 1, NULL};
    req_parts p;

    base_request(&p);
    p.req.submit = true;
    p.req.comment = "for the web farm";
    CHECK_INT_EQ(workorder_create(&ctx, &p.req, &o), CLM_OK);
    CHECK_STR_EQ(o->id, "WO-000001");
    CHECK_STR_EQ(o->request_id, "REQ-000001");
    CHECK_STR_EQ(o->state, "review");
    CHECK_INT_EQ(o->levels, 2); /* the Default group has no approval policy */
    CHECK_STR_EQ(o->requester, "CN=olga");
    CHECK_STR_EQ(o->group, "Default");
    CHECK_STR_EQ(o->request->csr->challenge_password, ""); /* never kept in clear */
    CHECK_INT_EQ(o->request->attachments[0]->size, 5);
    CHECK_INT_EQ(stored(), 1);
    CHECK_INT_EQ(audits, 1);
    CHECK_INT_EQ(store_view(st, get_txn, &g), CLM_OK);
    CHECK(g.r->sealed_challenge_password.len > 0);
    CHECK(memmem(g.r->sealed_challenge_password.data, g.r->sealed_challenge_password.len,
                 "Sup3r", 5) == NULL);

    /* the strict group's CSR defaults fill what the request leaves empty */
    p.req.group = "strict";
    p.csr.key_bits = 384;
    p.req.submit = false;
    CHECK_INT_EQ(workorder_create(&ctx, &p.req, &o), CLM_OK);
    CHECK_STR_EQ(o->state, "draft");
    CHECK_STR_EQ(o->request->csr->organization, "Example Org");
    CHECK_STR_EQ(o->request->csr->country, "DE");
    CHECK_INT_EQ(o->levels, 1);

    /* actions through the store: refusals change nothing */
    ctx.actor = APPROVER_A;
    CHECK_INT_EQ(workorder_act(&ctx, "WO-000002", WO_ACT_APPROVE, "", 0, &o), CLM_ERR_CONFLICT);
    CHECK_INT_EQ(workorder_act(&ctx, "WO-9", WO_ACT_APPROVE, "", 0, &o), CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(workorder_act(&ctx, "W0-1", WO_ACT_APPROVE, "", 0, &o),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(audits, 2);
    CHECK_INT_EQ(workorder_act(&ctx, "REQ-000001", WO_ACT_APPROVE, "fine", 0, &o), CLM_OK);
    CHECK_INT_EQ(o->review_level, 2);
    CHECK_INT_EQ(workorder_act(&ctx, "1", WO_ACT_APPROVE, "twice", 0, &o), CLM_ERR_PERMISSION);
    ctx.actor = APPROVER_B;
    CHECK_INT_EQ(workorder_act(&ctx, "1", WO_ACT_APPROVE, "fine too", 0, &o), CLM_OK);
    CHECK_STR_EQ(o->state, "approved");
    CHECK_INT_EQ(audits, 4);

    clm_arena_free(&arena);
}

typedef struct list_op {
    Clm__V1__ListWorkOrdersRequest *rq;
    Clm__V1__ListWorkOrdersResponse *rs;
    clm_arena *arena;
} list_op;

static clm_err list_txn(store_txn *txn, void *arg)
{
    list_op *l = arg;
    return workorder_list(txn, l->arena, l->rq, l->rs);
}

static size_t list_count(const char *state, const char *requester, const char *kind)
{
    clm_arena arena = CLM_ARENA_INIT;
    Clm__V1__ListWorkOrdersRequest rq = CLM__V1__LIST_WORK_ORDERS_REQUEST__INIT;
    Clm__V1__ListWorkOrdersResponse rs = CLM__V1__LIST_WORK_ORDERS_RESPONSE__INIT;
    list_op l = {&rq, &rs, &arena};
    size_t n;

    rq.state = (char *)state;
    rq.requester = (char *)requester;
    rq.kind = (char *)kind;
    n = store_view(st, list_txn, &l) == CLM_OK ? rs.n_work_orders : (size_t)-1;
    for (size_t i = 0; n != (size_t)-1 && i < rs.n_work_orders; i++)
        if (rs.work_orders[i]->request && rs.work_orders[i]->request->n_attachments &&
            (rs.work_orders[i]->request->attachments[0]->data.len != 0 ||
             rs.work_orders[i]->request->attachments[0]->size != 5))
            n = (size_t)-2; /* lists carry attachment sizes, not bytes */
    clm_arena_free(&arena);
    return n;
}

UNIT_TEST(listing)
{
    CHECK_INT_EQ(list_count("", "", ""), 2);
    CHECK_INT_EQ(list_count("approved", "", ""), 1);
    CHECK_INT_EQ(list_count("draft", "", ""), 1);
    CHECK_INT_EQ(list_count("review", "", ""), 0);
    CHECK_INT_EQ(list_count("", "cn=OLGA", ""), 2);
    CHECK_INT_EQ(list_count("", "CN=anna", ""), 0);
    CHECK_INT_EQ(list_count("", "", "revoke"), 0);
    CHECK_INT_EQ(list_count("bogus", "", ""), (size_t)-1);
}


/* ---- implementing (the job step), against the local CA ---- */

static clm_err audit_plain(store_txn *txn, void *arg)
{
    (void)arg;
    return audit_test(txn, NULL, "lca", "ca");
}

typedef struct cert_op {
    clm_arena *arena;
    const char *sha256;
    Clm__Store__V1__CertificateRecord *r;
    uint64_t count;
} cert_op;

static clm_err cert_txn(store_txn *txn, void *arg)
{
    cert_op *op = arg;
    clm_err err = store_count(txn, &inventory_certificates, NULL, &op->count);

    if (err == CLM_OK && op->sha256 != NULL)
        err = inventory_cert_find(txn, op->arena, op->sha256, &op->r);
    return err;
}

static uint64_t cert_count(void)
{
    cert_op op = {NULL, NULL, NULL, 0};
    return store_view(st, cert_txn, &op) == CLM_OK ? op.count : (uint64_t)-1;
}

typedef struct start_op {
    const workorder_context *ctx;
    uint64_t id;
} start_op;

/* A crash right after the job started: the order is left "implementing". */
static clm_err start_txn(store_txn *txn, void *arg)
{
    start_op *op = arg;
    Clm__Store__V1__WorkOrderRecord *r;
    clm_err err = workorder_get(txn, op->ctx->arena, op->id, &r);

    return err ? err : wo_step_in(txn, op->ctx, r, WO_ACT_START, "", 0);
}

static clm_err auto_group_txn(store_txn *txn, void *arg)
{
    Clm__V1__Group g = CLM__V1__GROUP__INIT;
    Clm__V1__GroupPolicy p = CLM__V1__GROUP_POLICY__INIT;
    Clm__V1__ApprovalPolicy a = CLM__V1__APPROVAL_POLICY__INIT;
    Clm__Store__V1__GroupRecord *gr;

    a.levels = 1;
    a.auto_approve_renewals = 1;
    p.approval = &a;
    g.name = "auto";
    g.policy = &p;
    return group_create(txn, arg, &g, 0, &gr);
}

static Clm__V1__WorkOrder *implemented(workorder_context *ctx, const char *id, sched_outcome want)
{
    Clm__V1__WorkOrder *o = NULL;
    char message[256];
    uint64_t n;

    if (workorder_parse_id(id, "id", &n) != CLM_OK)
        return NULL;
    CHECK_INT_EQ(workorder_implement(ctx, n, 1, 3, message, sizeof(message)), want);
    {
        get_op g = {ctx->arena, n, NULL};
        if (store_view(st, get_txn, &g) == CLM_OK)
            o = g.r->order;
    }
    return o;
}

UNIT_TEST(implement_idempotent_resume_renew_revoke)
{
    clm_arena arena = CLM_ARENA_INIT;
    workorder_context ctx = context(&arena), job = context(&arena);
    connector_context cctx = {st, seal_k, &fake.clock, &arena, "uid:0", audit_plain, NULL};
    Clm__V1__InitLocalCaRequest init = CLM__V1__INIT_LOCAL_CA_REQUEST__INIT;
    Clm__V1__CreateLocalCa create = CLM__V1__CREATE_LOCAL_CA__INIT;
    Clm__V1__WorkOrder *o = NULL, *renewed;
    cert_op c1 = {&arena, NULL, NULL, 0}, c2 = c1;
    char first[65] = "";
    req_parts p;
    start_op so = {&job, 0};

    job.actor = ADMIN;
    init.name = "lca";
    init.how_case = CLM__V1__INIT_LOCAL_CA_REQUEST__HOW_CREATE;
    init.create = &create;
    create.root_cn = "Test Root";
    create.intermediate_cn = "Test Issuing";
    CHECK_INT_EQ(connector_init_local(&cctx, &init), CLM_OK);
    CHECK_INT_EQ(store_update(st, auto_group_txn, &arena), CLM_OK);

    /* an enrollment, approved by two approvers, implemented; a second run changes nothing */
    base_request(&p);
    p.req.submit = true;
    CHECK_INT_EQ(workorder_create(&ctx, &p.req, &o), CLM_OK);
    ctx.actor = APPROVER_A;
    CHECK_INT_EQ(workorder_act(&ctx, o->id, WO_ACT_APPROVE, "", 0, &o), CLM_OK);
    ctx.actor = APPROVER_B;
    CHECK_INT_EQ(workorder_act(&ctx, o->id, WO_ACT_APPROVE, "", 0, &o), CLM_OK);
    ctx.actor = OPERATOR;
    CHECK_INT_EQ(workorder_act(&ctx, o->id, WO_ACT_IMPLEMENT, "", 0, &o), CLM_OK);
    CHECK_STR_EQ(o->state, "scheduled");
    uint64_t before = cert_count();
    o = implemented(&job, o->id, SCHED_OUTCOME_OK);
    CHECK(o != NULL && strcmp(o->state, "completed") == 0 && strlen(o->certificate_sha256) == 64);
    CHECK_INT_EQ(cert_count(), before + 1);
    if (o == NULL)
        return;
    snprintf(first, sizeof(first), "%s", o->certificate_sha256);
    c1.sha256 = first;
    CHECK_INT_EQ(store_view(st, cert_txn, &c1), CLM_OK);
    CHECK(c1.r != NULL && c1.r->sealed_private_key.len > 0 &&
          strcmp(c1.r->device_name, "web01") == 0 && c1.r->n_attributes == 1 &&
          c1.r->status == CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_MANAGED);
    o = implemented(&job, o->id, SCHED_OUTCOME_OK); /* at-least-once: run again */
    CHECK(o != NULL && strcmp(o->state, "completed") == 0 &&
          strcmp(o->certificate_sha256, first) == 0);
    CHECK_INT_EQ(cert_count(), before + 1);

    /* a crash after the job started: the next run resumes from "implementing" */
    p.req.group = "auto";
    p.csr.common_name = "resume.example.test";
    p.sans[0] = "resume.example.test";
    CHECK_INT_EQ(workorder_create(&ctx, &p.req, &o), CLM_OK);
    CHECK_STR_EQ(o->state, "review"); /* auto approval is for automatic renewals only */
    CHECK_INT_EQ(o->levels, 1);
    ctx.actor = APPROVER_A;
    CHECK_INT_EQ(workorder_act(&ctx, o->id, WO_ACT_APPROVE, "", 0, &o), CLM_OK);
    CHECK_STR_EQ(o->state, "approved");
    ctx.actor = OPERATOR;
    CHECK_INT_EQ(workorder_act(&ctx, o->id, WO_ACT_IMPLEMENT, "", 0, &o), CLM_OK);
    CHECK_INT_EQ(workorder_parse_id(o->id, "id", &so.id), CLM_OK);
    CHECK_INT_EQ(store_update(st, start_txn, &so), CLM_OK);
    o = implemented(&job, o->id, SCHED_OUTCOME_OK);
    CHECK(o != NULL && strcmp(o->state, "completed") == 0);
    if (o == NULL)
        return;
    char resumed[65];
    snprintf(resumed, sizeof(resumed), "%s", o->certificate_sha256);
    c1.sha256 = resumed;
    CHECK_INT_EQ(store_view(st, cert_txn, &c1), CLM_OK);

    /* renewals for the sweep: the Default group reviews them; a group with
       auto_approve_renewals approves (and here schedules) them at once */
    job.actor = (workorder_actor){"renewal-sweep", RPC_ROLE_ADMIN};
    CHECK_INT_EQ(workorder_create_renewal(&job, WO_KIND_RENEW, first, NULL, true, &renewed),
                 CLM_OK);
    CHECK_STR_EQ(renewed->state, "review");
    CHECK(renewed->automatic);
    CHECK_INT_EQ(workorder_create_renewal(&job, WO_KIND_REVOKE, first, NULL, true, &renewed),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(workorder_create_renewal(&job, WO_KIND_RENEW, resumed, NULL, true, &renewed),
                 CLM_OK);
    CHECK_STR_EQ(renewed->state, "scheduled");
    CHECK_STR_EQ(renewed->kind, "renew");
    renewed = implemented(&job, renewed->id, SCHED_OUTCOME_OK);
    CHECK(renewed != NULL && strcmp(renewed->state, "completed") == 0);
    if (renewed == NULL)
        return;
    c2.sha256 = renewed->certificate_sha256;
    CHECK_INT_EQ(store_view(st, cert_txn, &c2), CLM_OK);
    CHECK(c2.r != NULL && c1.r != NULL && c2.r->ski.len == c1.r->ski.len &&
          memcmp(c2.r->ski.data, c1.r->ski.data, c1.r->ski.len) == 0); /* the same key */
    CHECK(c2.r != NULL && strcmp(c2.r->common_name, "resume.example.test") == 0);
    CHECK(c2.r != NULL && c1.r != NULL && c2.r->parent_id == c1.r->id); /* lineage */
    {
        cert_op again = {&arena, resumed, NULL, 0};
        CHECK_INT_EQ(store_view(st, cert_txn, &again), CLM_OK);
        CHECK(again.r != NULL && c2.r != NULL && again.r->child_id == c2.r->id);
    }
    CHECK_INT_EQ(workorder_create_renewal(&job, WO_KIND_REGENERATE, resumed, NULL, true, &renewed),
                 CLM_OK);
    renewed = implemented(&job, renewed->id, SCHED_OUTCOME_OK);
    CHECK(renewed != NULL && strcmp(renewed->state, "completed") == 0);
    if (renewed == NULL)
        return;
    c2.sha256 = renewed->certificate_sha256;
    CHECK_INT_EQ(store_view(st, cert_txn, &c2), CLM_OK);
    CHECK(c2.r != NULL && c1.r != NULL &&
          (c2.r->ski.len != c1.r->ski.len ||
           memcmp(c2.r->ski.data, c1.r->ski.data, c1.r->ski.len) != 0)); /* a new key */

    /* revoke: the inventory marks it; a second revoke order is refused */
    memset(&p.req, 0, sizeof(p.req));
    clm__v1__create_work_order_request__init(&p.req);
    p.req.kind = "revoke";
    p.req.group = "auto";
    p.req.target_sha256 = resumed;
    p.req.revoke_reason = "superseded";
    p.req.submit = true;
    ctx.actor = OPERATOR;
    CHECK_INT_EQ(workorder_create(&ctx, &p.req, &o), CLM_OK);
    CHECK_STR_EQ(o->connector, "lca"); /* the connector that issued it */
    ctx.actor = APPROVER_B;
    CHECK_INT_EQ(workorder_act(&ctx, o->id, WO_ACT_APPROVE, "", 0, &o), CLM_OK);
    ctx.actor = OPERATOR;
    CHECK_INT_EQ(workorder_act(&ctx, o->id, WO_ACT_IMPLEMENT, "", 0, &o), CLM_OK);
    o = implemented(&job, o->id, SCHED_OUTCOME_OK);
    CHECK(o != NULL && strcmp(o->state, "completed") == 0);
    CHECK_INT_EQ(store_view(st, cert_txn, &c1), CLM_OK);
    CHECK(c1.r != NULL &&
          c1.r->status == CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_REVOKED);
    CHECK_INT_EQ(workorder_create(&ctx, &p.req, &o), CLM_ERR_CONFLICT);
    clm_arena_free(&arena);
}

/* ---- a CA that answers pending, then issues on poll; or rejects ---- */

struct adapter_ca {
    int unused;
};
static int fake_reject;
static int fake_polls;

static clm_err fake_check(const adapter_fields *fields, bool request)
{
    (void)request;
    return fields->n == 0 ? CLM_OK
                          : clm_fail(CLM_ERR_INVALID_ARGUMENT, "fields.%s: unknown field",
                                     fields->v[0].name);
}

static clm_err fake_open(const adapter_ca_config *config, adapter_ca **out)
{
    (void)config;
    *out = calloc(1, sizeof(**out));
    return *out ? CLM_OK : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
}

static void fake_close(adapter_ca *ca)
{
    free(ca);
}

static clm_err fake_submit(adapter_ca *ca, const adapter_ca_request *request,
                           adapter_ca_result *out)
{
    (void)ca;
    (void)request;
    if (fake_reject) {
        out->outcome = ADAPTER_CA_REJECTED;
        snprintf(out->reason, sizeof(out->reason), "the CA's policy says no");
        return CLM_OK;
    }
    out->outcome = ADAPTER_CA_PENDING;
    out->cookie = "cookie-1";
    out->retry_after = 5;
    return CLM_OK;
}

static clm_err fake_poll(adapter_ca *ca, const char *cookie, adapter_ca_result *out)
{
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    unsigned char *der = NULL;
    int len;

    (void)ca;
    fake_polls++;
    if (strcmp(cookie, "cookie-1") != 0 || pki_key_generate(PKI_KEY_EC_P256, &key) != CLM_OK ||
        pki_cert_create_ca(key, "pending.example.test", NULL, 30, &fake.clock, &x) != CLM_OK ||
        (len = i2d_X509(x, &der)) <= 0)
        return clm_fail(CLM_ERR_INTERNAL, "fake poll");
    out->cert.data = clm_arena_memdup(&out->arena, der, (size_t)len);
    out->cert.len = (size_t)len;
    out->outcome = ADAPTER_CA_ISSUED;
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(key);
    return CLM_OK;
}

static const adapter_ca_ops fake_ops = {
    .name = "pending-test",
    .flags = ADAPTER_CA_F_PENDING,
    .check_fields = fake_check,
    .open = fake_open,
    .close = fake_close,
    .submit = fake_submit,
    .poll = fake_poll,
};

static clm_err fake_connector_txn(store_txn *txn, void *arg)
{
    Clm__V1__Connector k = CLM__V1__CONNECTOR__INIT;
    Clm__Store__V1__ConnectorRecord *c;

    k.name = "pend";
    k.type = "pending-test";
    return connector_create(txn, arg, seal_k, &k, 0, &c);
}

UNIT_TEST(pending_then_issued_and_rejected)
{
    clm_arena arena = CLM_ARENA_INIT;
    workorder_context ctx = context(&arena), job = context(&arena);
    Clm__V1__WorkOrder *o = NULL;
    get_op g = {&arena, 0, NULL};
    req_parts p;
    uint64_t before;

    job.actor = ADMIN;
    CHECK_INT_EQ(adapter_ca_register(&fake_ops), CLM_OK);
    CHECK_INT_EQ(store_update(st, fake_connector_txn, &arena), CLM_OK);
    base_request(&p);
    p.req.connector = "pend";
    p.req.group = "auto";
    p.er.n_fields = 0;
    p.req.submit = true;
    CHECK_INT_EQ(workorder_create(&ctx, &p.req, &o), CLM_OK);
    ctx.actor = APPROVER_A;
    CHECK_INT_EQ(workorder_act(&ctx, o->id, WO_ACT_APPROVE, "", 0, &o), CLM_OK);
    ctx.actor = OPERATOR;
    CHECK_INT_EQ(workorder_act(&ctx, o->id, WO_ACT_IMPLEMENT, "", 0, &o), CLM_OK);
    before = cert_count();
    o = implemented(&job, o->id, SCHED_OUTCOME_OK);
    CHECK(o != NULL && strcmp(o->state, "implementing") == 0); /* pending at the CA */
    CHECK_INT_EQ(workorder_parse_id(o ? o->id : "1", "id", &g.id), CLM_OK);
    CHECK_INT_EQ(store_view(st, get_txn, &g), CLM_OK);
    CHECK(g.r != NULL && strcmp(g.r->order->id, o ? o->id : "") == 0 &&
          strcmp(g.r->cookie, "cookie-1") == 0 &&
          g.r->next_poll == clm_clock_now_ns(&fake.clock) + 5000000000LL &&
          g.r->sealed_key.len > 0 && g.r->csr_pem[0] != '\0');
    CHECK_INT_EQ(fake_polls, 0);
    o = implemented(&job, o ? o->id : "1", SCHED_OUTCOME_OK); /* the poll run */
    CHECK(o != NULL && strcmp(o->state, "completed") == 0);
    CHECK_INT_EQ(fake_polls, 1);
    CHECK_INT_EQ(cert_count(), before + 1);
    CHECK_INT_EQ(store_view(st, get_txn, &g), CLM_OK);
    CHECK(g.r != NULL && g.r->sealed_key.len == 0 && g.r->cookie[0] == '\0');

    fake_reject = 1;
    CHECK_INT_EQ(workorder_create(&ctx, &p.req, &o), CLM_OK);
    ctx.actor = APPROVER_A;
    CHECK_INT_EQ(workorder_act(&ctx, o->id, WO_ACT_APPROVE, "", 0, &o), CLM_OK);
    ctx.actor = OPERATOR;
    CHECK_INT_EQ(workorder_act(&ctx, o->id, WO_ACT_IMPLEMENT, "", 0, &o), CLM_OK);
    o = implemented(&job, o->id, SCHED_OUTCOME_FAIL);
    CHECK(o != NULL && strcmp(o->state, "failed") == 0 &&
          strstr(o->failure_reason, "the CA's policy says no") != NULL);
    CHECK_INT_EQ(cert_count(), before + 1);
    clm_arena_free(&arena);
}

static clm_err setup_txn(store_txn *txn, void *arg)
{
    clm_arena *arena = arg;
    Clm__V1__Connector k = CLM__V1__CONNECTOR__INIT;
    Clm__V1__Group g = CLM__V1__GROUP__INIT;
    Clm__V1__GroupPolicy p = CLM__V1__GROUP_POLICY__INIT;
    Clm__V1__CsrDefaults d = CLM__V1__CSR_DEFAULTS__INIT;
    Clm__V1__ApprovalPolicy a = CLM__V1__APPROVAL_POLICY__INIT;
    char *keys[] = {"EC-P384"}, *hashes[] = {"SHA256", "SHA384"};
    Clm__Store__V1__ConnectorRecord *c;
    Clm__Store__V1__GroupRecord *gr;
    clm_err err;

    k.name = "lca";
    k.type = "local";
    if ((err = group_ensure_default(txn, 0)) != CLM_OK ||
        (err = connector_create(txn, arena, seal_k, &k, 0, &c)) != CLM_OK)
        return err;
    d.organization = "Example Org";
    d.country = "DE";
    a.levels = 1;
    p.csr_defaults = &d;
    p.approval = &a;
    p.allowed_key_types = keys;
    p.n_allowed_key_types = 1;
    p.allowed_hash_functions = hashes;
    p.n_allowed_hash_functions = 2;
    g.name = "strict";
    g.policy = &p;
    return group_create(txn, arena, &g, 0, &gr);
}

int main(void)
{
    static const store_table *const tables[] = {&workorder_table, &connector_table,
                                                &connector_state_table, &inventory_certificates,
                                                &inventory_groups};
    clm_arena arena = CLM_ARENA_INIT;
    char dir[512];
    const char *tmp = getenv("TEST_TMPDIR");

    snprintf(dir, sizeof(dir), "%s/workorders_test", tmp ? tmp : "/tmp");
    mkdir(dir, 0700);
    clm_clock_fake_init(&fake, 1700000000LL * 1000000000LL);
    if (connectors_register_adapters() != CLM_OK ||
        store_open(dir, NULL, tables, 5, &st) != CLM_OK || seal_key_load(dir, &seal_k) != CLM_OK ||
        store_update(st, setup_txn, &arena) != CLM_OK) {
        fprintf(stderr, "setup: %s\n", clm_error_message());
        return 1;
    }
    UNIT_RUN(two_levels_four_eyes);
    UNIT_RUN(no_review_reject_cancel);
    UNIT_RUN(every_rule_violated_once);
    UNIT_RUN(create_and_act);
    UNIT_RUN(listing);
    UNIT_RUN(implement_idempotent_resume_renew_revoke);
    UNIT_RUN(pending_then_issued_and_rejected);
    clm_arena_free(&arena);
    seal_key_free(seal_k);
    store_close(st);
    return unit_report();
}
