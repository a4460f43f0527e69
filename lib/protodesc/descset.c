/* lib/protodesc/descset.c: files and symbols of a set of FileDescriptorProtos. */
#include "lib/protodesc/descset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct descset {
    descset_file *files;
    size_t nfiles;
    descset_symbol *symbols; /* sorted by name once `sorted` */
    size_t nsymbols, capsymbols;
    int sorted;
};

descset *descset_new(void)
{
    return calloc(1, sizeof(descset));
}

void descset_free(descset *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->nfiles; i++) {
        free(set->files[i].name);
        free(set->files[i].raw.data);
        google__protobuf__file_descriptor_proto__free_unpacked(set->files[i].proto, NULL);
    }
    for (size_t i = 0; i < set->nsymbols; i++)
        free(set->symbols[i].name);
    free(set->files);
    free(set->symbols);
    free(set);
}

static clm_err add_symbol(descset *set, const char *scope, const char *name,
                          descset_kind kind, size_t file, const void *proto)
{
    size_t len = strlen(scope) + strlen(name) + 2;
    char *full = malloc(len);

    if (full == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    snprintf(full, len, "%s%s%s", scope, scope[0] ? "." : "", name);
    if (set->nsymbols == set->capsymbols) {
        size_t cap = set->capsymbols ? set->capsymbols * 2 : 64;
        descset_symbol *grown = realloc(set->symbols, cap * sizeof(*grown));
        if (grown == NULL) {
            free(full);
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        }
        set->symbols = grown;
        set->capsymbols = cap;
    }
    set->symbols[set->nsymbols++] = (descset_symbol){full, kind, file, proto};
    set->sorted = 0;
    return CLM_OK;
}

static clm_err add_message(descset *set, const char *scope,
                           const Google__Protobuf__DescriptorProto *m, size_t file)
{
    char inner[1024];
    clm_err err = add_symbol(set, scope, m->name, DESCSET_MESSAGE, file, m);

    if (err != CLM_OK)
        return err;
    snprintf(inner, sizeof(inner), "%s%s%s", scope, scope[0] ? "." : "", m->name);
    for (size_t i = 0; i < m->n_nested_type; i++)
        if ((err = add_message(set, inner, m->nested_type[i], file)) != CLM_OK)
            return err;
    for (size_t i = 0; i < m->n_enum_type; i++)
        if ((err = add_symbol(set, inner, m->enum_type[i]->name, DESCSET_ENUM, file,
                              m->enum_type[i])) != CLM_OK)
            return err;
    return CLM_OK;
}

static clm_err index_file(descset *set, size_t index)
{
    const Google__Protobuf__FileDescriptorProto *f = set->files[index].proto;
    const char *pkg = f->package ? f->package : "";
    clm_err err;

    for (size_t i = 0; i < f->n_message_type; i++)
        if ((err = add_message(set, pkg, f->message_type[i], index)) != CLM_OK)
            return err;
    for (size_t i = 0; i < f->n_enum_type; i++)
        if ((err = add_symbol(set, pkg, f->enum_type[i]->name, DESCSET_ENUM, index,
                              f->enum_type[i])) != CLM_OK)
            return err;
    for (size_t i = 0; i < f->n_service; i++) {
        const Google__Protobuf__ServiceDescriptorProto *s = f->service[i];
        char service[1024];
        if ((err = add_symbol(set, pkg, s->name, DESCSET_SERVICE, index, s)) != CLM_OK)
            return err;
        snprintf(service, sizeof(service), "%s%s%s", pkg, pkg[0] ? "." : "", s->name);
        for (size_t m = 0; m < s->n_method; m++)
            if ((err = add_symbol(set, service, s->method[m]->name, DESCSET_METHOD, index,
                                  s->method[m])) != CLM_OK)
                return err;
    }
    return CLM_OK;
}

clm_err descset_add_file(descset *set, const uint8_t *data, size_t len)
{
    Google__Protobuf__FileDescriptorProto *proto;
    descset_file *grown;

    proto = google__protobuf__file_descriptor_proto__unpack(NULL, len, data);
    if (proto == NULL || proto->name == NULL || proto->name[0] == '\0') {
        google__protobuf__file_descriptor_proto__free_unpacked(proto, NULL);
        return clm_fail(CLM_ERR_PARSE, "not a FileDescriptorProto");
    }
    if (descset_find_file(set, proto->name, NULL) != NULL) {
        google__protobuf__file_descriptor_proto__free_unpacked(proto, NULL);
        return CLM_OK;
    }
    grown = realloc(set->files, (set->nfiles + 1) * sizeof(*grown));
    if (grown == NULL) {
        google__protobuf__file_descriptor_proto__free_unpacked(proto, NULL);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    set->files = grown;
    descset_file *f = &set->files[set->nfiles];
    f->proto = proto;
    f->name = strdup(proto->name);
    f->raw.len = len;
    f->raw.data = malloc(len ? len : 1);
    if (f->name == NULL || f->raw.data == NULL) {
        free(f->name);
        free(f->raw.data);
        google__protobuf__file_descriptor_proto__free_unpacked(proto, NULL);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    memcpy(f->raw.data, data, len);
    set->nfiles++;
    return index_file(set, set->nfiles - 1);
}

clm_err descset_add_set(descset *set, const uint8_t *data, size_t len)
{
    Google__Protobuf__FileDescriptorSet *fds =
        google__protobuf__file_descriptor_set__unpack(NULL, len, data);
    clm_err err = CLM_OK;

    if (fds == NULL)
        return clm_fail(CLM_ERR_PARSE, "not a FileDescriptorSet");
    for (size_t i = 0; i < fds->n_file && err == CLM_OK; i++) {
        size_t size = google__protobuf__file_descriptor_proto__get_packed_size(fds->file[i]);
        uint8_t *buf = malloc(size ? size : 1);
        if (buf == NULL) {
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            break;
        }
        google__protobuf__file_descriptor_proto__pack(fds->file[i], buf);
        err = descset_add_file(set, buf, size);
        free(buf);
    }
    google__protobuf__file_descriptor_set__free_unpacked(fds, NULL);
    return err;
}

size_t descset_file_count(const descset *set)
{
    return set->nfiles;
}

const descset_file *descset_file_at(const descset *set, size_t index)
{
    return index < set->nfiles ? &set->files[index] : NULL;
}

const descset_file *descset_find_file(const descset *set, const char *name, size_t *index)
{
    for (size_t i = 0; i < set->nfiles; i++) {
        if (strcmp(set->files[i].name, name) == 0) {
            if (index)
                *index = i;
            return &set->files[i];
        }
    }
    return NULL;
}

static int symbol_cmp(const void *a, const void *b)
{
    return strcmp(((const descset_symbol *)a)->name, ((const descset_symbol *)b)->name);
}

static void ensure_sorted(const descset *cset)
{
    descset *set = (descset *)cset; /* sorting is a cache; lookups after build only */

    if (!set->sorted) {
        qsort(set->symbols, set->nsymbols, sizeof(*set->symbols), symbol_cmp);
        set->sorted = 1;
    }
}

const descset_symbol *descset_find_symbol(const descset *set, const char *name)
{
    descset_symbol key;

    ensure_sorted(set);
    key.name = (char *)(name[0] == '.' ? name + 1 : name);
    return bsearch(&key, set->symbols, set->nsymbols, sizeof(key), symbol_cmp);
}

void descset_each_symbol(const descset *set, descset_kind kind,
                         void (*fn)(const descset_symbol *symbol, void *arg), void *arg)
{
    ensure_sorted(set);
    for (size_t i = 0; i < set->nsymbols; i++) {
        if (set->symbols[i].kind == kind)
            fn(&set->symbols[i], arg);
    }
}

static size_t closure_visit(const descset *set, size_t index, unsigned char *seen,
                            size_t *order, size_t n)
{
    const Google__Protobuf__FileDescriptorProto *f = set->files[index].proto;

    seen[index] = 1;
    for (size_t d = 0; d < f->n_dependency; d++) {
        size_t dep;
        if (descset_find_file(set, f->dependency[d], &dep) != NULL && !seen[dep])
            n = closure_visit(set, dep, seen, order, n);
    }
    order[n++] = index;
    return n;
}

size_t descset_closure(const descset *set, size_t index, size_t *order)
{
    unsigned char *seen = calloc(set->nfiles ? set->nfiles : 1, 1);
    size_t n;

    if (seen == NULL || index >= set->nfiles) {
        free(seen);
        return 0;
    }
    n = closure_visit(set, index, seen, order, 0);
    free(seen);
    return n;
}
