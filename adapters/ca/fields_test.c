/* adapters/ca/fields_test.c: vendor fields against declarations, table-driven; the CA
 * registry's checks. */
#include "adapters/adapter.h"
#include "adapters/ca/fields.h"
#include "tests/unit.h"

static const char *const colours[] = {"red", "green", NULL};

static const adapter_field decls[] = {
    {.name = "profile", .type = ADAPTER_FIELD_CHOICE, .allowed = colours, .required = true,
     .help = "a colour"},
    {.name = "days", .type = ADAPTER_FIELD_INT, .min = 1, .max = 397, .help = "validity"},
    {.name = "notify", .type = ADAPTER_FIELD_BOOL, .help = "send mail"},
    {.name = "note", .type = ADAPTER_FIELD_STRING, .max_len = 8, .help = "free text"},
    {.name = "url", .type = ADAPTER_FIELD_URL, .help = "a URL"},
};

#define N_DECLS (sizeof decls / sizeof *decls)

typedef struct field_case {
    const char *what;
    adapter_field_value values[4];
    size_t n;
    clm_err want;
    const char *message; /* part of the message; NULL when OK */
} field_case;

static const field_case cases[] = {
    {"required only", {{"profile", "red"}}, 1, CLM_OK, NULL},
    {"all valid",
     {{"profile", "green"}, {"days", "397"}, {"notify", "true"}, {"url", "https://ca.example/crl"}},
     4, CLM_OK, NULL},
    {"missing required", {{"days", "30"}}, 1, CLM_ERR_INVALID_ARGUMENT,
     "fields.profile: required"},
    {"unknown field", {{"profile", "red"}, {"colour", "x"}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "fields.colour: unknown field (known: profile, days, notify, note, url)"},
    {"not allowed", {{"profile", "blue"}}, 1, CLM_ERR_INVALID_ARGUMENT,
     "fields.profile: \"blue\" is not one of red, green"},
    {"choice is exact", {{"profile", "Red"}}, 1, CLM_ERR_INVALID_ARGUMENT, "is not one of"},
    {"int not a number", {{"profile", "red"}, {"days", "ten"}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "fields.days: \"ten\" is not an integer"},
    {"int with blank", {{"profile", "red"}, {"days", " 10"}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "not an integer"},
    {"int trailing", {{"profile", "red"}, {"days", "10d"}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "not an integer"},
    {"int too large", {{"profile", "red"}, {"days", "398"}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "fields.days: 398 is outside 1..397"},
    {"int overflow", {{"profile", "red"}, {"days", "99999999999999999999"}}, 2,
     CLM_ERR_INVALID_ARGUMENT, "not an integer"},
    {"bool", {{"profile", "red"}, {"notify", "yes"}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "fields.notify: \"yes\" is not true or false"},
    {"string too long", {{"profile", "red"}, {"note", "123456789"}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "fields.note: 9 bytes, at most 8"},
    {"string control", {{"profile", "red"}, {"note", "a\nb"}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "fields.note: contains a control character"},
    {"string empty", {{"profile", "red"}, {"note", ""}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "fields.note: empty"},
    {"url scheme", {{"profile", "red"}, {"url", "ftp://x"}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "fields.url: \"ftp://x\" is not an http:// or https:// URL"},
    {"url blank", {{"profile", "red"}, {"url", "http://a b"}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "is not an http"},
    {"url no host", {{"profile", "red"}, {"url", "http:///crl"}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "is not an http"},
    {"twice", {{"profile", "red"}, {"profile", "red"}}, 2, CLM_ERR_INVALID_ARGUMENT,
     "fields.profile: given twice"},
    {"null value", {{"profile", NULL}}, 1, CLM_ERR_INVALID_ARGUMENT, "a name and a value"},
};

UNIT_TEST(test_values)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const field_case *c = &cases[i];
        adapter_fields f = {c->values, c->n};
        clm_err err = ca_fields_check(decls, N_DECLS, &f, "fields");

        if (err != c->want)
            fprintf(stderr, "case \"%s\": %s\n", c->what, clm_error_message());
        CHECK_INT_EQ(err, c->want);
        if (c->message != NULL)
            CHECK_STR_CONTAINS(clm_error_message(), c->message);
    }
}

UNIT_TEST(test_getters)
{
    adapter_field_value v[] = {{"profile", "red"}, {"days", "30"}, {"notify", "true"}};
    adapter_fields f = {v, 3};
    int64_t days = 0;

    CHECK_STR_EQ(ca_fields_get(&f, "profile"), "red");
    CHECK(ca_fields_get(&f, "note") == NULL);
    CHECK_INT_EQ(ca_fields_get_int(&f, "days", 90, &days), CLM_OK);
    CHECK_INT_EQ(days, 30);
    CHECK_INT_EQ(ca_fields_get_int(&f, "missing", 90, &days), CLM_OK);
    CHECK_INT_EQ(days, 90);
    CHECK_INT_EQ(ca_fields_get_int(&f, "profile", 90, &days), CLM_ERR_INVALID_ARGUMENT);
    CHECK(ca_fields_get_bool(&f, "notify", false));
    CHECK(ca_fields_get_bool(&f, "other", true));
}

UNIT_TEST(test_declarations)
{
    static const adapter_field bad_name[] = {{.name = "Profile", .help = "x"}};
    static const adapter_field twice[] = {{.name = "a", .help = "x"}, {.name = "a", .help = "y"}};
    static const adapter_field no_allowed[] = {
        {.name = "a", .type = ADAPTER_FIELD_CHOICE, .help = "x"}};
    static const adapter_field range[] = {
        {.name = "a", .type = ADAPTER_FIELD_INT, .min = 5, .max = 1, .help = "x"}};
    static const adapter_field no_help[] = {{.name = "a"}};
    static const adapter_field secret_int[] = {
        {.name = "a", .type = ADAPTER_FIELD_INT, .min = 1, .max = 2, .help = "x", .secret = true}};
    static const adapter_field secret_url[] = {
        {.name = "a", .type = ADAPTER_FIELD_URL, .help = "x", .secret = true}};
    static const adapter_field secret_string[] = {
        {.name = "key", .type = ADAPTER_FIELD_STRING, .help = "x", .secret = true}};

    CHECK_INT_EQ(ca_fields_check_declarations(decls, N_DECLS, "t"), CLM_OK);
    CHECK_INT_EQ(ca_fields_check_declarations(bad_name, 1, "t"), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "[a-z0-9_]+");
    CHECK_INT_EQ(ca_fields_check_declarations(twice, 2, "t"), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "declared twice");
    CHECK_INT_EQ(ca_fields_check_declarations(no_allowed, 1, "t"), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(ca_fields_check_declarations(range, 1, "t"), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(ca_fields_check_declarations(no_help, 1, "t"), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(ca_fields_check_declarations(secret_int, 1, "t"), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "t.a: only a string field can be secret (it is a int)");
    CHECK_INT_EQ(ca_fields_check_declarations(secret_url, 1, "t"), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "it is a url");
    CHECK_INT_EQ(ca_fields_check_declarations(secret_string, 1, "t"), CLM_OK);
    CHECK(ca_fields_find(secret_string, 1, "key") == &secret_string[0]);
    CHECK(ca_fields_find(secret_string, 1, "other") == NULL);
}

static clm_err fake_check(const adapter_fields *f, bool request)
{
    return ca_fields_check(decls, N_DECLS, f, request ? "fields" : "config.fields");
}

static clm_err fake_open(const adapter_ca_config *config, adapter_ca **out)
{
    (void)config;
    *out = NULL;
    return clm_fail(CLM_ERR_UNSUPPORTED, "not in this test");
}

static void fake_close(adapter_ca *ca)
{
    (void)ca;
}

static clm_err fake_submit(adapter_ca *ca, const adapter_ca_request *r, adapter_ca_result *out)
{
    (void)ca;
    (void)r;
    return adapter_ca_result_set(out, ADAPTER_CA_UNREACHABLE, "down for %d s", 30);
}

UNIT_TEST(test_registry)
{
    static const adapter_ca_ops fake = {
        .name = "fake", .flags = 0, .request_fields = decls, .n_request_fields = N_DECLS,
        .check_fields = fake_check, .open = fake_open, .close = fake_close,
        .submit = fake_submit};
    static const adapter_ca_ops promises_revoke = {
        .name = "liar", .flags = ADAPTER_CA_F_REVOKE, .check_fields = fake_check,
        .open = fake_open, .close = fake_close, .submit = fake_submit};
    static const adapter_field bad[] = {{.name = "x y", .help = "h"}};
    static const adapter_ca_ops bad_fields = {
        .name = "bad", .config_fields = bad, .n_config_fields = 1, .check_fields = fake_check,
        .open = fake_open, .close = fake_close, .submit = fake_submit};
    static const adapter_field secret_key[] = {
        {.name = "key", .type = ADAPTER_FIELD_STRING, .help = "h", .secret = true}};
    static const adapter_ca_ops secret_request = {
        .name = "leaky", .request_fields = secret_key, .n_request_fields = 1,
        .check_fields = fake_check, .open = fake_open, .close = fake_close,
        .submit = fake_submit};
    static const adapter_ca_ops secret_config = {
        .name = "sealed", .config_fields = secret_key, .n_config_fields = 1,
        .check_fields = fake_check, .open = fake_open, .close = fake_close,
        .submit = fake_submit};
    adapter_ca_result r = {0};
    adapter_ca_revoke_reason reason;

    CHECK_INT_EQ(adapter_ca_register(&fake), CLM_OK);
    CHECK_INT_EQ(adapter_ca_register(&fake), CLM_ERR_ALREADY_EXISTS);
    CHECK_INT_EQ(adapter_ca_register(&promises_revoke), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(adapter_ca_register(&bad_fields), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "bad: config_fields[0]");
    CHECK_INT_EQ(adapter_ca_register(&secret_request), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "leaky: request_fields.key: a request field cannot be secret");
    CHECK(adapter_ca_find("leaky") == NULL);
    CHECK_INT_EQ(adapter_ca_register(&secret_config), CLM_OK);
    CHECK(adapter_ca_find("FAKE") == &fake);
    CHECK(adapter_ca_find("liar") == NULL);
    CHECK_INT_EQ(adapter_ca_find("fake")->submit(NULL, NULL, &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "unreachable");
    CHECK_STR_EQ(r.reason, "down for 30 s");
    adapter_ca_result_free(&r);

    CHECK_STR_EQ(adapter_ca_outcome_name(ADAPTER_CA_ISSUED), "issued");
    CHECK_STR_EQ(adapter_ca_outcome_name(ADAPTER_CA_OUTCOME_MAX), "unknown");
    CHECK_STR_EQ(adapter_field_type_name(ADAPTER_FIELD_URL), "url");
    CHECK_INT_EQ(adapter_ca_revoke_reason_parse("keycompromise", &reason), CLM_OK);
    CHECK_INT_EQ(reason, ADAPTER_CA_REASON_KEY_COMPROMISE);
    CHECK_INT_EQ(adapter_ca_revoke_reason_parse("10", &reason), CLM_OK);
    CHECK_INT_EQ(reason, ADAPTER_CA_REASON_AA_COMPROMISE);
    CHECK_INT_EQ(adapter_ca_revoke_reason_parse("7", &reason), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(adapter_ca_revoke_reason_parse("11", &reason), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_EQ(adapter_ca_revoke_reason_name(ADAPTER_CA_REASON_SUPERSEDED), "superseded");
}

int main(void)
{
    UNIT_RUN(test_values);
    UNIT_RUN(test_getters);
    UNIT_RUN(test_declarations);
    UNIT_RUN(test_registry);
    return unit_report();
}
