/*
 * appliance/api/reflection.h: gRPC server reflection, grpc.reflection.v1alpha and
 * grpc.reflection.v1, answered from the descriptor set compiled into clmd
 * (proto/descriptor_set.h), so grpcurl-style tools need no .proto files.
 */
#ifndef CLM_APPLIANCE_API_REFLECTION_H
#define CLM_APPLIANCE_API_REFLECTION_H

#include <stddef.h>

#include "appliance/rpc/rpc.h"

extern const rpc_method reflection_v1alpha_methods[];
extern const size_t reflection_v1alpha_methods_count;
extern const rpc_method reflection_v1_methods[];
extern const size_t reflection_v1_methods_count;

#endif
