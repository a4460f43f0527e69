/* Unit test: the BASIC listing reader (basic.h) against protobuf-c's unpack, on records
 * built like the inventory's and on every truncation of them. */
#include "appliance/inventory/basic.h"
#include "tests/unit.h"

#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"www.example.com", "api.example.com"};

/* A record with every kind of field set, the listed ones and the others around them. */
static size_t pack_record(int variant, uint8_t *out, size_t cap)
{
    Clm__Store__V1__CertificateRecord r = CLM__STORE__V1__CERTIFICATE_RECORD__INIT;
    Clm__Store__V1__CertificateSource src = CLM__STORE__V1__CERTIFICATE_SOURCE__INIT;
    Clm__Store__V1__CertificateSource *sources[] = {&src};
    static uint8_t der[1500], sha256[32], sha1[20], ski[20];
    size_t size;

    for (size_t i = 0; i < sizeof(der); i++)
        der[i] = (uint8_t)(i * 7 + (size_t)variant);
    memset(sha256, 0xa0 + variant, sizeof(sha256));
    memset(sha1, 0x51, sizeof(sha1));
    memset(ski, 0x33, sizeof(ski));
    r.id = variant == 2 ? UINT64_MAX : (uint64_t)(1000 + variant);
    r.der.data = der, r.der.len = sizeof(der);
    r.sha256.data = sha256, r.sha256.len = 32;
    r.sha1.data = sha1, r.sha1.len = variant == 1 ? 0 : 20;
    r.subject = "CN=www.example.com,O=Example \xc3\x9c Corp,C=DE";
    r.issuer = variant == 1 ? "" : "CN=Issuing CA 1,O=Example Corp";
    r.common_name = variant == 1 ? "" : "www.example.com";
    r.dns_names = (char **)names, r.n_dns_names = 2;
    r.serial_hex = "0123456789abcdef0123456789abcdef";
    r.not_before = variant == 2 ? -2208988800 : 1700000000; /* 1900: a negative varint */
    r.not_after = variant == 2 ? INT64_MAX : 1800000000;
    r.key_type = "EC";
    r.key_bits = variant == 1 ? 0 : 256;
    r.key_curve = "P-256";
    r.ski.data = ski, r.ski.len = 20;
    r.path_length = -1;
    r.status = variant == 2 ? 6 : 2;
    r.group_id = variant == 1 ? 0 : 77;
    src.kind = "imported", src.by = "test";
    r.sources = sources, r.n_sources = 1;
    r.sealed_private_key.data = der, r.sealed_private_key.len = 100;
    size = clm__store__v1__certificate_record__get_packed_size(&r);
    CHECK(size <= cap);
    return size <= cap ? clm__store__v1__certificate_record__pack(&r, out) : 0;
}

static int same(const Clm__Store__V1__CertificateRecord *a, const Clm__Store__V1__CertificateRecord *b)
{
    return a->id == b->id && a->not_before == b->not_before && a->not_after == b->not_after &&
           a->key_bits == b->key_bits && a->status == b->status && a->group_id == b->group_id &&
           a->sha256.len == b->sha256.len &&
           (a->sha256.len == 0 || memcmp(a->sha256.data, b->sha256.data, a->sha256.len) == 0) &&
           a->sha1.len == b->sha1.len &&
           (a->sha1.len == 0 || memcmp(a->sha1.data, b->sha1.data, a->sha1.len) == 0) &&
           strcmp(a->subject, b->subject) == 0 && strcmp(a->issuer, b->issuer) == 0 &&
           strcmp(a->common_name, b->common_name) == 0 &&
           strcmp(a->serial_hex, b->serial_hex) == 0 && strcmp(a->key_type, b->key_type) == 0;
}

UNIT_TEST(basic_equals_protobuf_c)
{
    static uint8_t buf[8192];

    for (int variant = 0; variant < 3; variant++) {
        size_t len = pack_record(variant, buf, sizeof(buf));
        clm_arena arena = CLM_ARENA_INIT;
        Clm__Store__V1__CertificateRecord *full =
            clm__store__v1__certificate_record__unpack(NULL, len, buf);
        Clm__Store__V1__CertificateRecord *basic = inventory_read_basic(&arena, buf, len);

        CHECK(full != NULL && basic != NULL);
        if (full != NULL && basic != NULL) {
            CHECK(same(full, basic));
            CHECK_INT_EQ(basic->der.len, 0); /* not read */
            CHECK_INT_EQ(basic->n_dns_names, 0);
        }
        clm__store__v1__certificate_record__free_unpacked(full, NULL);
        /* every truncation: where protobuf-c reads a record, so does the reader, alike */
        for (size_t cut = 0; cut < len; cut++) {
            Clm__Store__V1__CertificateRecord *f =
                clm__store__v1__certificate_record__unpack(NULL, cut, buf);
            Clm__Store__V1__CertificateRecord *b = inventory_read_basic(&arena, buf, cut);
            if (f != NULL)
                CHECK(b != NULL && same(f, b));
            clm__store__v1__certificate_record__free_unpacked(f, NULL);
        }
        clm_arena_free(&arena);
    }
}

UNIT_TEST(basic_refuses_malformed)
{
    clm_arena arena = CLM_ARENA_INIT;
    static const uint8_t wrong_type[] = {0x0a, 0x01, 0x00};      /* id (1) as bytes */
    static const uint8_t overlong[] = {0x1a, 0x05, 0x01, 0x02}; /* sha256: 5 bytes, 2 there */
    static const uint8_t group[] = {0x2b};                       /* field 5, start group */
    static const uint8_t field0[] = {0x00, 0x01};
    static const uint8_t long_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0x01};

    CHECK(inventory_read_basic(&arena, wrong_type, sizeof(wrong_type)) == NULL);
    CHECK(inventory_read_basic(&arena, overlong, sizeof(overlong)) == NULL);
    CHECK(inventory_read_basic(&arena, group, sizeof(group)) == NULL);
    CHECK(inventory_read_basic(&arena, field0, sizeof(field0)) == NULL);
    CHECK(inventory_read_basic(&arena, long_varint, sizeof(long_varint)) == NULL);
    CHECK(inventory_read_basic(&arena, "", 0) != NULL); /* all defaults, as protobuf-c */
    /* field 2230707127 (past protobuf's 2^29 - 1): protobuf-c skips it as unknown; so do we
     * (found by basic_fuzz) */
    static const uint8_t big_field[] = {0xba, 0xbb, 0xbc, 0xbd, 0x42, 0x01, 0x00, 0x08, 0x07};
    Clm__Store__V1__CertificateRecord *r = inventory_read_basic(&arena, big_field, sizeof(big_field));
    Clm__Store__V1__CertificateRecord *f =
        clm__store__v1__certificate_record__unpack(NULL, sizeof(big_field), big_field);
    CHECK(r != NULL && f != NULL && r->id == 7 && f->id == 7);
    clm__store__v1__certificate_record__free_unpacked(f, NULL);
    clm_arena_free(&arena);
}

int main(void)
{
    UNIT_RUN(basic_equals_protobuf_c);
    UNIT_RUN(basic_refuses_malformed);
    return unit_report();
}
