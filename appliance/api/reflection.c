/*
 * appliance/api/reflection.c: ServerReflectionInfo (bidi streaming).
 *
 * v1 and v1alpha messages are identical on the wire (v1 is v1alpha renamed), so
 * both methods decode and encode with the v1alpha types.
 */
#include "appliance/api/reflection.h"

#include <stdlib.h>
#include <string.h>

#include "appliance/app.h"
#include "grpc/reflection/v1alpha/reflection.pb-c.h"
#include "lib/protodesc/descset.h"

typedef Grpc__Reflection__V1alpha__ServerReflectionRequest reflection_request;
typedef Grpc__Reflection__V1alpha__ServerReflectionResponse reflection_response;

static void set_error(clm_arena *arena, reflection_response *resp, int code, const char *text)
{
    Grpc__Reflection__V1alpha__ErrorResponse *e = clm_arena_alloc(arena, sizeof(*e));

    grpc__reflection__v1alpha__error_response__init(e);
    e->error_code = code; /* a google.rpc.Code value */
    e->error_message = clm_arena_strdup(arena, text);
    resp->message_response_case =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
    resp->error_response = e;
}

/* Answer with a file and everything it depends on, as grpc's own servers do. */
static void set_file(clm_arena *arena, const descset *set, size_t index,
                     reflection_response *resp)
{
    Grpc__Reflection__V1alpha__FileDescriptorResponse *f = clm_arena_alloc(arena, sizeof(*f));
    size_t *order = clm_arena_alloc(arena, descset_file_count(set) * sizeof(size_t));
    size_t n = descset_closure(set, index, order);

    grpc__reflection__v1alpha__file_descriptor_response__init(f);
    f->file_descriptor_proto = clm_arena_alloc(arena, n * sizeof(ProtobufCBinaryData));
    for (size_t i = 0; i < n; i++) {
        /* requested file first, then its dependencies */
        f->file_descriptor_proto[i] = descset_file_at(set, order[n - 1 - i])->raw;
    }
    f->n_file_descriptor_proto = n;
    resp->message_response_case =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
    resp->file_descriptor_response = f;
}

typedef struct service_list {
    clm_arena *arena;
    Grpc__Reflection__V1alpha__ListServiceResponse *list;
    size_t cap;
} service_list;

static void add_service(const descset_symbol *symbol, void *arg)
{
    service_list *sl = arg;
    Grpc__Reflection__V1alpha__ServiceResponse *s;

    if (sl->list->n_service == sl->cap)
        return;
    s = clm_arena_alloc(sl->arena, sizeof(*s));
    grpc__reflection__v1alpha__service_response__init(s);
    s->name = symbol->name;
    sl->list->service[sl->list->n_service++] = s;
}

static void set_services(clm_arena *arena, const descset *set, reflection_response *resp)
{
    service_list sl = {arena, clm_arena_alloc(arena, sizeof(*sl.list)), 256};

    grpc__reflection__v1alpha__list_service_response__init(sl.list);
    sl.list->service = clm_arena_alloc(arena, sl.cap * sizeof(*sl.list->service));
    descset_each_symbol(set, DESCSET_SERVICE, add_service, &sl);
    resp->message_response_case =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
    resp->list_services_response = sl.list;
}

enum { CODE_NOT_FOUND = 5, CODE_UNIMPLEMENTED = 12, CODE_INVALID_ARGUMENT = 3 };

static void answer(clm_arena *arena, const descset *set, const reflection_request *req,
                   reflection_response *resp)
{
    size_t index;
    const descset_symbol *symbol;

    switch (req->message_request_case) {
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
        set_services(arena, set, resp);
        return;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        if (descset_find_file(set, req->file_by_filename, &index) != NULL)
            set_file(arena, set, index, resp);
        else
            set_error(arena, resp, CODE_NOT_FOUND, "file not found");
        return;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
        symbol = descset_find_symbol(set, req->file_containing_symbol);
        if (symbol != NULL)
            set_file(arena, set, symbol->file, resp);
        else
            set_error(arena, resp, CODE_NOT_FOUND, "symbol not found");
        return;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
        set_error(arena, resp, CODE_NOT_FOUND, "clm defines no extensions");
        return;
    default:
        set_error(arena, resp, CODE_INVALID_ARGUMENT, "message_request: none set");
        return;
    }
}

static clm_err reflection_info(rpc_call *call, const ProtobufCMessage *unused)
{
    clm_app *app = rpc_call_app(call);
    clm_arena *arena = rpc_call_arena(call);

    (void)unused;
    for (int served = 0;; served++) {
        ProtobufCMessage *msg;
        reflection_response resp = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__INIT;
        clm_err err = rpc_call_recv(call, &msg);

        if (err != CLM_OK)
            return err;
        if (msg == NULL)
            return CLM_OK; /* the client closed its side */
        const reflection_request *req = (const reflection_request *)msg;
        resp.valid_host = req->host;
        resp.original_request = (reflection_request *)req;
        answer(arena, app->descriptors, req, &resp);
        if ((err = rpc_call_send(call, &resp.base)) != CLM_OK)
            return err;
        /* Each request and answer stays in the call's arena until the call ends:
           bound a session so one client cannot grow it without limit. */
        if (served >= 10000)
            return clm_fail(CLM_ERR_NO_MEMORY, "more than 10000 requests in one reflection "
                                               "session; open a new one");
    }
}

const rpc_method reflection_v1alpha_methods[] = {
    {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", RPC_BIDI_STREAMING,
     RPC_ROLES_ANY, 0, &grpc__reflection__v1alpha__server_reflection_request__descriptor,
     &grpc__reflection__v1alpha__server_reflection_response__descriptor, NULL,
     reflection_info},
};
const size_t reflection_v1alpha_methods_count = 1;

const rpc_method reflection_v1_methods[] = {
    {"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", RPC_BIDI_STREAMING,
     RPC_ROLES_ANY, 0, &grpc__reflection__v1alpha__server_reflection_request__descriptor,
     &grpc__reflection__v1alpha__server_reflection_response__descriptor, NULL,
     reflection_info},
};
const size_t reflection_v1_methods_count = 1;
