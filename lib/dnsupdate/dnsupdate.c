/*
 * lib/dnsupdate/dnsupdate.c: the contract of dnsupdate.h: the arguments checked (a bad
 * one is named, nothing is sent), the zone found by the SOA walk when not given, one
 * UPDATE built with libldns (RFC 2136 2.5.1 add, 2.5.2 delete an RRset, 2.5.4 delete an
 * RR) and sent (dnsupdate_internal.h).
 */
#include "lib/dnsupdate/dnsupdate.h"

#include "lib/base/clock.h"
#include "lib/dnsupdate/dnsupdate_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_TTL 60
#define MAX_TTL 2147483647u /* RFC 2181 8 */
#define MAX_NAME 253        /* text form, without the root's dot */
#define MAX_VALUE 255       /* one TXT character-string */

/* What a call works with once its arguments passed. */
typedef struct call {
    const char *server; /* the caller's text, for messages */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    dnsupdate_key key; /* key.name NULL: unsigned */
    char key_name[MAX_NAME + 2];
    char name_text[MAX_NAME + 2]; /* the record's name, absolute */
    ldns_rdf *name;               /* the record's name */
    ldns_rdf *zone;               /* the caller's zone, or NULL until the walk found one */
    int64_t deadline_ns;
} call;

static void call_free(call *c)
{
    ldns_rdf_deep_free(c->name);
    ldns_rdf_deep_free(c->zone);
    c->name = NULL;
    c->zone = NULL;
}

/* ---- arguments ---- */

static clm_err parse_port(const char *text, uint16_t *port)
{
    char *end;
    long value;

    if (!isdigit((unsigned char)text[0]))
        return CLM_ERR_INVALID_ARGUMENT;
    value = strtol(text, &end, 10);
    if (*end != '\0' || value < 1 || value > 65535)
        return CLM_ERR_INVALID_ARGUMENT;
    *port = (uint16_t)value;
    return CLM_OK;
}

/* "ADDRESS", "ADDRESS:PORT", "[IPV6]", "[IPV6]:PORT" or a bare IPv6 address. */
static clm_err parse_server(const char *text, call *c)
{
    char host[64];
    const char *port_text = NULL;
    uint16_t port = 53;
    const char *colon;
    size_t len;

    if (text == NULL || text[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "server: required (the zone's primary as \"ADDRESS\" or \"ADDRESS:PORT\")");
    len = strlen(text);
    if (len >= sizeof(host) + 8)
        goto bad;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');

        if (close == NULL || (size_t)(close - text - 1) >= sizeof(host))
            goto bad;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        if (close[1] == ':')
            port_text = close + 2;
        else if (close[1] != '\0')
            goto bad;
    } else if ((colon = strchr(text, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
        if ((size_t)(colon - text) >= sizeof(host))
            goto bad;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port_text = colon + 1;
    } else {
        if (len >= sizeof(host))
            goto bad;
        memcpy(host, text, len + 1);
    }
    if (port_text != NULL && parse_port(port_text, &port) != CLM_OK)
        goto bad;
    memset(&c->addr, 0, sizeof(c->addr));
    if (text[0] != '[' &&
        inet_pton(AF_INET, host, &((struct sockaddr_in *)&c->addr)->sin_addr) == 1) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&c->addr;

        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        c->addr_len = sizeof(*sin);
    } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&c->addr)->sin6_addr) == 1) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c->addr;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        c->addr_len = sizeof(*sin6);
    } else {
        goto bad;
    }
    c->server = text;
    return CLM_OK;
bad:
    return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                    "server: \"%.80s\" is not an IP address with an optional port (\"192.0.2.1\", "
                    "\"192.0.2.1:53\", \"[2001:db8::1]:53\"); names are not resolved",
                    text);
}

/* A host-style domain name: letters, digits, '-' and '_' in labels of 1-63, at most 253
 * characters; absolute or not. Writes the absolute text form to out. */
static clm_err check_name(const char *field, const char *text, char *out, size_t out_size)
{
    size_t len, label = 0;

    if (text == NULL || text[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: required (a domain name)", field);
    len = strlen(text);
    if (len > 0 && text[len - 1] == '.')
        len--;
    if (len == 0 || len > MAX_NAME)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%s: \"%.80s\" is not a domain name of 1-%d characters", field, text,
                        MAX_NAME);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];

        if (ch == '.') {
            if (label == 0)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: \"%.80s\" has an empty label", field,
                                text);
            label = 0;
        } else if (isalnum(ch) || ch == '-' || ch == '_') {
            if (++label > 63)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "%s: \"%.80s\" has a label longer than 63 characters", field, text);
        } else {
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%s: \"%.80s\" holds a character other than letters, digits, '-', "
                            "'_' and '.'",
                            field, text);
        }
    }
    if (label == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: \"%.80s\" has an empty label", field, text);
    if (out_size < len + 2)
        return clm_fail(CLM_ERR_INTERNAL, "%s: no room for the name", field);
    memcpy(out, text, len);
    out[len] = '.';
    out[len + 1] = '\0';
    return CLM_OK;
}

static clm_err dname_of(const char *field, const char *absolute, ldns_rdf **out)
{
    *out = ldns_dname_new_frm_str(absolute);
    if (*out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: \"%s\" is not a domain name", field,
                        absolute);
    return CLM_OK;
}

/* The algorithms dnsupdate.h offers, with their names on the wire. */
static clm_err check_algorithm(const char *text, const char **wire_name)
{
    static const struct {
        const char *name;
        const char *wire;
        bool usable;
    } algorithms[] = {
        {"hmac-sha256", "hmac-sha256.", true},
        {"hmac-sha512", "hmac-sha512.", true},
        {"hmac-sha1", "hmac-sha1.", true},
        /* libldns 1.8.3 looks this one up as "hmac-shac384." (a typo in its tsig.c), so
         * it can neither sign nor verify it. */
        {"hmac-sha384", "hmac-sha384.", false},
    };
    size_t len;

    if (text == NULL) {
        *wire_name = algorithms[0].wire;
        return CLM_OK;
    }
    len = strlen(text);
    if (len > 0 && text[len - 1] == '.')
        len--;
    for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++) {
        if (strlen(algorithms[i].name) != len || strncasecmp(text, algorithms[i].name, len) != 0)
            continue;
        if (!algorithms[i].usable)
            return clm_fail(CLM_ERR_UNSUPPORTED,
                            "tsig_algorithm: %s cannot be used with Debian's libldns 1.8.3; use "
                            "hmac-sha256 or hmac-sha512",
                            algorithms[i].name);
        *wire_name = algorithms[i].wire;
        return CLM_OK;
    }
    return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                    "tsig_algorithm: \"%.40s\" is not one of hmac-sha256, hmac-sha512, hmac-sha1",
                    text);
}

/* Base64 as tsig-keygen prints it; decoded only to check it, then wiped. */
static clm_err check_secret(const char *secret)
{
    size_t len, size, pad = 0;
    unsigned char *bytes;
    int n;

    if (secret == NULL || secret[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "tsig_secret: required with tsig_name");
    len = strlen(secret);
    if (len > 4096)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "tsig_secret: longer than 4096 characters");
    for (size_t i = 0; i < len; i++) {
        if (secret[i] == '=' && i + 2 >= len && secret[len - 1] == '=')
            pad++;
        else if (!isalnum((unsigned char)secret[i]) && secret[i] != '+' && secret[i] != '/')
            pad = 3; /* not base64 */
    }
    if (len % 4 != 0 || pad > 2 || len - pad < 2)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "tsig_secret: not base64 (give the secret as tsig-keygen prints it)");
    size = len / 4 * 3;
    bytes = malloc(size + 1);
    if (bytes == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "tsig_secret: out of memory");
    n = EVP_DecodeBlock(bytes, (const unsigned char *)secret, (int)len);
    OPENSSL_cleanse(bytes, size + 1);
    free(bytes);
    if (n <= 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "tsig_secret: not base64 (give the secret as tsig-keygen prints it)");
    return CLM_OK;
}

/* Everything of the server description; c->zone set when one is given. */
static clm_err check_server(const dnsupdate_server *server, call *c)
{
    char zone_text[MAX_NAME + 2];
    clm_err err;

    memset(c, 0, sizeof(*c));
    if (server == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "server: required");
    if ((err = parse_server(server->server, c)) != CLM_OK)
        return err;
    if (server->timeout_ms < 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "timeout_ms: %d is negative (0: %d ms)",
                        server->timeout_ms, DEFAULT_TIMEOUT_MS);
    if (server->tsig_name != NULL) {
        if ((err = check_name("tsig_name", server->tsig_name, c->key_name, sizeof(c->key_name))) !=
                CLM_OK ||
            (err = check_algorithm(server->tsig_algorithm, &c->key.algorithm)) != CLM_OK ||
            (err = check_secret(server->tsig_secret)) != CLM_OK)
            return err;
        c->key.name = c->key_name;
        c->key.secret = server->tsig_secret;
    } else if (server->tsig_secret != NULL) {
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "tsig_name: required with tsig_secret");
    } else if (server->tsig_algorithm != NULL) {
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "tsig_algorithm: given without tsig_name");
    }
    if (server->zone != NULL &&
        ((err = check_name("zone", server->zone, zone_text, sizeof(zone_text))) != CLM_OK ||
         (err = dname_of("zone", zone_text, &c->zone)) != CLM_OK))
        return err;
    c->deadline_ns =
        dnsupdate_now_ns() +
        (int64_t)(server->timeout_ms > 0 ? server->timeout_ms : DEFAULT_TIMEOUT_MS) * CLM_NS_PER_MS;
    return CLM_OK;
}

static clm_err check_call(const dnsupdate_server *server, const char *name, call *c)
{
    clm_err err;

    if ((err = check_server(server, c)) != CLM_OK)
        return err;
    if ((err = check_name("name", name, c->name_text, sizeof(c->name_text))) != CLM_OK ||
        (err = dname_of("name", c->name_text, &c->name)) != CLM_OK)
        return err;
    if (c->zone != NULL && ldns_dname_compare(c->name, c->zone) != 0 &&
        !ldns_dname_is_subdomain(c->name, c->zone))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "name: %s is not inside zone %s", c->name_text,
                        server->zone);
    return CLM_OK;
}

static clm_err check_value(const char *value)
{
    size_t len;

    if (value == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "value: required (the TXT string)");
    len = strlen(value);
    if (len == 0 || len > MAX_VALUE)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "value: %zu bytes; a TXT string holds 1-%d", len,
                        MAX_VALUE);
    return CLM_OK;
}

/* ---- the zone ---- */

/* nsupdate's way: ask the server for the SOA of the name, then of each parent. */
static clm_err find_zone(call *c)
{
    ldns_rdf *qname = ldns_rdf_clone(c->name);
    clm_err err = CLM_ERR_NOT_FOUND;

    while (qname != NULL && ldns_dname_label_count(qname) > 0) {
        dnsupdate_request req = {.server = c->server};
        ldns_pkt *answer = NULL;
        ldns_rdf *parent;

        err = dnsupdate_request_finish(
            &req, ldns_pkt_query_new(ldns_rdf_clone(qname), LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0),
            &c->key);
        if (err == CLM_OK)
            err = dnsupdate_exchange(&req, &c->addr, c->addr_len, c->deadline_ns, &answer);
        dnsupdate_request_free(&req);
        if (err != CLM_OK)
            break;
        err = dnsupdate_soa_zone(answer, qname, &c->zone);
        ldns_pkt_free(answer);
        if (err != CLM_ERR_NOT_FOUND)
            break;
        parent = ldns_dname_left_chop(qname);
        ldns_rdf_deep_free(qname);
        qname = parent;
    }
    ldns_rdf_deep_free(qname);
    if (err == CLM_ERR_NOT_FOUND)
        return clm_fail(CLM_ERR_NOT_FOUND,
                        "%s: no zone on this server holds %s (no SOA for it or a parent); give "
                        "the zone or check the name",
                        c->server, c->name_text);
    if (err == CLM_OK && c->zone == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory walking to the zone");
    return err == CLM_OK ? CLM_OK : clm_error_context(err, "finding the zone of %s", c->name_text);
}

/* ---- the update ---- */

/* The TXT RDATA from bytes: every byte outside [A-Za-z0-9_-] as \DDD, parsed by libldns. */
static ldns_rdf *txt_rdata(const char *value)
{
    char text[MAX_VALUE * 4 + 1];
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_')
            text[n++] = (char)*p;
        else
            n += (size_t)snprintf(text + n, sizeof(text) - n, "\\%03u", *p);
    }
    text[n] = '\0';
    return ldns_rdf_new_frm_str(LDNS_RDF_TYPE_STR, text);
}

static clm_err send_update(call *c, ldns_rr_class rr_class, uint32_t ttl, const char *value)
{
    dnsupdate_request req = {.server = c->server};
    ldns_rr_list *updates = ldns_rr_list_new();
    ldns_rr *rr = ldns_rr_new();
    ldns_pkt *answer = NULL;
    ldns_rdf *rdata = NULL;
    clm_err err;

    if (updates == NULL || rr == NULL || (value != NULL && (rdata = txt_rdata(value)) == NULL) ||
        !ldns_rr_list_push_rr(updates, rr)) {
        ldns_rr_free(rr);
        ldns_rdf_deep_free(rdata);
        ldns_rr_list_free(updates);
        return clm_fail(CLM_ERR_NO_MEMORY, "%s: out of memory building the update", c->server);
    }
    ldns_rr_set_owner(rr, ldns_rdf_clone(c->name));
    ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
    ldns_rr_set_class(rr, rr_class);
    ldns_rr_set_ttl(rr, ttl);
    if (rdata != NULL)
        ldns_rr_push_rdf(rr, rdata);

    if (c->zone == NULL && (err = find_zone(c)) != CLM_OK) {
        ldns_rr_list_deep_free(updates);
        return err;
    }
    /* ldns_update_pkt_new takes the zone's name and copies the update list. */
    {
        ldns_pkt *pkt =
            ldns_update_pkt_new(ldns_rdf_clone(c->zone), LDNS_RR_CLASS_IN, NULL, updates, NULL);

        if (pkt != NULL)
            ldns_pkt_set_rd(pkt, false); /* RFC 2136 2.2: no RD in an UPDATE */
        err = dnsupdate_request_finish(&req, pkt, &c->key);
    }
    ldns_rr_list_deep_free(updates);
    if (err == CLM_OK)
        err = dnsupdate_exchange(&req, &c->addr, c->addr_len, c->deadline_ns, &answer);
    dnsupdate_request_free(&req);
    if (err != CLM_OK)
        return clm_error_context(err, "updating %s", c->name_text);
    err = dnsupdate_update_result(answer, c->server, c->name_text);
    ldns_pkt_free(answer);
    return err;
}

clm_err dnsupdate_txt_add(const dnsupdate_server *server, const char *name, const char *value,
                          uint32_t ttl)
{
    call c;
    clm_err err;

    if ((err = check_call(server, name, &c)) == CLM_OK && (err = check_value(value)) == CLM_OK) {
        if (ttl > MAX_TTL)
            err =
                clm_fail(CLM_ERR_INVALID_ARGUMENT, "ttl: %u is over %u (RFC 2181 8)", ttl, MAX_TTL);
        else
            err = send_update(&c, LDNS_RR_CLASS_IN, ttl != 0 ? ttl : DEFAULT_TTL, value);
    }
    call_free(&c);
    return err;
}

clm_err dnsupdate_txt_delete(const dnsupdate_server *server, const char *name, const char *value)
{
    call c;
    clm_err err;

    if ((err = check_call(server, name, &c)) == CLM_OK &&
        (value == NULL || (err = check_value(value)) == CLM_OK))
        err = send_update(&c, value != NULL ? LDNS_RR_CLASS_NONE : LDNS_RR_CLASS_ANY, 0, value);
    call_free(&c);
    return err;
}

clm_err dnsupdate_server_check(const dnsupdate_server *server)
{
    call c;
    clm_err err = check_server(server, &c);

    call_free(&c);
    return err;
}
