/*
 * lib/protodesc/descset.h: an index over protobuf FileDescriptorProtos.
 *
 * Server reflection (clmd) answers "which file defines symbol X" and "give me file
 * Y" from it; clmctl uses it on the files it received over reflection to describe
 * services and messages. Symbols are package-qualified without a leading dot:
 * "clm.v1.Admin", "clm.v1.Admin.GetVersion", "clm.v1.GetVersionResponse".
 *
 * Memory: the set owns copies of every file it was given; pointers it returns live
 * until descset_free.
 * Thread rules: build on one thread; lookups on a finished set may run concurrently.
 */
#ifndef CLM_LIB_PROTODESC_DESCSET_H
#define CLM_LIB_PROTODESC_DESCSET_H

#include <stddef.h>
#include <stdint.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "lib/base/error.h"

typedef enum descset_kind {
    DESCSET_MESSAGE = 0,
    DESCSET_ENUM,
    DESCSET_SERVICE,
    DESCSET_METHOD
} descset_kind;

typedef struct descset_symbol {
    char *name;       /* full name */
    descset_kind kind;
    size_t file;      /* index of the defining file */
    const void *proto; /* DescriptorProto, EnumDescriptorProto, ServiceDescriptorProto
                          or MethodDescriptorProto, by kind */
} descset_symbol;

typedef struct descset_file {
    char *name;
    ProtobufCBinaryData raw; /* the serialized FileDescriptorProto */
    Google__Protobuf__FileDescriptorProto *proto;
} descset_file;

typedef struct descset descset;

/** @return an empty set, or NULL when out of memory. */
descset *descset_new(void);
void descset_free(descset *set);

/**
 * @brief Add every file of a serialized FileDescriptorSet.
 * @return CLM_OK; CLM_ERR_PARSE when the bytes are not a FileDescriptorSet.
 */
clm_err descset_add_set(descset *set, const uint8_t *data, size_t len);

/**
 * @brief Add one serialized FileDescriptorProto; a file already present (same name)
 * is ignored. @return CLM_OK; CLM_ERR_PARSE.
 */
clm_err descset_add_file(descset *set, const uint8_t *data, size_t len);

/** Number of files, and file i (0-based). */
size_t descset_file_count(const descset *set);
const descset_file *descset_file_at(const descset *set, size_t index);

/** @return the file named `name`, or NULL. */
const descset_file *descset_find_file(const descset *set, const char *name, size_t *index);

/** @return the symbol (leading '.' accepted), or NULL. */
const descset_symbol *descset_find_symbol(const descset *set, const char *name);

/** Symbols of one kind in name order: calls fn for each. */
void descset_each_symbol(const descset *set, descset_kind kind,
                         void (*fn)(const descset_symbol *symbol, void *arg), void *arg);

/**
 * @brief The file at `index` and all its transitive dependencies present in the
 * set, dependencies first, each once. `order` must hold descset_file_count entries.
 * @return how many indexes were written.
 */
size_t descset_closure(const descset *set, size_t index, size_t *order);

#endif
