/* tools/clmctl/registry.c: the compiled-in service descriptors. */
#include "tools/clmctl/registry.h"

#include <stdio.h>
#include <string.h>

#include "clm/v1/admin.pb-c.h"
#include "clm/v1/connectors.pb-c.h"
#include "clm/v1/endpoints.pb-c.h"
#include "clm/v1/groups.pb-c.h"
#include "clm/v1/inventory.pb-c.h"
#include "clm/v1/jobs.pb-c.h"
#include "clm/v1/reports.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "grpc/reflection/v1alpha/reflection.pb-c.h"

static const ProtobufCServiceDescriptor *const services[] = {
    &clm__v1__admin__descriptor,
    &clm__v1__connectors__descriptor,
    &clm__v1__endpoints__descriptor,
    &clm__v1__groups__descriptor,
    &clm__v1__inventory__descriptor,
    &clm__v1__jobs__descriptor,
    &clm__v1__reports__descriptor,
    &grpc__health__v1__health__descriptor,
    &grpc__reflection__v1alpha__server_reflection__descriptor,
};

const ProtobufCMethodDescriptor *registry_find_method(const char *name, char *path,
                                                      size_t path_size)
{
    char service[256];
    const char *method;
    const char *sep;

    while (*name == '/' || *name == '.')
        name++;
    sep = strchr(name, '/');
    if (sep == NULL)
        sep = strrchr(name, '.');
    if (sep == NULL || (size_t)(sep - name) >= sizeof(service))
        return NULL;
    memcpy(service, name, (size_t)(sep - name));
    service[sep - name] = '\0';
    method = sep + 1;
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        if (strcmp(services[i]->name, service) != 0)
            continue;
        const ProtobufCMethodDescriptor *m =
            protobuf_c_service_descriptor_get_method_by_name(services[i], method);
        if (m != NULL)
            snprintf(path, path_size, "/%s/%s", service, m->name);
        return m;
    }
    return NULL;
}
