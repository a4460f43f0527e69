/*
 * tools/clmctl/registry.h: the services compiled into clmctl (protobuf-c
 * descriptors), so `clmctl call` can turn JSON into the request message and the
 * reply back into JSON. A service is added by adding its descriptor to registry.c.
 */
#ifndef CLM_TOOLS_CLMCTL_REGISTRY_H
#define CLM_TOOLS_CLMCTL_REGISTRY_H

#include <protobuf-c/protobuf-c.h>

/**
 * @brief Find a method by "pkg.Service/Method", "pkg.Service.Method" or
 * "/pkg.Service/Method" (a leading dot is accepted too).
 * @param[out] path the canonical "/pkg.Service/Method" (at least 256 bytes).
 * @return the method, or NULL when no compiled service has it.
 */
const ProtobufCMethodDescriptor *registry_find_method(const char *name, char *path,
                                                      size_t path_size);

#endif
