/* appliance/api/health.c: grpc.health.v1.Health on the health table. */
#include "appliance/api/health.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/app.h"
#include "grpc/health/v1/health.pb-c.h"

struct health_table {
    pthread_mutex_t lock;
    size_t count;
    char **names;
    health_status *status;
};

health_table *health_table_new(const char *const *services, size_t count)
{
    health_table *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->names = calloc(count + 1, sizeof(*t->names));
    t->status = calloc(count + 1, sizeof(*t->status));
    if (t->names == NULL || t->status == NULL) {
        health_table_free(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    t->names[t->count] = strdup("");
    t->status[t->count++] = HEALTH_NOT_SERVING;
    for (size_t i = 0; i < count; i++) {
        t->names[t->count] = strdup(services[i]);
        t->status[t->count++] = HEALTH_NOT_SERVING;
    }
    for (size_t i = 0; i < t->count; i++) {
        if (t->names[i] == NULL) {
            health_table_free(t);
            return NULL;
        }
    }
    return t;
}

void health_table_free(health_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; t->names && i < t->count; i++)
        free(t->names[i]);
    free(t->names);
    free(t->status);
    if (t->count)
        pthread_mutex_destroy(&t->lock);
    free(t);
}

void health_table_set_all(health_table *t, health_status status, rpc_server *server)
{
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->count; i++)
        t->status[i] = status;
    pthread_mutex_unlock(&t->lock);
    if (server != NULL)
        rpc_server_wake_watchers(server);
}

static health_status lookup(health_table *t, const char *service)
{
    health_status status = HEALTH_SERVICE_UNKNOWN;

    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->count; i++) {
        if (strcmp(t->names[i], service) == 0) {
            status = t->status[i];
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return status;
}

static clm_err health_check(rpc_call *call, const ProtobufCMessage *request,
                            ProtobufCMessage *response)
{
    const Grpc__Health__V1__HealthCheckRequest *req = (const void *)request;
    Grpc__Health__V1__HealthCheckResponse *resp = (void *)response;
    clm_app *app = rpc_call_app(call);
    health_status status = lookup(app->health, req->service ? req->service : "");

    if (status == HEALTH_SERVICE_UNKNOWN)
        return clm_fail(CLM_ERR_NOT_FOUND, "service: '%s' is not served here", req->service);
    resp->status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)status;
    return CLM_OK;
}

static clm_err send_status(rpc_call *call, health_status status)
{
    Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;

    resp.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)status;
    return rpc_call_send(call, &resp.base);
}

/* Send the status now and on every change, until the client leaves or the server
   stops (the last message sent then says NOT_SERVING). */
static clm_err health_watch(rpc_call *call, const ProtobufCMessage *request)
{
    const Grpc__Health__V1__HealthCheckRequest *req = (const void *)request;
    clm_app *app = rpc_call_app(call);
    const char *service = req->service ? req->service : "";
    int last = -1;

    for (;;) {
        uint64_t generation = rpc_server_watch_generation(rpc_call_server(call));
        health_status status = lookup(app->health, service);
        if ((int)status != last) {
            clm_err err = send_status(call, status);
            if (err != CLM_OK)
                return err;
            last = (int)status;
        }
        if (!rpc_call_wait(call, generation, 60 * INT64_C(1000000000)))
            continue;
        if (rpc_call_cancelled(call))
            return clm_fail(CLM_ERR_CANCELLED, "watch cancelled");
        status = lookup(app->health, service);
        if ((int)status != last)
            send_status(call, status);
        return clm_fail(CLM_ERR_UNAVAILABLE, "clmd is shutting down");
    }
}

const rpc_method health_methods[] = {
    {"/grpc.health.v1.Health/Check", RPC_UNARY, RPC_ROLES_ANY, 0,
     &grpc__health__v1__health_check_request__descriptor,
     &grpc__health__v1__health_check_response__descriptor, health_check, NULL},
    {"/grpc.health.v1.Health/Watch", RPC_SERVER_STREAMING, RPC_ROLES_ANY, 0,
     &grpc__health__v1__health_check_request__descriptor,
     &grpc__health__v1__health_check_response__descriptor, NULL, health_watch},
};
const size_t health_methods_count = sizeof(health_methods) / sizeof(health_methods[0]);
