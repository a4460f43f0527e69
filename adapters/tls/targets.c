/* adapters/tls/targets.c: networks, port lists, limits, resolution: targets to endpoints. */
#include "adapters/tls/targets.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- networks ------------------------------------------------------------------------- */

/* ::ffff:a.b.c.d reaches a.b.c.d: keep it as IPv4. */
static void unmap_v4(tls_net *net)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (net->family != AF_INET6 || net->prefix < 96 || memcmp(net->addr, mapped, 12) != 0)
        return;
    memmove(net->addr, net->addr + 12, 4);
    memset(net->addr + 4, 0, 12);
    net->family = AF_INET;
    net->prefix -= 96;
}

/* An address literal, brackets allowed around IPv6. */
static bool parse_address(const char *text, tls_net *out)
{
    char copy[64];
    size_t len = strlen(text);

    memset(out, 0, sizeof *out);
    if (len >= sizeof copy)
        return false;
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        memcpy(copy, text + 1, len - 2);
        copy[len - 2] = '\0';
        if (inet_pton(AF_INET6, copy, out->addr) != 1)
            return false;
        out->family = AF_INET6;
        out->prefix = 128;
    } else if (inet_pton(AF_INET, text, out->addr) == 1) {
        out->family = AF_INET;
        out->prefix = 32;
    } else if (inet_pton(AF_INET6, text, out->addr) == 1) {
        out->family = AF_INET6;
        out->prefix = 128;
    } else {
        return false;
    }
    unmap_v4(out);
    return true;
}

static unsigned family_bits(int family)
{
    return family == AF_INET ? 32 : 128;
}

static bool host_bits_zero(const tls_net *net)
{
    unsigned bits = family_bits(net->family);

    for (unsigned b = net->prefix; b < bits; b++)
        if (net->addr[b / 8] & (0x80u >> (b % 8)))
            return false;
    return true;
}

static void clear_host_bits(tls_net *net)
{
    for (unsigned b = net->prefix; b < family_bits(net->family); b++)
        net->addr[b / 8] &= (unsigned char)~(0x80u >> (b % 8));
}

clm_err tls_net_parse(const char *text, const char *field, tls_net *out)
{
    char addr[64], meant[64];
    const char *slash;
    char *end;
    unsigned long prefix;
    unsigned original_bits;

    memset(out, 0, sizeof *out);
    if (text == NULL || text[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: a network is required", field);
    slash = strchr(text, '/');
    if (slash == NULL) {
        if (!parse_address(text, out))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: \"%.64s\" is not an IP address", field,
                            text);
        return CLM_OK;
    }
    if ((size_t)(slash - text) >= sizeof addr)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: \"%.64s\" is not a network", field, text);
    memcpy(addr, text, (size_t)(slash - text));
    addr[slash - text] = '\0';
    if (!parse_address(addr, out))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%s: \"%.64s\" is not a network (ADDRESS/PREFIX, \"10.0.0.0/8\")", field,
                        text);
    original_bits = family_bits(out->family) + (out->prefix == 32 && strchr(addr, ':') ? 96 : 0);
    errno = 0;
    prefix = strtoul(slash + 1, &end, 10);
    if (!isdigit((unsigned char)slash[1]) || *end != '\0' || errno != 0 || prefix > original_bits)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: \"%.64s\": the prefix length must be 0-%u",
                        field, text, original_bits);
    if (original_bits == 128 && out->family == AF_INET) { /* mapped: back to 128 bits */
        if (prefix < 96)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%s: \"%.64s\": an IPv4-mapped network needs a prefix of 96 or more",
                            field, text);
        prefix -= 96;
    }
    out->prefix = (unsigned)prefix;
    if (!host_bits_zero(out)) {
        tls_net fixed = *out;
        clear_host_bits(&fixed);
        tls_net_format(&fixed, meant, sizeof meant);
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%s: \"%.64s\" has bits set after the prefix; did you mean %s?", field,
                        text, meant);
    }
    return CLM_OK;
}

bool tls_net_contains(const tls_net *outer, const tls_net *inner)
{
    if (outer->family != inner->family || inner->prefix < outer->prefix)
        return false;
    for (unsigned b = 0; b < outer->prefix; b++) {
        unsigned mask = 0x80u >> (b % 8);
        if ((outer->addr[b / 8] & mask) != (inner->addr[b / 8] & mask))
            return false;
    }
    return true;
}

void tls_net_format(const tls_net *net, char *out, size_t size)
{
    char text[INET6_ADDRSTRLEN] = "?";

    inet_ntop(net->family, net->addr, text, sizeof text);
    if (net->prefix == family_bits(net->family))
        snprintf(out, size, "%s", text);
    else
        snprintf(out, size, "%s/%u", text, net->prefix);
}

clm_err tls_allow_list_parse(const char *const *allow, size_t n, tls_allow_list *out)
{
    char field[48];

    memset(out, 0, sizeof *out);
    if (n == 0)
        return CLM_OK;
    if (allow == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "options.allow: NULL with %zu entries", n);
    out->nets = calloc(n, sizeof *out->nets);
    if (out->nets == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) {
        clm_err err;
        snprintf(field, sizeof field, "options.allow[%zu]", i);
        if ((err = tls_net_parse(allow[i], field, &out->nets[i])) != CLM_OK) {
            tls_allow_list_free(out);
            return err;
        }
    }
    out->n = n;
    return CLM_OK;
}

void tls_allow_list_free(tls_allow_list *list)
{
    if (list == NULL)
        return;
    free(list->nets);
    memset(list, 0, sizeof *list);
}

bool tls_allow_list_permits(const tls_allow_list *list, const tls_net *addr)
{
    tls_net single = *addr;

    single.prefix = family_bits(addr->family);
    for (size_t i = 0; i < list->n; i++)
        if (tls_net_contains(&list->nets[i], &single))
            return true;
    return false;
}

/* "127.0.0.0/8, ::1" (the first few), for messages. */
static void allow_list_text(const tls_allow_list *list, char *out, size_t size)
{
    size_t used = 0;

    out[0] = '\0';
    if (list->n == 0) {
        snprintf(out, size, "the allow-list is empty");
        return;
    }
    for (size_t i = 0; i < list->n && used < size; i++) {
        char net[64];
        if (i == 4) {
            snprintf(out + used, size - used, ", ... (%zu networks)", list->n);
            return;
        }
        tls_net_format(&list->nets[i], net, sizeof net);
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "allowed: ", net);
    }
}

/* ---- ports ---------------------------------------------------------------------------- */

static clm_err port_number(const char *p, const char **end, const char *field, unsigned *out)
{
    unsigned long v = 0;
    const char *s = p;

    if (!isdigit((unsigned char)*s))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%s: expected a port number at \"%.20s\" (a list like \"443,8000-8010\")",
                        field, p);
    while (isdigit((unsigned char)*s)) {
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > 65535)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: port %.10s... is above 65535", field, p);
        s++;
    }
    if (v == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: port 0 is not a port (1-65535)", field);
    *out = (unsigned)v;
    *end = s;
    return CLM_OK;
}

clm_err tls_ports_parse(const char *text, const char *field, size_t max, uint8_t bits[8192],
                        size_t *count, uint16_t *lowest, uint16_t *highest)
{
    const char *p = text;
    unsigned low = 65535, high = 1;
    clm_err err;

    memset(bits, 0, 8192);
    *count = 0;
    if (text == NULL || text[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: at least one port is required", field);
    if (strlen(text) > TLS_PORTS_TEXT_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: longer than %d characters", field,
                        TLS_PORTS_TEXT_MAX);
    for (;;) {
        unsigned lo, hi;
        while (*p == ' ')
            p++;
        if ((err = port_number(p, &p, field, &lo)) != CLM_OK)
            return err;
        hi = lo;
        if (*p == '-') {
            if ((err = port_number(p + 1, &p, field, &hi)) != CLM_OK)
                return err;
            if (hi < lo)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "%s: range %u-%u is backwards (write %u-%u)", field, lo, hi, hi,
                                lo);
        }
        low = lo < low ? lo : low;
        high = hi > high ? hi : high;
        if (lowest != NULL)
            *lowest = (uint16_t)low;
        if (highest != NULL)
            *highest = (uint16_t)high;
        for (unsigned port = lo; port <= hi; port++) {
            if (bits[port / 8] & (1u << (port % 8)))
                continue;
            bits[port / 8] |= (uint8_t)(1u << (port % 8));
            if (++*count > max)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "%s: more than %zu ports (options.max_endpoints)", field, max);
        }
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return CLM_OK;
        if (*p != ',')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%s: unexpected \"%.20s\" (a list like \"443,8000-8010\")", field, p);
        p++;
    }
}

adapter_probe_protocol tls_protocol_for_port(uint16_t port)
{
    switch (port) {
    case 25:
    case 587: return ADAPTER_PROBE_SMTP;
    case 143: return ADAPTER_PROBE_IMAP;
    case 110: return ADAPTER_PROBE_POP3;
    default: return ADAPTER_PROBE_TLS;
    }
}

/* ---- names ---------------------------------------------------------------------------- */

/* LDH labels (underscore allowed, as internal names have them), 1-63 each, 253 in all,
 * one trailing dot allowed, and a last label that is not all digits (that is a broken
 * address, not a name). */
static bool name_valid(const char *name)
{
    size_t len = strlen(name), label = 0;
    bool digits_only = true;

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > TLS_NAME_MAX)
        return false;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? name[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || name[i - 1] == '-')
                return false;
            if (i < len)
                digits_only = true;
            label = 0;
            continue;
        }
        if (!isalnum((unsigned char)c) && c != '-' && c != '_')
            return false;
        if (label == 0 && c == '-')
            return false;
        if (!isdigit((unsigned char)c))
            digits_only = false;
        label++;
    }
    return !digits_only;
}

/* ---- options -------------------------------------------------------------------------- */

clm_err tls_options_check(const adapter_probe_options *o)
{
    if (o == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "options: required (the allow-list at least)");
    if (o->connect_timeout_ms < 0 || o->connect_timeout_ms > TLS_TIMEOUT_MS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "options.connect_timeout_ms: %d is not 0-%d",
                        o->connect_timeout_ms, TLS_TIMEOUT_MS_MAX);
    if (o->handshake_timeout_ms < 0 || o->handshake_timeout_ms > TLS_TIMEOUT_MS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "options.handshake_timeout_ms: %d is not 0-%d",
                        o->handshake_timeout_ms, TLS_TIMEOUT_MS_MAX);
    if (o->max_in_flight < 0 || o->max_in_flight > TLS_IN_FLIGHT_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "options.max_in_flight: %d is not 0-%d",
                        o->max_in_flight, TLS_IN_FLIGHT_MAX);
    if (o->max_rate < 0 || o->max_rate > TLS_RATE_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "options.max_rate: %d is not 0-%d", o->max_rate,
                        TLS_RATE_MAX);
    if (o->threads < 0 || o->threads > TLS_THREADS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "options.threads: %d is not 0-%d", o->threads,
                        TLS_THREADS_MAX);
    if (o->max_endpoints > TLS_ENDPOINTS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "options.max_endpoints: %zu is above %d",
                        o->max_endpoints, TLS_ENDPOINTS_MAX);
    if (o->ehlo_name != NULL && !name_valid(o->ehlo_name))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "options.ehlo_name: \"%.64s\" is not a name",
                        o->ehlo_name);
    return CLM_OK;
}

/* ---- expansion ------------------------------------------------------------------------ */

typedef enum host_kind { HOST_ADDRESS, HOST_RANGE, HOST_NAME } host_kind;

typedef struct target_plan {
    host_kind kind;
    tls_net net;          /* address or range */
    uint64_t n_addresses; /* for names: 1 until resolved */
    size_t n_ports;
    uint8_t *ports; /* 8192 bytes, in the scratch arena */
    uint16_t port_min, port_max;
    const char *sni; /* NULL: none */
} target_plan;

/* Address i of a range (i < 2^(bits - prefix) <= 2^20: it fits the last 32 bits). */
static tls_net range_address(const tls_net *range, uint64_t i)
{
    tls_net a = *range;
    size_t last = a.family == AF_INET ? 0 : 12;
    uint32_t v = ((uint32_t)a.addr[last] << 24) | ((uint32_t)a.addr[last + 1] << 16) |
                 ((uint32_t)a.addr[last + 2] << 8) | a.addr[last + 3];

    v += (uint32_t)i;
    a.addr[last] = (unsigned char)(v >> 24);
    a.addr[last + 1] = (unsigned char)(v >> 16);
    a.addr[last + 2] = (unsigned char)(v >> 8);
    a.addr[last + 3] = (unsigned char)v;
    a.prefix = family_bits(a.family);
    return a;
}

static clm_err check_allowed(const tls_allow_list *allow, const tls_net *addr, size_t t,
                             const char *host)
{
    char text[64], list[256];

    if (tls_allow_list_permits(allow, addr))
        return CLM_OK;
    tls_net_format(addr, text, sizeof text);
    allow_list_text(allow, list, sizeof list);
    return clm_fail(CLM_ERR_PERMISSION,
                    "targets[%zu].host: %s (%.64s) is outside the networks this probe may scan "
                    "(%s); add its network to the allow-list to scan it",
                    t, text, host, list);
}

static clm_err plan_target(const adapter_probe_target *target, size_t t,
                           const tls_allow_list *allow, size_t max, clm_arena *scratch,
                           target_plan *plan)
{
    char field[48];
    clm_err err;

    memset(plan, 0, sizeof *plan);
    if (target->host == NULL || target->host[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "targets[%zu].host: required", t);
    if (strlen(target->host) > TLS_NAME_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "targets[%zu].host: longer than %d characters", t,
                        TLS_NAME_MAX);
    if ((unsigned)target->protocol >= ADAPTER_PROBE_PROTOCOL_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "targets[%zu].protocol: %d is not a protocol", t,
                        (int)target->protocol);
    snprintf(field, sizeof field, "targets[%zu].ports", t);
    if ((plan->ports = clm_arena_alloc(scratch, 8192)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if ((err = tls_ports_parse(target->ports, field, max, plan->ports, &plan->n_ports,
                               &plan->port_min, &plan->port_max)) != CLM_OK)
        return err;

    snprintf(field, sizeof field, "targets[%zu].host", t);
    if (strchr(target->host, '/') != NULL) {
        unsigned host_bits;
        if ((err = tls_net_parse(target->host, field, &plan->net)) != CLM_OK)
            return err;
        host_bits = family_bits(plan->net.family) - plan->net.prefix;
        plan->kind = HOST_RANGE;
        plan->n_addresses = host_bits >= 40 ? UINT64_C(1) << 40 : UINT64_C(1) << host_bits;
    } else if (parse_address(target->host, &plan->net)) {
        plan->kind = HOST_ADDRESS;
        plan->n_addresses = 1;
    } else if (name_valid(target->host)) {
        plan->kind = HOST_NAME;
        plan->n_addresses = 1;
    } else {
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "targets[%zu].host: \"%.64s\" is not a DNS name, an IP address or a "
                        "CIDR range",
                        t, target->host);
    }
    if (plan->n_addresses * plan->n_ports > max)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "targets[%zu].host: %.64s x %zu ports expands to %llu endpoints, more than "
                        "the limit of %zu (options.max_endpoints); split it or narrow the range",
                        t, target->host, plan->n_ports,
                        (unsigned long long)(plan->n_addresses * plan->n_ports), max);
    if (plan->kind != HOST_NAME)
        for (uint64_t i = 0; i < plan->n_addresses; i++) {
            tls_net a = range_address(&plan->net, i);
            if ((err = check_allowed(allow, &a, t, target->host)) != CLM_OK)
                return err;
        }

    plan->sni = NULL;
    if (target->sni != NULL && target->sni[0] != '\0') {
        tls_net ip;
        if (parse_address(target->sni, &ip))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "targets[%zu].sni: \"%.64s\" is an IP address; a server name is a "
                            "DNS name (RFC 6066 3)",
                            t, target->sni);
        if (!name_valid(target->sni))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "targets[%zu].sni: \"%.64s\" is not a DNS "
                            "name",
                            t, target->sni);
        plan->sni = target->sni;
    } else if (target->sni == NULL && plan->kind == HOST_NAME) {
        plan->sni = target->host;
    }
    return CLM_OK;
}

static void net_to_sockaddr(const tls_net *a, uint16_t port, tls_endpoint *e)
{
    memset(&e->addr, 0, sizeof e->addr);
    if (a->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&e->addr;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, a->addr, 4);
        e->addr_len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&e->addr;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        memcpy(&sin6->sin6_addr, a->addr, 16);
        e->addr_len = sizeof *sin6;
    }
    inet_ntop(a->family, a->addr, e->address, sizeof e->address);
}

/* Resolve a name into at most TLS_RESOLVE_MAX distinct addresses. */
static clm_err resolve_name(const char *name, size_t t, tls_net *addrs, size_t *n)
{
    struct addrinfo hints, *res = NULL;
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    *n = 0;
    rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0)
        return clm_fail(CLM_ERR_NOT_FOUND,
                        "targets[%zu].host: name \"%.64s\" does not resolve "
                        "(%s)",
                        t, name, rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    for (struct addrinfo *ai = res; ai != NULL && *n < TLS_RESOLVE_MAX; ai = ai->ai_next) {
        tls_net a;
        bool seen = false;
        memset(&a, 0, sizeof a);
        if (ai->ai_family == AF_INET) {
            a.family = AF_INET;
            a.prefix = 32;
            memcpy(a.addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
        } else if (ai->ai_family == AF_INET6) {
            a.family = AF_INET6;
            a.prefix = 128;
            memcpy(a.addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
            unmap_v4(&a);
        } else {
            continue;
        }
        for (size_t k = 0; k < *n && !seen; k++)
            seen = addrs[k].family == a.family && memcmp(addrs[k].addr, a.addr, 16) == 0;
        if (!seen)
            addrs[(*n)++] = a;
    }
    freeaddrinfo(res);
    if (*n == 0)
        return clm_fail(CLM_ERR_NOT_FOUND,
                        "targets[%zu].host: name \"%.64s\" has no IPv4 or "
                        "IPv6 address",
                        t, name);
    return CLM_OK;
}

static clm_err emit(tls_endpoint_list *out, size_t *cap, size_t max, size_t t,
                    const adapter_probe_target *target, const target_plan *plan, const tls_net *a,
                    const char *host_copy, const char *sni_copy)
{
    for (unsigned port = plan->port_min; port <= plan->port_max; port++) {
        tls_endpoint *e;
        if (!(plan->ports[port / 8] & (1u << (port % 8))))
            continue;
        if (out->n == max)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "targets[%zu].host: the targets expand to more than %zu endpoints "
                            "(options.max_endpoints)",
                            t, max);
        if (out->n == *cap) {
            size_t grown = *cap ? *cap * 2 : 256;
            tls_endpoint *v = realloc(out->v, grown * sizeof *v);
            if (v == NULL)
                return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            out->v = v;
            *cap = grown;
        }
        e = &out->v[out->n++];
        memset(e, 0, sizeof *e);
        e->target_index = t;
        e->host = host_copy;
        e->sni = sni_copy;
        e->port = (uint16_t)port;
        e->protocol = target->protocol == ADAPTER_PROBE_AUTO ? tls_protocol_for_port(e->port)
                                                             : target->protocol;
        e->check_name = sni_copy; /* NULL: the address, filled in at the end */
        if (a == NULL)
            e->unresolved = true;
        else
            net_to_sockaddr(a, e->port, e);
    }
    return CLM_OK;
}

clm_err tls_targets_expand(const adapter_probe_target *targets, size_t n,
                           const adapter_probe_options *options, bool resolve,
                           tls_endpoint_list *out)
{
    tls_allow_list allow;
    clm_arena scratch = CLM_ARENA_INIT;
    target_plan *plans = NULL;
    size_t max, total = 0, cap = 0;
    clm_err err;

    memset(out, 0, sizeof *out);
    out->arena = (clm_arena)CLM_ARENA_INIT;
    if ((err = tls_options_check(options)) != CLM_OK)
        return err;
    max = options->max_endpoints ? options->max_endpoints : TLS_DEFAULT_ENDPOINTS_MAX;
    if (targets == NULL || n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "targets: at least one target is required");
    if ((err = tls_allow_list_parse(options->allow, options->n_allow, &allow)) != CLM_OK)
        return err;
    if ((plans = calloc(n, sizeof *plans)) == NULL) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    /* Pass 1: every field of every target, and the allow-list for literal addresses. */
    for (size_t t = 0; t < n; t++) {
        if ((err = plan_target(&targets[t], t, &allow, max, &scratch, &plans[t])) != CLM_OK)
            goto done;
        total += plans[t].n_addresses * plans[t].n_ports;
        if (total > max) {
            err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                           "targets[%zu]: the targets expand to more than %zu endpoints "
                           "(options.max_endpoints)",
                           t, max);
            goto done;
        }
    }
    if (!resolve)
        goto done;
    /* Pass 2: resolve names, check their addresses, emit endpoints. */
    for (size_t t = 0; t < n && err == CLM_OK; t++) {
        const target_plan *plan = &plans[t];
        const char *host = clm_arena_strdup(&out->arena, targets[t].host);
        char *sni = plan->sni ? clm_arena_strdup(&out->arena, plan->sni) : NULL;
        tls_net addrs[TLS_RESOLVE_MAX];
        size_t n_addrs = 0;

        if (host == NULL || (plan->sni != NULL && sni == NULL)) {
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            break;
        }
        if (sni != NULL && sni[strlen(sni) - 1] == '.') /* sent without it (RFC 6066 3) */
            sni[strlen(sni) - 1] = '\0';
        if (plan->kind == HOST_NAME) {
            err = resolve_name(targets[t].host, t, addrs, &n_addrs);
            if (err == CLM_ERR_NOT_FOUND && options->unresolved_as_result) {
                size_t first = out->n;
                const char *why = clm_arena_strdup(&out->arena, clm_error_message());
                err = emit(out, &cap, max, t, &targets[t], plan, NULL, host, sni);
                for (size_t k = first; k < out->n; k++)
                    out->v[k].unresolved_reason = why;
                clm_error_clear();
                continue;
            }
            for (size_t k = 0; k < n_addrs && err == CLM_OK; k++)
                err = check_allowed(&allow, &addrs[k], t, targets[t].host);
            for (size_t k = 0; k < n_addrs && err == CLM_OK; k++)
                err = emit(out, &cap, max, t, &targets[t], plan, &addrs[k], host, sni);
        } else {
            for (uint64_t i = 0; i < plan->n_addresses && err == CLM_OK; i++) {
                tls_net a = range_address(&plan->net, i);
                err = emit(out, &cap, max, t, &targets[t], plan, &a, host, sni);
            }
        }
    }
    /* The name checked against the leaf: the SNI, else the address (arena copy). */
    for (size_t i = 0; i < out->n && err == CLM_OK; i++) {
        if (out->v[i].check_name == NULL && !out->v[i].unresolved &&
            (out->v[i].check_name = clm_arena_strdup(&out->arena, out->v[i].address)) == NULL)
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
done:
    if (err != CLM_OK)
        tls_endpoint_list_free(out);
    tls_allow_list_free(&allow);
    clm_arena_free(&scratch);
    free(plans);
    return err;
}

void tls_endpoint_list_free(tls_endpoint_list *list)
{
    if (list == NULL)
        return;
    free(list->v);
    clm_arena_free(&list->arena);
    memset(list, 0, sizeof *list);
    list->arena = (clm_arena)CLM_ARENA_INIT;
}
