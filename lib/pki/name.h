/*
 * lib/pki/name.h: checks for the names that go into subjectAltName: DNS host names and
 * IP address literals.
 *
 * Thread rules: every function may be called from any thread.
 */
#ifndef CLM_LIB_PKI_NAME_H
#define CLM_LIB_PKI_NAME_H

#include "lib/base/error.h"

#include <stdbool.h>
#include <stddef.h>

/** Longest textual DNS name accepted (RFC 1035, without the trailing dot). */
#define PKI_DNS_NAME_MAX 253

/** Bytes an IP address takes in a certificate: 4 (IPv4) or 16 (IPv6). */
#define PKI_IP_MAX_BYTES 16

/**
 * @brief Check a DNS host name for a certificate: dot-separated labels of letters,
 * digits and inner hyphens (LDH), 1 to 63 characters each, at most 253 in all, no
 * trailing dot, not all-numeric in the last label (that would be an IP address).
 * @param[in] name            the name (NUL-terminated).
 * @param[in] allow_wildcard  accept "*." as the whole leftmost label ("*.example.com").
 * @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT with a message that quotes the name and
 *         says what is wrong ("\"my host\" is not a DNS name: it contains a space").
 */
clm_err pki_name_check_dns(const char *name, bool allow_wildcard);

/**
 * @brief Parse an IPv4 dotted-quad or IPv6 literal (inet_pton forms, no brackets, no
 * zone, no prefix length).
 * @param[in]  text  the literal.
 * @param[out] out   PKI_IP_MAX_BYTES bytes; receives the address in network order. May be NULL.
 * @param[out] len   receives 4 or 16. May be NULL.
 * @return true when text is an IP literal.
 */
bool pki_name_parse_ip(const char *text, unsigned char *out, size_t *len);

/**
 * @brief Format a 4- or 16-byte address as text (inet_ntop forms).
 * @param[out] out at least 46 bytes (INET6_ADDRSTRLEN).
 * @return CLM_OK, or CLM_ERR_PARSE when len is neither 4 nor 16.
 */
clm_err pki_name_format_ip(const unsigned char *addr, size_t len, char *out, size_t out_size);

#endif
