/* appliance/api/reports.c: clm.v1.Reports handlers. */
#include "appliance/api/reports.h"

#include "appliance/app.h"
#include "appliance/endpoints/report.h"
#include "appliance/inventory/certs.h"
#include "clm/v1/reports.pb-c.h"

#define DEFAULT_WINDOW_NS (7 * 86400 * CLM_NS_PER_SEC)
#define MAX_WINDOW_NS (3660 * 86400 * CLM_NS_PER_SEC)

typedef struct report_op {
    rpc_call *call;
    pv_report_query query;
    const char *certificate;
    Clm__V1__PushValidationReport *out;
} report_op;

static clm_err report_txn(store_txn *txn, void *arg)
{
    report_op *op = arg;

    if (op->certificate[0] != '\0') {
        Clm__Store__V1__CertificateRecord *c;
        clm_err err = inventory_cert_find(txn, rpc_call_arena(op->call), op->certificate, &c);
        if (err != CLM_OK)
            return err;
        op->query.certificate_id = c->id;
    }
    return pv_report_build(txn, rpc_call_arena(op->call), &op->query, op->out);
}

static clm_err timestamp_ns(const Google__Protobuf__Timestamp *t, const char *field, int64_t *out)
{
    if (t->seconds < 0 || t->seconds > INT64_C(253402300799) || t->nanos < 0 ||
        t->nanos > 999999999)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: not a time between 1970 and 9999", field);
    *out = t->seconds * CLM_NS_PER_SEC + t->nanos;
    return CLM_OK;
}

static clm_err get_push_validation_report(rpc_call *call, const ProtobufCMessage *request,
                                          ProtobufCMessage *response)
{
    const Clm__V1__PushValidationReportRequest *req = (const void *)request;
    clm_app *app = rpc_call_app(call);
    report_op op = {call, {0}, req->certificate, (void *)response};
    unsigned char digest[32];
    size_t len;
    clm_err err;

    op.query.until_ns = clm_clock_now_ns(app->clock);
    if (req->until && (err = timestamp_ns(req->until, "until", &op.query.until_ns)) != CLM_OK)
        return err;
    op.query.since_ns = op.query.until_ns - DEFAULT_WINDOW_NS;
    if (req->since && (err = timestamp_ns(req->since, "since", &op.query.since_ns)) != CLM_OK)
        return err;
    if (op.query.since_ns >= op.query.until_ns)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "since: must be before until");
    if (op.query.until_ns - op.query.since_ns > MAX_WINDOW_NS)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "since: the window is longer than 3660 days");
    if (req->buckets > REPORT_MAX_BUCKETS)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "buckets: %u is more than %d", req->buckets,
                        REPORT_MAX_BUCKETS);
    op.query.buckets = req->buckets ? req->buckets : REPORT_DEFAULT_BUCKETS;
    if (req->max_endpoints > REPORT_MAX_ENDPOINTS)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "max_endpoints: %u is more than %d",
                        req->max_endpoints, REPORT_MAX_ENDPOINTS);
    op.query.max_endpoints = req->max_endpoints ? req->max_endpoints : REPORT_DEFAULT_ENDPOINTS;
    if (req->certificate[0] != '\0' &&
        (err = inventory_parse_id(req->certificate, "certificate", digest, &len)) != CLM_OK)
        return err;
    return store_view(app->store, report_txn, &op);
}

const rpc_method reports_methods[] = {
    {"/clm.v1.Reports/GetPushValidationReport", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__push_validation_report_request__descriptor,
     &clm__v1__push_validation_report__descriptor, get_push_validation_report, NULL},
};
const size_t reports_methods_count = sizeof(reports_methods) / sizeof(reports_methods[0]);
