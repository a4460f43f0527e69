/* adapters/tls/targets_test.c: networks, ports, the allow-list, expansion limits, bad
 * input naming its field, the text form, and the probe's registration. No packets. */
#include "adapters/adapter.h"
#include "adapters/tls/probe.h"
#include "adapters/tls/targets.h"
#include "tests/unit.h"

#include <arpa/inet.h>

static adapter_probe_options options_allowing(const char *const *allow, size_t n)
{
    adapter_probe_options o;

    memset(&o, 0, sizeof o);
    o.allow = allow;
    o.n_allow = n;
    return o;
}

UNIT_TEST(networks)
{
    tls_net a, b;
    char text[64];

    CHECK_INT_EQ(tls_net_parse("10.0.0.0/8", "f", &a), CLM_OK);
    CHECK_INT_EQ(a.family, AF_INET);
    CHECK_INT_EQ(a.prefix, 8);
    CHECK_INT_EQ(tls_net_parse("10.1.2.3", "f", &b), CLM_OK);
    CHECK(tls_net_contains(&a, &b));
    CHECK(!tls_net_contains(&b, &a));
    CHECK_INT_EQ(tls_net_parse("10.0.0.1/8", "options.allow[3]", &a), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "options.allow[3]: \"10.0.0.1/8\" has bits set");
    CHECK_STR_CONTAINS(clm_error_message(), "did you mean 10.0.0.0/8?");
    CHECK_INT_EQ(tls_net_parse("1.2.3.4/33", "f", &a), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "the prefix length must be 0-32");
    CHECK_INT_EQ(tls_net_parse("1.2.3.0/", "f", &a), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(tls_net_parse("example.com", "f", &a), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(tls_net_parse("", "f", &a), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(tls_net_parse("[::1]", "f", &a), CLM_OK);
    CHECK_INT_EQ(a.family, AF_INET6);
    CHECK_INT_EQ(a.prefix, 128);
    CHECK_INT_EQ(tls_net_parse("fd00::/120", "f", &a), CLM_OK);
    CHECK_INT_EQ(tls_net_parse("fd00::ff", "f", &b), CLM_OK);
    CHECK(tls_net_contains(&a, &b));
    tls_net_format(&a, text, sizeof text);
    CHECK_STR_EQ(text, "fd00::/120");
    /* IPv4-mapped IPv6 is the IPv4 address it reaches */
    CHECK_INT_EQ(tls_net_parse("::ffff:10.0.0.0/104", "f", &a), CLM_OK);
    CHECK_INT_EQ(a.family, AF_INET);
    CHECK_INT_EQ(a.prefix, 8);
    CHECK_INT_EQ(tls_net_parse("::ffff:0.0.0.0/95", "f", &a), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(tls_net_parse("0.0.0.0/0", "f", &a), CLM_OK); /* the world, if asked for */
    CHECK_INT_EQ(tls_net_parse("::/0", "f", &a), CLM_OK);
}

UNIT_TEST(ports)
{
    static uint8_t bits[8192];
    size_t n;
    uint16_t lo = 0, hi = 0;

    CHECK_INT_EQ(tls_ports_parse("443", "p", 100, bits, &n, NULL, NULL), CLM_OK);
    CHECK_INT_EQ(n, 1);
    CHECK(bits[443 / 8] & (1u << (443 % 8)));
    CHECK_INT_EQ(tls_ports_parse("25, 587,25", "p", 100, bits, &n, NULL, NULL), CLM_OK);
    CHECK_INT_EQ(n, 2);
    CHECK_INT_EQ(tls_ports_parse("20000-20999,65535", "p", 5000, bits, &n, &lo, &hi), CLM_OK);
    CHECK_INT_EQ(n, 1001);
    CHECK_INT_EQ(lo, 20000);
    CHECK_INT_EQ(hi, 65535);
    CHECK_INT_EQ(tls_ports_parse("0", "targets[4].ports", 100, bits, &n, NULL, NULL),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_EQ(clm_error_message(), "targets[4].ports: port 0 is not a port (1-65535)");
    CHECK_INT_EQ(tls_ports_parse("65536", "p", 100, bits, &n, NULL, NULL),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "is above 65535");
    CHECK_INT_EQ(tls_ports_parse("99999999999999999999", "p", 100, bits, &n, NULL, NULL),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(tls_ports_parse("30-20", "p", 100, bits, &n, NULL, NULL),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_EQ(clm_error_message(), "p: range 30-20 is backwards (write 20-30)");
    CHECK_INT_EQ(tls_ports_parse("1-65535", "p", 1000, bits, &n, NULL, NULL),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "more than 1000 ports");
    CHECK_INT_EQ(tls_ports_parse("", "p", 100, bits, &n, NULL, NULL), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(tls_ports_parse(NULL, "p", 100, bits, &n, NULL, NULL), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(tls_ports_parse("80,,81", "p", 100, bits, &n, NULL, NULL),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(tls_ports_parse("80-", "p", 100, bits, &n, NULL, NULL), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(tls_ports_parse("http", "p", 100, bits, &n, NULL, NULL), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(tls_protocol_for_port(25), ADAPTER_PROBE_SMTP);
    CHECK_INT_EQ(tls_protocol_for_port(587), ADAPTER_PROBE_SMTP);
    CHECK_INT_EQ(tls_protocol_for_port(143), ADAPTER_PROBE_IMAP);
    CHECK_INT_EQ(tls_protocol_for_port(110), ADAPTER_PROBE_POP3);
    CHECK_INT_EQ(tls_protocol_for_port(465), ADAPTER_PROBE_TLS);
    CHECK_INT_EQ(tls_protocol_for_port(993), ADAPTER_PROBE_TLS);
}

/* Expand one target; returns the error, fills list. */
static clm_err expand1(const char *host, const char *ports, const char *sni,
                       const adapter_probe_options *o, tls_endpoint_list *list)
{
    adapter_probe_target t = {host, ports, sni, ADAPTER_PROBE_AUTO};

    return tls_targets_expand(&t, 1, o, true, list);
}

UNIT_TEST(allow_list)
{
    static const char *const loopback4[] = {"127.0.0.0/8"};
    static const char *const ten[] = {"10.0.0.0/8"};
    static const char *const small[] = {"127.0.0.0/30"};
    adapter_probe_options o = options_allowing(loopback4, 1);
    tls_endpoint_list list;

    CHECK_INT_EQ(expand1("127.0.0.1", "443", NULL, &o, &list), CLM_OK);
    CHECK_INT_EQ(list.n, 1);
    CHECK_STR_EQ(list.v[0].address, "127.0.0.1");
    CHECK(list.v[0].sni == NULL);
    CHECK_STR_EQ(list.v[0].check_name, "127.0.0.1");
    CHECK_INT_EQ(list.v[0].protocol, ADAPTER_PROBE_TLS);
    tls_endpoint_list_free(&list);

    CHECK_INT_EQ(expand1("10.0.0.1", "443", NULL, &o, &list), CLM_ERR_PERMISSION);
    CHECK_STR_CONTAINS(clm_error_message(), "targets[0].host: 10.0.0.1 (10.0.0.1) is outside "
                                            "the networks this probe may scan (allowed: "
                                            "127.0.0.0/8)");
    CHECK_INT_EQ(list.n, 0);
    /* loopback is not implicitly allowed */
    o = options_allowing(ten, 1);
    CHECK_INT_EQ(expand1("127.0.0.1", "443", NULL, &o, &list), CLM_ERR_PERMISSION);
    o = options_allowing(NULL, 0);
    CHECK_INT_EQ(expand1("127.0.0.1", "443", NULL, &o, &list), CLM_ERR_PERMISSION);
    CHECK_STR_CONTAINS(clm_error_message(), "the allow-list is empty");
    /* a range partly outside: refused, naming the first address outside */
    o = options_allowing(small, 1);
    CHECK_INT_EQ(expand1("127.0.0.0/29", "443", NULL, &o, &list), CLM_ERR_PERMISSION);
    CHECK_STR_CONTAINS(clm_error_message(), "127.0.0.4 (127.0.0.0/29)");
    /* mapped addresses cannot slip past */
    o = options_allowing(loopback4, 1);
    CHECK_INT_EQ(expand1("::ffff:10.0.0.1", "443", NULL, &o, &list), CLM_ERR_PERMISSION);
    CHECK_INT_EQ(expand1("::ffff:127.0.0.1", "443", NULL, &o, &list), CLM_OK);
    CHECK_INT_EQ(list.v[0].addr.ss_family, AF_INET);
    tls_endpoint_list_free(&list);
    /* a bad allow-list entry names itself */
    {
        static const char *const bad[] = {"127.0.0.0/8", "10.0.0.1/8"};
        o = options_allowing(bad, 2);
        CHECK_INT_EQ(expand1("127.0.0.1", "443", NULL, &o, &list), CLM_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(clm_error_message(), "options.allow[1]");
    }
}

UNIT_TEST(ranges_and_limits)
{
    static const char *const allow[] = {"127.0.0.0/8", "::1", "fd00::/112", "10.0.0.0/8"};
    adapter_probe_options o = options_allowing(allow, 4);
    tls_endpoint_list list;

    CHECK_INT_EQ(expand1("127.0.0.0/30", "444,443", NULL, &o, &list), CLM_OK);
    CHECK_INT_EQ(list.n, 8);
    CHECK_STR_EQ(list.v[0].address, "127.0.0.0");
    CHECK_INT_EQ(list.v[0].port, 443);
    CHECK_INT_EQ(list.v[1].port, 444);
    CHECK_STR_EQ(list.v[7].address, "127.0.0.3");
    tls_endpoint_list_free(&list);

    CHECK_INT_EQ(expand1("[::1]", "443", NULL, &o, &list), CLM_OK);
    CHECK_INT_EQ(list.n, 1);
    CHECK_INT_EQ(list.v[0].addr.ss_family, AF_INET6);
    CHECK_STR_EQ(list.v[0].address, "::1");
    CHECK_INT_EQ(ntohs(((struct sockaddr_in6 *)&list.v[0].addr)->sin6_port), 443);
    tls_endpoint_list_free(&list);

    CHECK_INT_EQ(expand1("fd00::/120", "993", NULL, &o, &list), CLM_OK);
    CHECK_INT_EQ(list.n, 256);
    CHECK_STR_EQ(list.v[255].address, "fd00::ff");
    tls_endpoint_list_free(&list);

    CHECK_INT_EQ(expand1("10.0.0.0/8", "443", NULL, &o, &list), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "targets[0].host: 10.0.0.0/8 x 1 ports expands to "
                                            "16777216 endpoints, more than the limit of 65536");
    CHECK_INT_EQ(expand1("fd00::/64", "443", NULL, &o, &list), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "options.max_endpoints");
    o.max_endpoints = 100;
    CHECK_INT_EQ(expand1("127.0.0.0/24", "443", NULL, &o, &list), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(expand1("127.0.0.1", "1-101", NULL, &o, &list), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "targets[0].ports: more than 100 ports");
    {
        adapter_probe_target two[] = {{"127.0.0.0/26", "443", NULL, ADAPTER_PROBE_AUTO},
                                      {"127.0.1.0/26", "443", NULL, ADAPTER_PROBE_AUTO}};
        CHECK_INT_EQ(tls_targets_expand(two, 2, &o, true, &list), CLM_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(clm_error_message(), "targets[1]: the targets expand to more than "
                                                "100 endpoints");
    }
    o.max_endpoints = 0;
    CHECK_INT_EQ(expand1("127.0.0.1", "25,110,143,587,993", NULL, &o, &list), CLM_OK);
    CHECK_INT_EQ(list.n, 5);
    CHECK_INT_EQ(list.v[0].protocol, ADAPTER_PROBE_SMTP);
    CHECK_INT_EQ(list.v[1].protocol, ADAPTER_PROBE_POP3);
    CHECK_INT_EQ(list.v[2].protocol, ADAPTER_PROBE_IMAP);
    CHECK_INT_EQ(list.v[3].protocol, ADAPTER_PROBE_SMTP);
    CHECK_INT_EQ(list.v[4].protocol, ADAPTER_PROBE_TLS);
    tls_endpoint_list_free(&list);
}

typedef struct bad_case {
    adapter_probe_target target;
    const char *message;
} bad_case;

UNIT_TEST(bad_input_names_the_field)
{
    static const char *const allow[] = {"127.0.0.0/8"};
    static const bad_case cases[] = {
        {{"", "443", NULL, 0}, "targets[0].host: required"},
        {{NULL, "443", NULL, 0}, "targets[0].host: required"},
        {{"a b", "443", NULL, 0},
         "targets[0].host: \"a b\" is not a DNS name, an IP address or a CIDR range"},
        {{"300.1.1.1", "443", NULL, 0}, "targets[0].host: \"300.1.1.1\" is not a DNS name"},
        {{"-x.example", "443", NULL, 0}, "is not a DNS name"},
        {{"127.0.0.1", "0", NULL, 0}, "targets[0].ports: port 0 is not a port (1-65535)"},
        {{"127.0.0.1", NULL, NULL, 0}, "targets[0].ports: at least one port is required"},
        {{"127.0.0.1", "443", "127.0.0.1", 0}, "targets[0].sni: \"127.0.0.1\" is an IP address"},
        {{"127.0.0.1", "443", "bad name", 0}, "targets[0].sni: \"bad name\" is not a DNS name"},
        {{"127.0.0.1", "443", NULL, (adapter_probe_protocol)99}, "targets[0].protocol: 99"},
        {{"127.0.0.1/33", "443", NULL, 0}, "targets[0].host: \"127.0.0.1/33\": the prefix length"},
    };
    adapter_probe_options o = options_allowing(allow, 1);
    tls_endpoint_list list;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unit_current = cases[i].message;
        CHECK_INT_EQ(tls_targets_expand(&cases[i].target, 1, &o, true, &list),
                     CLM_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(clm_error_message(), cases[i].message);
    }
    unit_current = "bad_input_names_the_field";
    CHECK_INT_EQ(tls_targets_expand(NULL, 0, &o, true, &list), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "targets: at least one target");
    o.max_rate = -1;
    CHECK_INT_EQ(expand1("127.0.0.1", "443", NULL, &o, &list), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "options.max_rate: -1");
    o.max_rate = 0;
    o.connect_timeout_ms = 1000000000;
    CHECK_INT_EQ(expand1("127.0.0.1", "443", NULL, &o, &list), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "options.connect_timeout_ms");
    o.connect_timeout_ms = 0;
    o.max_in_flight = TLS_IN_FLIGHT_MAX + 1;
    CHECK_INT_EQ(expand1("127.0.0.1", "443", NULL, &o, &list), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "options.max_in_flight");
    o.max_in_flight = 0;
    o.ehlo_name = "bad name";
    CHECK_INT_EQ(expand1("127.0.0.1", "443", NULL, &o, &list), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "options.ehlo_name");
    CHECK_INT_EQ(tls_options_check(NULL), CLM_ERR_INVALID_ARGUMENT);
}

UNIT_TEST(names)
{
    static const char *const allow[] = {"127.0.0.0/8", "::1"};
    static const char *const ten[] = {"10.0.0.0/8"};
    adapter_probe_options o = options_allowing(allow, 2);
    tls_endpoint_list list;

    CHECK_INT_EQ(expand1("localhost", "443", NULL, &o, &list), CLM_OK);
    CHECK(list.n >= 1);
    for (size_t i = 0; i < list.n; i++) {
        CHECK_STR_EQ(list.v[i].sni, "localhost");
        CHECK_STR_EQ(list.v[i].check_name, "localhost");
        CHECK_STR_EQ(list.v[i].host, "localhost");
    }
    tls_endpoint_list_free(&list);
    /* an explicit SNI wins; a trailing dot is not sent; "" sends none */
    CHECK_INT_EQ(expand1("localhost", "443", "www.example.com.", &o, &list), CLM_OK);
    CHECK_STR_EQ(list.v[0].sni, "www.example.com");
    tls_endpoint_list_free(&list);
    CHECK_INT_EQ(expand1("localhost", "443", "", &o, &list), CLM_OK);
    CHECK(list.v[0].sni == NULL);
    CHECK_STR_EQ(list.v[0].check_name, list.v[0].address);
    tls_endpoint_list_free(&list);
    /* a name's addresses are checked against the allow-list too */
    o = options_allowing(ten, 1);
    CHECK_INT_EQ(expand1("localhost", "443", NULL, &o, &list), CLM_ERR_PERMISSION);
    CHECK_STR_CONTAINS(clm_error_message(), "(localhost) is outside the networks");
    /* a name that does not resolve: an error naming the field, or a result */
    o = options_allowing(allow, 2);
    CHECK_INT_EQ(expand1("no-such-host.invalid", "443", NULL, &o, &list), CLM_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(clm_error_message(),
                       "targets[0].host: name \"no-such-host.invalid\" does not resolve");
    o.unresolved_as_result = true;
    CHECK_INT_EQ(expand1("no-such-host.invalid", "443,444", NULL, &o, &list), CLM_OK);
    CHECK_INT_EQ(list.n, 2);
    CHECK(list.v[0].unresolved);
    CHECK_STR_CONTAINS(list.v[0].unresolved_reason, "does not resolve");
    tls_endpoint_list_free(&list);
    /* checking alone resolves nothing */
    o.unresolved_as_result = false;
    CHECK_INT_EQ(
        tls_probe_check(&(adapter_probe_target){"no-such-host.invalid", "443", NULL, 0}, 1, &o),
        CLM_OK);
}

typedef struct text_case {
    const char *spec;
    const char *host, *ports, *sni;
    adapter_probe_protocol protocol;
} text_case;

UNIT_TEST(text_form)
{
    static const text_case good[] = {
        {"mail.example.com:25,587", "mail.example.com", "25,587", NULL, ADAPTER_PROBE_AUTO},
        {"imap://10.0.0.0/28", "10.0.0.0/28", "143", NULL, ADAPTER_PROBE_IMAP},
        {"[::1]:443", "::1", "443", NULL, ADAPTER_PROBE_AUTO},
        {"[fd00::/120]:993", "fd00::/120", "993", NULL, ADAPTER_PROBE_AUTO},
        {"127.0.0.1:20000-20999?sni=a.test", "127.0.0.1", "20000-20999", "a.test",
         ADAPTER_PROBE_AUTO},
        {"::1", "::1", "443", NULL, ADAPTER_PROBE_AUTO},
        {"SMTP://mx.example", "mx.example", "25", NULL, ADAPTER_PROBE_SMTP},
        {"pop3://[::1]?sni=p.test", "::1", "110", "p.test", ADAPTER_PROBE_POP3},
        {"tls://h:25", "h", "25", NULL, ADAPTER_PROBE_TLS},
    };
    static const char *const bad[] = {"",   "[::1", "[::1]x", "x?foo=1", "bogus://h",
                                      "h:", "a b",  "://h",   "h?sni=",  "[]:443"};
    tls_target_text t;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        unit_current = good[i].spec;
        CHECK_INT_EQ(tls_target_parse(good[i].spec, &t), CLM_OK);
        CHECK_STR_EQ(t.target.host, good[i].host);
        CHECK_STR_EQ(t.target.ports, good[i].ports);
        if (good[i].sni)
            CHECK_STR_EQ(t.target.sni, good[i].sni);
        else
            CHECK(t.target.sni == NULL);
        CHECK_INT_EQ(t.target.protocol, good[i].protocol);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unit_current = bad[i];
        CHECK_INT_EQ(tls_target_parse(bad[i], &t), CLM_ERR_INVALID_ARGUMENT);
    }
    unit_current = "text_form";
}

UNIT_TEST(registry_and_names)
{
    adapter_probe_ops nameless = tls_probe_ops;
    adapter_probe_protocol p;

    CHECK_INT_EQ(adapter_probe_register(&tls_probe_ops), CLM_OK);
    CHECK_INT_EQ(adapter_probe_register(&tls_probe_ops), CLM_ERR_ALREADY_EXISTS);
    nameless.name = NULL;
    CHECK_INT_EQ(adapter_probe_register(&nameless), CLM_ERR_INVALID_ARGUMENT);
    CHECK(adapter_probe_find("TLS") == &tls_probe_ops);
    CHECK(adapter_probe_find("winrm") == NULL);
    CHECK_STR_EQ(adapter_probe_status_name(ADAPTER_PROBE_CONNECT_TIMEOUT), "connect-timeout");
    CHECK_STR_EQ(adapter_probe_status_name(ADAPTER_PROBE_STATUS_MAX), "unknown");
    CHECK_STR_EQ(adapter_probe_protocol_name(ADAPTER_PROBE_IMAP), "imap");
    CHECK_INT_EQ(adapter_probe_protocol_parse("Pop3", &p), CLM_OK);
    CHECK_INT_EQ(p, ADAPTER_PROBE_POP3);
    CHECK_INT_EQ(adapter_probe_protocol_parse("ftp", &p), CLM_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    UNIT_RUN(networks);
    UNIT_RUN(ports);
    UNIT_RUN(allow_list);
    UNIT_RUN(ranges_and_limits);
    UNIT_RUN(bad_input_names_the_field);
    UNIT_RUN(names);
    UNIT_RUN(text_form);
    UNIT_RUN(registry_and_names);
    return unit_report();
}
