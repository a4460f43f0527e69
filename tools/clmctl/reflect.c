/* tools/clmctl/reflect.c: one reflection request, one reply. */
#include "tools/clmctl/reflect.h"

#include <stdlib.h>
#include <string.h>

#include "grpc/reflection/v1alpha/reflection.pb-c.h"

#define REFLECTION_PATH "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"

typedef Grpc__Reflection__V1alpha__ServerReflectionRequest reflection_request;
typedef Grpc__Reflection__V1alpha__ServerReflectionResponse reflection_response;

static clm_err ask(clm_client *client, const reflection_request *req, reflection_response **resp)
{
    client_stream *s;
    ProtobufCMessage *msg = NULL;
    clm_err err;

    *resp = NULL;
    if ((err = client_stream_open(client, REFLECTION_PATH, &s)) != CLM_OK)
        return err;
    client_stream_send(s, &req->base);
    client_stream_close_send(s);
    client_stream_recv(s, &grpc__reflection__v1alpha__server_reflection_response__descriptor,
                       &msg);
    err = client_stream_finish(s);
    if (err != CLM_OK) {
        if (msg)
            protobuf_c_message_free_unpacked(msg, NULL);
        return err;
    }
    if (msg == NULL)
        return clm_fail(CLM_ERR_PARSE, "reflection: the server sent no answer");
    *resp = (reflection_response *)msg;
    if ((*resp)->message_response_case ==
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE) {
        err = clm_fail((*resp)->error_response->error_code == 5 ? CLM_ERR_NOT_FOUND
                                                                 : CLM_ERR_UNAVAILABLE,
                       "reflection: %s", (*resp)->error_response->error_message);
        protobuf_c_message_free_unpacked(msg, NULL);
        *resp = NULL;
    }
    return err;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

clm_err reflect_list_services(clm_client *client, char ***names, size_t *count)
{
    reflection_request req = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__INIT;
    reflection_response *resp;
    clm_err err;

    *names = NULL;
    *count = 0;
    req.message_request_case =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES;
    req.list_services = "*";
    if ((err = ask(client, &req, &resp)) != CLM_OK)
        return err;
    if (resp->message_response_case !=
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE) {
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return clm_fail(CLM_ERR_PARSE, "reflection: unexpected answer to list_services");
    }
    size_t n = resp->list_services_response->n_service;
    *names = calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; *names && i < n; i++)
        (*names)[i] = strdup(resp->list_services_response->service[i]->name);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    if (*names == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    *count = n;
    qsort(*names, n, sizeof(char *), name_cmp);
    return CLM_OK;
}

void reflect_free_names(char **names, size_t count)
{
    for (size_t i = 0; names && i < count; i++)
        free(names[i]);
    free(names);
}

clm_err reflect_load_symbol(clm_client *client, descset *set, const char *symbol)
{
    reflection_request req = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__INIT;
    reflection_response *resp;
    clm_err err;

    if (descset_find_symbol(set, symbol) != NULL)
        return CLM_OK;
    req.message_request_case =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL;
    req.file_containing_symbol = (char *)symbol;
    if ((err = ask(client, &req, &resp)) != CLM_OK)
        return err;
    if (resp->message_response_case !=
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE) {
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return clm_fail(CLM_ERR_PARSE, "reflection: unexpected answer for %s", symbol);
    }
    const Grpc__Reflection__V1alpha__FileDescriptorResponse *f = resp->file_descriptor_response;
    for (size_t i = 0; i < f->n_file_descriptor_proto && err == CLM_OK; i++)
        err = descset_add_file(set, f->file_descriptor_proto[i].data,
                               f->file_descriptor_proto[i].len);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    if (err == CLM_OK && descset_find_symbol(set, symbol) == NULL)
        err = clm_fail(CLM_ERR_NOT_FOUND, "%s: not defined by the server", symbol);
    return err;
}
