"""The system .proto files compiled with ours, and the names protoc-c gives outputs."""

# From Debian: well-known types, descriptor.proto, gRPC health and reflection.
PROTO_FILES = [
    "google/protobuf/descriptor.proto",
    "google/protobuf/duration.proto",
    "google/protobuf/timestamp.proto",
    "grpc/health/v1/health.proto",
    "grpc/reflection/v1alpha/reflection.proto",
    "grpc/reflection/v1/reflection.proto",
]

def protoc_c_outputs(protos):
    outs = []
    for p in protos:
        base = p[:-len(".proto")]
        outs.append(base + ".pb-c.c")
        outs.append(base + ".pb-c.h")
    return outs
