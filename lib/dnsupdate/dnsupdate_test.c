/*
 * lib/dnsupdate/dnsupdate_test.c: dnsupdate.h against a real bind9 on loopback
 * (dns_test_server.h), every record checked afterwards with bind9's own `dig`: add and
 * delete, the SOA walk (a child zone), refusals (wrong key, unknown key, a key not
 * granted the name, no key), no zone, a silent server and a closed port, every bad
 * argument, hmac-sha512, TCP (a message too long for UDP, a truncated UDP answer), and
 * the secret absent from every message. Ends with the
 * measured round-trip time of a signed update.
 */
#include "lib/base/clock.h"
#include "lib/dnsupdate/dns_test_server.h"
#include "lib/dnsupdate/dnsupdate.h"
#include "tests/unit.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

static dns_test_server dns;
static char secret[256], secret_512[256], secret_other[256];

#define WWW "_acme-challenge.www.example.test"
#define APEX "_acme-challenge.example.test"
#define CHILD "_acme-challenge.host.sub.example.test"
#define OTHER "_acme-challenge.other.example.test"
/* 212 characters: with a 255-byte value, the update is too long for UDP. */
#define LONG_HOST                                                                                  \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."                             \
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."                             \
    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccc.example.test"
#define LONG "_acme-challenge." LONG_HOST

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static dnsupdate_server signed_by(const char *key, const char *key_secret)
{
    return (dnsupdate_server){
        .server = dns.server, .tsig_name = key, .tsig_secret = key_secret, .timeout_ms = 5000};
}

/* What dig sees for name, in a rotating buffer. */
static const char *txt_of(const char *name)
{
    static char bufs[4][2048];
    static int next;
    char *b = bufs[next++ % 4];

    if (!dns_test_dig_txt(&dns, name, b, sizeof(bufs[0])))
        snprintf(b, sizeof(bufs[0]), "(dig failed)");
    return b;
}

/* err is want, the message holds part, and no message ever holds a secret. */
#define CHECK_FAILS(call, want, part)                                                              \
    do {                                                                                           \
        clm_err got_ = (call);                                                                     \
        CHECK_INT_EQ(got_, want);                                                                  \
        CHECK_STR_CONTAINS(clm_error_message(), part);                                             \
        CHECK(strstr(clm_error_message(), secret) == NULL);                                        \
        CHECK(strstr(clm_error_message(), secret_512) == NULL);                                    \
        CHECK(strstr(clm_error_message(), secret_other) == NULL);                                  \
    } while (0)

UNIT_TEST(test_add_delete)
{
    dnsupdate_server s = signed_by("clm-key", secret);

    CHECK_STR_EQ(txt_of(WWW), "");
    CHECK_INT_EQ(dnsupdate_txt_add(&s, WWW, "first-value", 0), CLM_OK);
    CHECK_STR_EQ(txt_of(WWW), "\"first-value\"");
    /* The same value again: no error, still one record. */
    CHECK_INT_EQ(dnsupdate_txt_add(&s, WWW ".", "first-value", 120), CLM_OK);
    CHECK_STR_EQ(txt_of(WWW), "\"first-value\"");
    CHECK_INT_EQ(dnsupdate_txt_add(&s, WWW, "second_value", 0), CLM_OK);
    {
        const char *both = txt_of(WWW);

        CHECK_STR_CONTAINS(both, "\"first-value\"");
        CHECK_STR_CONTAINS(both, "\"second_value\"");
    }
    /* Delete one value: the other stays. */
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, WWW, "first-value"), CLM_OK);
    CHECK_STR_EQ(txt_of(WWW), "\"second_value\"");
    /* Deleting what is not there is not an error. */
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, WWW, "first-value"), CLM_OK);
    CHECK_STR_EQ(txt_of(WWW), "\"second_value\"");
    /* value NULL: the whole RRset. */
    CHECK_INT_EQ(dnsupdate_txt_add(&s, WWW, "third", 0), CLM_OK);
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, WWW, NULL), CLM_OK);
    CHECK_STR_EQ(txt_of(WWW), "");
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, WWW, NULL), CLM_OK);

    /* An ACME-shaped value (43 base64url characters) and one with bytes that need
     * escaping, at the zone's apex name. */
    CHECK_INT_EQ(dnsupdate_txt_add(&s, APEX, "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", 0),
                 CLM_OK);
    CHECK_STR_EQ(txt_of(APEX), "\"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0\"");
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, APEX, "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"),
                 CLM_OK);
    CHECK_INT_EQ(dnsupdate_txt_add(&s, APEX, "a b;\"c\"\\d", 0), CLM_OK);
    CHECK_STR_EQ(txt_of(APEX), "\"a b;\\\"c\\\"\\\\d\"");
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, APEX, "a b;\"c\"\\d"), CLM_OK);
    CHECK_STR_EQ(txt_of(APEX), "");
}

UNIT_TEST(test_zone)
{
    dnsupdate_server s = signed_by("clm-key", secret);
    char value[256];

    /* The walk finds the child zone, not its parent. */
    CHECK_INT_EQ(dnsupdate_txt_add(&s, CHILD, "in-the-child", 0), CLM_OK);
    CHECK_STR_EQ(txt_of(CHILD), "\"in-the-child\"");
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, CHILD, "in-the-child"), CLM_OK);
    CHECK_STR_EQ(txt_of(CHILD), "");
    /* The zone given: no walk. */
    s.zone = "sub.example.test.";
    CHECK_INT_EQ(dnsupdate_txt_add(&s, CHILD, "zone-given", 0), CLM_OK);
    CHECK_STR_EQ(txt_of(CHILD), "\"zone-given\"");
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, CHILD, NULL), CLM_OK);
    CHECK_STR_EQ(txt_of(CHILD), "");
    /* A value of the longest length. */
    s.zone = "example.test";
    memset(value, 'v', 255);
    value[255] = '\0';
    CHECK_INT_EQ(dnsupdate_txt_add(&s, WWW, value, 0), CLM_OK);
    CHECK(strlen(txt_of(WWW)) == 257);
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, WWW, value), CLM_OK);
    CHECK_STR_EQ(txt_of(WWW), "");

    /* No zone on the server holds the name. */
    s.zone = NULL;
    CHECK_FAILS(dnsupdate_txt_add(&s, "_acme-challenge.www.nowhere.invalid", "x", 0),
                CLM_ERR_NOT_FOUND,
                "no zone on this server holds _acme-challenge.www.nowhere.invalid.");
    CHECK_FAILS(dnsupdate_txt_delete(&s, "_acme-challenge.www.nowhere.invalid", NULL),
                CLM_ERR_NOT_FOUND, "nowhere.invalid");
}

UNIT_TEST(test_refusals)
{
    dnsupdate_server s = signed_by("clm-key", "dGhpcyBpcyBub3QgdGhlIHJpZ2h0IGtleSBhdCBhbGwhIQ==");

    /* The wrong secret: refused during the walk (signed queries) and, with the zone
     * given, by the update itself. */
    CHECK_FAILS(dnsupdate_txt_add(&s, WWW, "wrong-key", 0), CLM_ERR_PERMISSION, "BADSIG");
    s.zone = "example.test";
    CHECK_FAILS(dnsupdate_txt_add(&s, WWW, "wrong-key", 0), CLM_ERR_PERMISSION, "BADSIG");
    CHECK_FAILS(dnsupdate_txt_delete(&s, WWW, NULL), CLM_ERR_PERMISSION, "clm-key");
    CHECK_STR_EQ(txt_of(WWW), "");
    /* A key name the server does not know. */
    s = signed_by("no-such-key", secret);
    CHECK_FAILS(dnsupdate_txt_add(&s, WWW, "unknown-key", 0), CLM_ERR_PERMISSION, "BADKEY");
    /* A key the server knows, granted nothing. */
    s = signed_by("other-key", secret_other);
    CHECK_FAILS(dnsupdate_txt_add(&s, WWW, "not-granted", 0), CLM_ERR_PERMISSION, "REFUSED");
    CHECK_STR_EQ(txt_of(WWW), "");
    /* The right key on a name it is not granted. */
    s = signed_by("clm-key", secret);
    CHECK_FAILS(dnsupdate_txt_add(&s, OTHER, "not-granted", 0), CLM_ERR_PERMISSION,
                "refused the update of " OTHER ". (REFUSED)");
    CHECK_STR_EQ(txt_of(OTHER), "");
    /* A key on another algorithm than the server's: the server rejects it. */
    s = signed_by("clm-key", secret);
    s.tsig_algorithm = "hmac-sha512";
    CHECK_FAILS(dnsupdate_txt_add(&s, WWW, "wrong-algorithm", 0), CLM_ERR_PERMISSION, "clm-key");
    /* No key at all. */
    s = (dnsupdate_server){.server = dns.server, .zone = "example.test", .timeout_ms = 5000};
    CHECK_FAILS(dnsupdate_txt_add(&s, WWW, "unsigned", 0), CLM_ERR_PERMISSION, "REFUSED");
    CHECK_STR_EQ(txt_of(WWW), "");
}

UNIT_TEST(test_algorithms)
{
    dnsupdate_server s = signed_by("clm-key-512", secret_512);

    s.tsig_algorithm = "hmac-sha512";
    CHECK_INT_EQ(dnsupdate_txt_add(&s, WWW, "sha512", 0), CLM_OK);
    CHECK_STR_EQ(txt_of(WWW), "\"sha512\"");
    s.tsig_algorithm = "HMAC-SHA512.";
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, WWW, "sha512"), CLM_OK);
    CHECK_STR_EQ(txt_of(WWW), "");
    /* hmac-sha256 named explicitly is the default's key. */
    s = signed_by("clm-key", secret);
    s.tsig_algorithm = "hmac-sha256";
    CHECK_INT_EQ(dnsupdate_txt_add(&s, WWW, "sha256", 0), CLM_OK);
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, WWW, NULL), CLM_OK);
    CHECK_STR_EQ(txt_of(WWW), "");
    /* hmac-sha384: libldns 1.8.3 cannot; said before anything is sent. */
    s.tsig_algorithm = "hmac-sha384";
    CHECK_FAILS(dnsupdate_txt_add(&s, WWW, "sha384", 0), CLM_ERR_UNSUPPORTED, "tsig_algorithm");
}

UNIT_TEST(test_unreachable)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    dnsupdate_server s = signed_by("clm-key", secret);
    char server[32];
    int64_t start, took;
    int port = dns_test_free_port();
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    /* A UDP socket that never reads: the datagrams vanish, no ICMP comes back. */
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
    snprintf(server, sizeof(server), "127.0.0.1:%d", port);
    s.server = server;
    s.zone = "example.test";
    s.timeout_ms = 1500;
    start = now_ms();
    CHECK_FAILS(dnsupdate_txt_add(&s, WWW, "silent", 0), CLM_ERR_UNAVAILABLE,
                "updating " WWW ".: 127.0.0.1:");
    CHECK_STR_CONTAINS(clm_error_message(), "no answer over UDP");
    took = now_ms() - start;
    CHECK(took >= 1400 && took < 2500);
    /* The same through the SOA walk. */
    s.zone = NULL;
    start = now_ms();
    CHECK_FAILS(dnsupdate_txt_delete(&s, WWW, NULL), CLM_ERR_UNAVAILABLE, "no answer");
    took = now_ms() - start;
    CHECK(took >= 1400 && took < 2500);
    close(fd);

    /* Nobody on the port: the refusal comes back at once. */
    start = now_ms();
    CHECK_FAILS(dnsupdate_txt_add(&s, WWW, "closed", 0), CLM_ERR_UNAVAILABLE, "refused");
    CHECK(now_ms() - start < 1000);
}

UNIT_TEST(test_bad_arguments)
{
    char long_value[300], long_label[80], long_name[300];
    dnsupdate_server good = signed_by("clm-key", secret);
    dnsupdate_server s;
    struct {
        const char *server, *zone, *tsig_name, *tsig_algorithm, *tsig_secret;
        int timeout_ms;
        const char *name, *value;
        const char *field;
    } rows[] = {
        {NULL, NULL, "clm-key", NULL, secret, 0, WWW, "v", "server: required"},
        {"", NULL, "clm-key", NULL, secret, 0, WWW, "v", "server: required"},
        {"dns.example.test", NULL, "clm-key", NULL, secret, 0, WWW, "v", "server: "},
        {"127.0.0.1:0", NULL, "clm-key", NULL, secret, 0, WWW, "v", "server: "},
        {"127.0.0.1:65536", NULL, "clm-key", NULL, secret, 0, WWW, "v", "server: "},
        {"127.0.0.1:53x", NULL, "clm-key", NULL, secret, 0, WWW, "v", "server: "},
        {"127.0.0.1:", NULL, "clm-key", NULL, secret, 0, WWW, "v", "server: "},
        {"[::1", NULL, "clm-key", NULL, secret, 0, WWW, "v", "server: "},
        {"[127.0.0.1]:53", NULL, "clm-key", NULL, secret, 0, WWW, "v", "server: "},
        {"::1:53:x", NULL, "clm-key", NULL, secret, 0, WWW, "v", "server: "},
        {"@", NULL, "clm-key", NULL, secret, -1, WWW, "v", "timeout_ms: "},
        {"@", NULL, "clm-key", NULL, NULL, 0, WWW, "v", "tsig_secret: required"},
        {"@", NULL, "clm-key", NULL, "", 0, WWW, "v", "tsig_secret: required"},
        {"@", NULL, "clm-key", NULL, "not base64!", 0, WWW, "v", "tsig_secret: not base64"},
        {"@", NULL, "clm-key", NULL, "====", 0, WWW, "v", "tsig_secret: not base64"},
        {"@", NULL, NULL, NULL, secret, 0, WWW, "v", "tsig_name: required"},
        {"@", NULL, NULL, "hmac-sha256", NULL, 0, WWW, "v", "tsig_algorithm: given without"},
        {"@", NULL, "bad key", NULL, secret, 0, WWW, "v", "tsig_name: "},
        {"@", NULL, "clm-key", "hmac-md5", secret, 0, WWW, "v", "tsig_algorithm: "},
        {"@", NULL, "clm-key", "", secret, 0, WWW, "v", "tsig_algorithm: "},
        {"@", NULL, "clm-key", NULL, secret, 0, NULL, "v", "name: required"},
        {"@", NULL, "clm-key", NULL, secret, 0, "", "v", "name: required"},
        {"@", NULL, "clm-key", NULL, secret, 0, ".", "v", "name: "},
        {"@", NULL, "clm-key", NULL, secret, 0, "a..example.test", "v", "name: "},
        {"@", NULL, "clm-key", NULL, secret, 0, ".example.test", "v", "name: "},
        {"@", NULL, "clm-key", NULL, secret, 0, "a b.example.test", "v", "name: "},
        {"@", NULL, "clm-key", NULL, secret, 0, "a\\.example.test", "v", "name: "},
        {"@", NULL, "clm-key", NULL, secret, 0, long_label, "v", "name: "},
        {"@", NULL, "clm-key", NULL, secret, 0, long_name, "v", "name: "},
        {"@", "", "clm-key", NULL, secret, 0, WWW, "v", "zone: required"},
        {"@", "ex ample.test", "clm-key", NULL, secret, 0, WWW, "v", "zone: "},
        {"@", "other.test", "clm-key", NULL, secret, 0, WWW, "v", "name: " WWW ". is not inside"},
        {"@", "www.example.test", "clm-key", NULL, secret, 0, APEX, "v", "name: "},
        {"@", NULL, "clm-key", NULL, secret, 0, WWW, NULL, "value: required"},
        {"@", NULL, "clm-key", NULL, secret, 0, WWW, "", "value: 0 bytes"},
        {"@", NULL, "clm-key", NULL, secret, 0, WWW, long_value, "value: 256 bytes"},
    };

    memset(long_value, 'x', 256);
    long_value[256] = '\0';
    memset(long_label, 'a', 64);
    snprintf(long_label + 64, sizeof(long_label) - 64, ".example.test");
    for (int i = 0; i < 5; i++)
        memset(long_name + i * 51, i == 4 ? 'c' : 'b', 50), long_name[i * 51 + 50] = '.';
    snprintf(long_name + 255, sizeof(long_name) - 255, "test");

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        s = good;
        s.server = rows[i].server != NULL && strcmp(rows[i].server, "@") == 0 ? good.server
                                                                              : rows[i].server;
        s.zone = rows[i].zone;
        s.tsig_name = rows[i].tsig_name;
        s.tsig_algorithm = rows[i].tsig_algorithm;
        s.tsig_secret = rows[i].tsig_secret;
        s.timeout_ms = rows[i].timeout_ms;
        clm_error_clear();
        CHECK_FAILS(dnsupdate_txt_add(&s, rows[i].name, rows[i].value, 0), CLM_ERR_INVALID_ARGUMENT,
                    rows[i].field);
        if (strncmp(clm_error_message(), rows[i].field, strlen(rows[i].field)) != 0)
            fprintf(stderr, "row %zu: \"%s\"\n", i, clm_error_message());
        /* The message starts with the argument's name. */
        CHECK(strncmp(clm_error_message(), rows[i].field, strlen(rows[i].field)) == 0);
        /* dnsupdate_server_check says the same of the server's members. */
        if (strncmp(rows[i].field, "name: ", 6) != 0 && strncmp(rows[i].field, "value: ", 7) != 0)
            CHECK_FAILS(dnsupdate_server_check(&s), CLM_ERR_INVALID_ARGUMENT, rows[i].field);
        else
            CHECK_INT_EQ(dnsupdate_server_check(&s), CLM_OK);
        /* delete checks the same (value NULL is allowed there: skip those rows). */
        if (rows[i].value != NULL && strncmp(rows[i].field, "value: required", 15) != 0)
            CHECK_FAILS(dnsupdate_txt_delete(&s, rows[i].name, rows[i].value),
                        CLM_ERR_INVALID_ARGUMENT, rows[i].field);
    }
    CHECK_FAILS(dnsupdate_txt_add(NULL, WWW, "v", 0), CLM_ERR_INVALID_ARGUMENT, "server: required");
    CHECK_FAILS(dnsupdate_server_check(NULL), CLM_ERR_INVALID_ARGUMENT, "server: required");
    CHECK_INT_EQ(dnsupdate_server_check(&good), CLM_OK);
    s = good;
    s.server = "[::1]:5353";
    s.zone = "example.test.";
    s.tsig_algorithm = "hmac-sha512";
    CHECK_INT_EQ(dnsupdate_server_check(&s), CLM_OK);
    s.server = "::1";
    CHECK_INT_EQ(dnsupdate_server_check(&s), CLM_OK);
    s.tsig_algorithm = "hmac-sha384";
    CHECK_FAILS(dnsupdate_server_check(&s), CLM_ERR_UNSUPPORTED, "tsig_algorithm: ");
    CHECK_FAILS(dnsupdate_txt_add(&good, WWW, "v", 2147483648u), CLM_ERR_INVALID_ARGUMENT, "ttl: ");
    /* Nothing reached the server. */
    CHECK_STR_EQ(txt_of(WWW), "");
    CHECK_STR_EQ(txt_of(APEX), "");
}

/* ---- TCP: a relay whose UDP side is silent or answers "truncated" (TC), and whose TCP
 * side on the same port passes each message to named over TCP and its answer back ---- */

static struct {
    int udp_fd, listen_fd, stop[2], port;
    atomic_int truncate, tcp_exchanges;
    pthread_t thread;
} relay = {.udp_fd = -1, .listen_fd = -1};

static bool read_full(int fd, uint8_t *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = read(fd, buf + off, len - off);

        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    return true;
}

static bool write_full(int fd, const uint8_t *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, buf + off, len - off);

        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    return true;
}

/* One framed message (2-byte length, RFC 1035 4.2.2) from one stream to another. */
static bool pass_message(int from, int to)
{
    uint8_t buf[65537];
    size_t len;

    if (!read_full(from, buf, 2))
        return false;
    len = (size_t)buf[0] << 8 | buf[1];
    return read_full(from, buf + 2, len) && write_full(to, buf, len + 2);
}

static void relay_tcp(void)
{
    struct sockaddr_in named = {.sin_family = AF_INET, .sin_port = htons((uint16_t)dns.port)};
    int client = accept(relay.listen_fd, NULL, NULL);
    int upstream = socket(AF_INET, SOCK_STREAM, 0);

    named.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Counted before the answer goes back: the client may check the count at once. */
    if (client >= 0 && upstream >= 0 &&
        connect(upstream, (struct sockaddr *)&named, sizeof(named)) == 0 &&
        pass_message(client, upstream)) {
        atomic_fetch_add(&relay.tcp_exchanges, 1);
        (void)pass_message(upstream, client);
    }
    if (client >= 0)
        close(client);
    if (upstream >= 0)
        close(upstream);
}

static void *relay_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd fds[3] = {{.fd = relay.stop[0], .events = POLLIN},
                                {.fd = relay.udp_fd, .events = POLLIN},
                                {.fd = relay.listen_fd, .events = POLLIN}};
        uint8_t buf[65536];
        struct sockaddr_storage from;
        socklen_t from_len = sizeof(from);
        ssize_t n;

        if (poll(fds, 3, -1) < 0 || fds[0].revents != 0)
            return NULL;
        if (fds[1].revents & POLLIN) {
            n = recvfrom(relay.udp_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len);
            /* Silent, or the header alone with QR and TC set: "ask again over TCP". */
            if (n >= 12 && atomic_load(&relay.truncate)) {
                buf[2] |= 0x80 | 0x02;
                memset(buf + 4, 0, 8);
                sendto(relay.udp_fd, buf, 12, 0, (struct sockaddr *)&from, from_len);
            }
        }
        if (fds[2].revents & POLLIN)
            relay_tcp();
    }
}

static bool relay_start(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    int one = 1;

    relay.port = dns_test_free_port();
    sin.sin_port = htons((uint16_t)relay.port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    relay.udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
    relay.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(relay.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    return relay.port > 0 && pipe(relay.stop) == 0 &&
           bind(relay.udp_fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
           bind(relay.listen_fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
           listen(relay.listen_fd, 8) == 0 &&
           pthread_create(&relay.thread, NULL, relay_main, NULL) == 0;
}

static void relay_stop(void)
{
    (void)!write(relay.stop[1], "x", 1);
    pthread_join(relay.thread, NULL);
    close(relay.udp_fd);
    close(relay.listen_fd);
    close(relay.stop[0]);
    close(relay.stop[1]);
}

UNIT_TEST(test_tcp)
{
    dnsupdate_server s = signed_by("clm-key", secret);
    char server[32], value[256];

    if (!relay_start()) {
        CHECK(!"the relay started");
        return;
    }
    snprintf(server, sizeof(server), "127.0.0.1:%d", relay.port);
    s.server = server;
    s.zone = "example.test";
    s.timeout_ms = 1500;
    memset(value, 'L', 255);
    value[255] = '\0';

    /* The relay's UDP side is silent: a short update, sent over UDP, gets no answer. */
    CHECK_FAILS(dnsupdate_txt_add(&s, WWW, "udp", 0), CLM_ERR_UNAVAILABLE, "no answer over UDP");
    CHECK_INT_EQ(atomic_load(&relay.tcp_exchanges), 0);
    /* A message too long for UDP goes over TCP at once. */
    s.timeout_ms = 5000;
    CHECK_INT_EQ(dnsupdate_txt_add(&s, LONG, value, 0), CLM_OK);
    CHECK_INT_EQ(atomic_load(&relay.tcp_exchanges), 1);
    CHECK(strlen(txt_of(LONG)) == 257);
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, LONG, value), CLM_OK);
    CHECK_INT_EQ(atomic_load(&relay.tcp_exchanges), 2);
    CHECK_STR_EQ(txt_of(LONG), "");
    /* A truncated UDP answer: asked again over TCP, the SOA walk included. */
    atomic_store(&relay.truncate, 1);
    s.zone = NULL;
    CHECK_INT_EQ(dnsupdate_txt_add(&s, WWW, "after-tc", 0), CLM_OK);
    CHECK_INT_EQ(atomic_load(&relay.tcp_exchanges), 4);
    CHECK_STR_EQ(txt_of(WWW), "\"after-tc\"");
    CHECK_INT_EQ(dnsupdate_txt_delete(&s, WWW, NULL), CLM_OK);
    CHECK_STR_EQ(txt_of(WWW), "");
    relay_stop();
}

/* The round trip of a signed update (zone given) and of one with the SOA walk. */
UNIT_TEST(test_round_trip_time)
{
    dnsupdate_server s = signed_by("clm-key", secret);
    enum { N = 50 };
    int64_t start;
    double given_ms, walk_ms;
    int ok = 0;

    s.zone = "example.test";
    start = now_ms();
    for (int i = 0; i < N; i++)
        ok += dnsupdate_txt_add(&s, WWW, "timing", 0) == CLM_OK;
    given_ms = (double)(now_ms() - start) / N;
    s.zone = NULL;
    start = now_ms();
    for (int i = 0; i < N; i++)
        ok += dnsupdate_txt_delete(&s, WWW, "timing") == CLM_OK;
    walk_ms = (double)(now_ms() - start) / N;
    CHECK_INT_EQ(ok, 2 * N);
    CHECK_STR_EQ(txt_of(WWW), "");
    printf("round trip against bind9 (TSIG hmac-sha256): %.2f ms an update with the zone given, "
           "%.2f ms with the SOA walk (mean of %d)\n",
           given_ms, walk_ms, N);
}

int main(void)
{
    static const char *const names[] = {LONG_HOST, NULL};

    if (!dns_test_server_start(&dns, names)) {
        CHECK(!"named started");
        return unit_report();
    }
    CHECK(dns_test_server_secret(&dns, "clm-key", secret, sizeof(secret)) != NULL);
    CHECK(dns_test_server_secret(&dns, "clm-key-512", secret_512, sizeof(secret_512)) != NULL);
    CHECK(dns_test_server_secret(&dns, "other-key", secret_other, sizeof(secret_other)) != NULL);
    UNIT_RUN(test_add_delete);
    UNIT_RUN(test_zone);
    UNIT_RUN(test_refusals);
    UNIT_RUN(test_algorithms);
    UNIT_RUN(test_unreachable);
    UNIT_RUN(test_bad_arguments);
    UNIT_RUN(test_tcp);
    UNIT_RUN(test_round_trip_time);
    if (unit_failed > 0)
        dns_test_server_print_log(&dns);
    dns_test_server_stop(&dns);
    return unit_report();
}
