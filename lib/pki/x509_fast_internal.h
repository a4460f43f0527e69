/*
 * lib/pki/x509_fast_internal.h: what the two files of the fast certificate reader
 * share (x509_fast.c: the certificate and its extensions; x509_fast_name.c: names and
 * directory strings). Not a public header.
 */
#ifndef CLM_LIB_PKI_X509_FAST_INTERNAL_H
#define CLM_LIB_PKI_X509_FAST_INTERNAL_H

#include "lib/pki/der.h"
#include "lib/pki/facts.h"

#include <stdbool.h>
#include <stddef.h>

/* Most attributes one distinguished name may have here (more: refused). */
#define PKI_FAST_NAME_ATTRS_MAX 64

/** One call's state: the facts being built and why the call refuses, if it does. */
typedef struct pki_fast {
    pki_facts *f;
    const char *why; /* the first reason for refusing (static text) */
    bool no_memory;
} pki_fast;

/** Refuse the certificate (CLM_ERR_UNSUPPORTED). @return false. */
static inline bool pki_fast_refuse(pki_fast *x, const char *why)
{
    if (x->why == NULL)
        x->why = why;
    return false;
}

/** Refuse for lack of memory (CLM_ERR_NO_MEMORY). @return false. */
static inline bool pki_fast_oom(pki_fast *x)
{
    x->no_memory = true;
    return pki_fast_refuse(x, "out of memory");
}

typedef struct pki_fast_attr {
    const unsigned char *oid;
    size_t oid_len;
    pki_der_tlv value;
    int set; /* index of its RDN */
} pki_fast_attr;

typedef struct pki_fast_name {
    pki_der_tlv tlv; /* the whole Name */
    pki_fast_attr attrs[PKI_FAST_NAME_ATTRS_MAX];
    size_t n;
} pki_fast_name;

/** Parse and check a Name (values: the directory string types d2i_X509 accepts). */
bool pki_fast_parse_name(pki_fast *x, const pki_der_tlv *tlv, pki_fast_name *out);

/** The RFC 4514 text of a parsed name, in the facts' arena; NULL on refusal. */
char *pki_fast_name_text(pki_fast *x, const pki_fast_name *nm);

/** Set common_name from the last CN of a parsed name. */
bool pki_fast_name_cn(pki_fast *x, const pki_fast_name *nm);

/** Strict UTF-8: no overlong forms, no surrogates, at most U+10FFFF. */
bool pki_fast_utf8_valid(const unsigned char *s, size_t len);

/** Width of a directory string type (0 UTF-8, 1 Latin-1, 2 BMP, 4 Universal), -1 other. */
int pki_fast_string_width(unsigned char tag);

/** A directory string OpenSSL's decoder accepts. */
bool pki_fast_string_valid(unsigned char tag, const unsigned char *v, size_t len);

/** A valid directory string as UTF-8 text (pki_facts_text rules), in the arena. */
char *pki_fast_string_text(pki_fast *x, unsigned char tag, const unsigned char *v, size_t len);

#endif
