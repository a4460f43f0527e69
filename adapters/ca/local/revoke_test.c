/* adapters/ca/local/revoke_test.c: the local CA's revocations and CRL, checked with the
 * real openssl CLI (`openssl crl -verify` lists the revoked serials with their
 * reasons), the stored revocation list's codec, signing from several threads at once,
 * and many revocations. */
#include "adapters/ca/local/local_testing.h"

/* ---- revocation and the CRL ------------------------------------------------------------ */

static adapter_ca_outcome do_revoke(adapter_ca *ca, const char *serial,
                                 adapter_ca_revoke_reason reason, const adapter_ca_der *cert,
                                 adapter_ca_result *r)
{
    adapter_ca_revocation rev = {.serial = serial, .reason = reason,
                                 .cert = cert ? cert->data : NULL, .cert_len = cert ? cert->len : 0};
    adapter_ca_result_free(r);
    CHECK_INT_EQ(ca_local_ops.revoke(ca, &rev, r), CLM_OK);
    return r->outcome;
}

static int64_t crl_number(const clm_buf *der)
{
    const unsigned char *p = der->data;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der->len);
    ASN1_INTEGER *n = crl ? X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL) : NULL;
    int64_t v = n ? ASN1_INTEGER_get(n) : -1;

    ASN1_INTEGER_free(n);
    X509_CRL_free(crl);
    return v;
}

static void write_crl(adapter_ca *ca, clm_buf *der)
{
    clm_buf_reset(der);
    CHECK_INT_EQ(ca_local_ops.crl(ca, der), CLM_OK);
    write_file("crl.der", der->data, der->len);
    cli((const char *const[]){"openssl", "crl", "-inform", "DER", "-in", path("crl.der"), "-out",
                              path("crl.pem"), NULL});
}

UNIT_TEST(test_revoke_and_crl)
{
    ca_memory_state state;
    adapter_ca *ca = created_ca(&state, 0);
    adapter_ca_result issued[4] = {{0}}, r = {0};
    clm_buf csr = CLM_BUF_INIT, der = CLM_BUF_INIT, out = CLM_BUF_INIT;
    char names[4][16], lower[64];
    int puts;

    make_csr(PKI_KEY_EC_P256, "r.example.com", "r.example.com", &csr);
    for (int i = 0; i < 4; i++) {
        CHECK_INT_EQ(submit(ca, &csr, "server", NULL, &issued[i]), ADAPTER_CA_ISSUED);
        snprintf(names[i], sizeof names[i], "leaf%d.pem", i);
        write_issued(&issued[i], names[i]);
    }
    /* an empty CRL first: number 1 */
    write_crl(ca, &der);
    CHECK_INT_EQ(crl_number(&der), 1);

    CHECK_INT_EQ(do_revoke(ca, issued[0].serial, ADAPTER_CA_REASON_KEY_COMPROMISE, NULL, &r),
                 ADAPTER_CA_REVOKED);
    CHECK_STR_EQ(r.serial, issued[0].serial);
    CHECK_INT_EQ(do_revoke(ca, issued[1].serial, ADAPTER_CA_REASON_SUPERSEDED, &issued[1].cert, &r),
                 ADAPTER_CA_REVOKED);
    /* lower case with colons is the same serial */
    {
        size_t k = 0;
        for (const char *p = issued[2].serial; *p && k + 3 < sizeof lower; p++) {
            lower[k++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
            if (((p - issued[2].serial) % 2) == 1 && p[1])
                lower[k++] = ':';
        }
        lower[k] = '\0';
    }
    CHECK_INT_EQ(do_revoke(ca, lower, ADAPTER_CA_REASON_CERTIFICATE_HOLD, NULL, &r), ADAPTER_CA_REVOKED);
    CHECK_INT_EQ(do_revoke(ca, issued[2].serial, ADAPTER_CA_REASON_CESSATION_OF_OPERATION, NULL, &r),
                 ADAPTER_CA_REVOKED); /* hold made permanent */

    /* refusals change nothing */
    puts = state.puts;
    CHECK_INT_EQ(do_revoke(ca, issued[0].serial, ADAPTER_CA_REASON_SUPERSEDED, NULL, &r),
                 ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "already revoked (keyCompromise)");
    CHECK_INT_EQ(do_revoke(ca, "xyz", ADAPTER_CA_REASON_UNSPECIFIED, NULL, &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "serial: \"xyz\" is not hexadecimal");
    CHECK_INT_EQ(do_revoke(ca, "00", ADAPTER_CA_REASON_UNSPECIFIED, NULL, &r), ADAPTER_CA_REJECTED);
    CHECK_INT_EQ(do_revoke(ca, "1234", (adapter_ca_revoke_reason)7, NULL, &r), ADAPTER_CA_REJECTED);
    CHECK_INT_EQ(do_revoke(ca, "1234", ADAPTER_CA_REASON_REMOVE_FROM_CRL, NULL, &r), ADAPTER_CA_REJECTED);
    CHECK_INT_EQ(do_revoke(ca, "1234", ADAPTER_CA_REASON_SUPERSEDED, &issued[3].cert, &r),
                 ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "is not the certificate's");
    state.fail_puts = 1;
    {
        adapter_ca_revocation rev = {.serial = issued[3].serial, .reason = 0};
        adapter_ca_result_free(&r);
        CHECK_INT_EQ(ca_local_ops.revoke(ca, &rev, &r), CLM_ERR_STORE);
    }
    CHECK_INT_EQ(state.puts, puts);

    write_crl(ca, &der);
    CHECK_INT_EQ(crl_number(&der), 2);
    {
        const char *argv[] = {"openssl", "crl", "-in", path("crl.pem"), "-CAfile",
                              path("inter.pem"), "-verify", "-noout", "-text", NULL};
        char line[80];
        CHECK_INT_EQ(run(argv, &out), 0);
        CHECK_STR_CONTAINS(clm_buf_str(&out), "verify OK");
        CHECK_STR_CONTAINS(clm_buf_str(&out), "Version 2 (0x1)");
        CHECK_STR_CONTAINS(clm_buf_str(&out), "Next Update:");
        CHECK_STR_CONTAINS(clm_buf_str(&out), "X509v3 CRL Number: \n                2\n");
        CHECK_STR_CONTAINS(clm_buf_str(&out), "X509v3 Authority Key Identifier");
        for (int i = 0; i < 3; i++) {
            snprintf(line, sizeof line, "Serial Number: %s\n", issued[i].serial);
            CHECK_STR_CONTAINS(clm_buf_str(&out), line);
        }
        CHECK(strstr(clm_buf_str(&out), issued[3].serial) == NULL);
        CHECK_STR_CONTAINS(clm_buf_str(&out), "Key Compromise");
        CHECK_STR_CONTAINS(clm_buf_str(&out), "Superseded");
        CHECK_STR_CONTAINS(clm_buf_str(&out), "Cessation Of Operation");
        CHECK(strstr(clm_buf_str(&out), "Certificate Hold") == NULL);
    }
    /* the nextUpdate is crl_days (7 by default) after thisUpdate */
    {
        const unsigned char *p = der.data;
        X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der.len);
        int days = -1, secs = -1;
        CHECK(crl != NULL);
        if (crl != NULL) {
            CHECK(ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(crl),
                                 X509_CRL_get0_nextUpdate(crl)) == 1);
            CHECK_INT_EQ(days, 7);
            CHECK_INT_EQ(secs, 0);
        }
        X509_CRL_free(crl);
    }
    /* openssl verify with the CRL: revoked leaves fail, the others pass */
    {
        const char *argv[] = {"openssl", "verify", "-crl_check", "-CRLfile", path("crl.pem"),
                              "-CAfile", path("root.pem"), "-untrusted", path("inter.pem"),
                              path("leaf0.pem"), NULL};
        CHECK_INT_EQ(run(argv, &out), 2);
        CHECK_STR_CONTAINS(clm_buf_str(&out), "certificate revoked");
        argv[9] = path("leaf3.pem");
        CHECK_INT_EQ(run(argv, &out), 0);
        CHECK_STR_CONTAINS(clm_buf_str(&out), "leaf3.pem: OK");
    }

    /* reopened from the state: the revocations and the CRL number carry on */
    ca_local_ops.close(ca);
    ca = open_ca(&state, (const adapter_field_value[]){{"crl_days", "1"}}, 1);
    CHECK_INT_EQ(do_revoke(ca, issued[1].serial, ADAPTER_CA_REASON_KEY_COMPROMISE, NULL, &r),
                 ADAPTER_CA_REJECTED);
    write_crl(ca, &der);
    CHECK_INT_EQ(crl_number(&der), 3);
    {
        const char *argv[] = {"openssl", "crl", "-in", path("crl.pem"), "-CAfile",
                              path("inter.pem"), "-verify", "-noout", "-text", NULL};
        CHECK_INT_EQ(run(argv, &out), 0);
        CHECK_STR_CONTAINS(clm_buf_str(&out), issued[0].serial);
        CHECK_STR_CONTAINS(clm_buf_str(&out), issued[2].serial);
    }

    for (int i = 0; i < 4; i++)
        adapter_ca_result_free(&issued[i]);
    adapter_ca_result_free(&r);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&der);
    clm_buf_free(&out);
}

UNIT_TEST(test_revoked_codec)
{
    clm_arena arena = CLM_ARENA_INIT;
    ca_local_revoked *list = NULL;
    size_t n = 0;
    clm_buf again = CLM_BUF_INIT;
    char serial[41];
    static const char good[] = "1A2B 1700000000 1\nFF 0 6\n0F 5 0\n";
    static const char *const bad[] = {
        "1a2b 1 1\n", "001A 1 1\n", "1 1 1\n", "01 1 7\n", "01 1 8\n", "01 1 1", "01 01 1\n",
        "01 1 01\n", "01 1 1\n01 2 3\n", "01  1 1\n", "0G 1 1\n", "01 1\n",
        "01 99999999999999999999 1\n",
    };

    CHECK_INT_EQ(ca_local_revoked_parse(good, sizeof good - 1, &arena, &list, &n), CLM_OK);
    CHECK_INT_EQ(n, 3);
    if (n == 3) {
        CHECK_STR_EQ(list[0].serial, "1A2B");
        CHECK_INT_EQ(list[0].when, 1700000000);
        CHECK_INT_EQ(list[1].reason, ADAPTER_CA_REASON_CERTIFICATE_HOLD);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        clm_err err = ca_local_revoked_parse(bad[i], strlen(bad[i]), &arena, &list, &n);
        if (err != CLM_ERR_PARSE)
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
        CHECK_INT_EQ(err, CLM_ERR_PARSE);
    }
    CHECK_INT_EQ(ca_local_revoked_parse("", 0, &arena, &list, &n), CLM_OK);
    CHECK_INT_EQ(n, 0);
    CHECK_INT_EQ(ca_local_serial_normalise("0x00:0a:1B", serial), CLM_OK);
    CHECK_STR_EQ(serial, "0A1B");
    CHECK_INT_EQ(ca_local_serial_normalise("f", serial), CLM_OK);
    CHECK_STR_EQ(serial, "0F");
    CHECK_INT_EQ(ca_local_serial_normalise("0a::1b", serial), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(ca_local_serial_normalise("", serial), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(ca_local_serial_normalise("1234567890123456789012345678901234567890", serial),
                 CLM_OK);
    CHECK_INT_EQ(ca_local_serial_normalise("11234567890123456789012345678901234567890", serial),
                 CLM_ERR_INVALID_ARGUMENT);
    clm_buf_free(&again);
    clm_arena_free(&arena);
}

/* ---- threads: submit from several at once (the documented thread rule) ----------------- */

typedef struct worker {
    adapter_ca *ca;
    const clm_buf *csr;
    int issued;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    adapter_ca_result r = {0};
    adapter_field_value v[] = {{"profile", "server"}};
    adapter_ca_request req = {.csr = w->csr->data, .csr_len = w->csr->len, .fields = {v, 1}};

    for (int i = 0; i < 50; i++) {
        if (ca_local_ops.submit(w->ca, &req, &r) == CLM_OK && r.outcome == ADAPTER_CA_ISSUED)
            w->issued++;
        adapter_ca_result_free(&r);
    }
    return NULL;
}

UNIT_TEST(test_threads)
{
    ca_memory_state state;
    adapter_ca *ca = created_ca(&state, 0);
    clm_buf csr = CLM_BUF_INIT, crl = CLM_BUF_INIT;
    pthread_t threads[4];
    worker workers[4];

    make_csr(PKI_KEY_EC_P256, "t.example.com", "t.example.com", &csr);
    for (int i = 0; i < 4; i++) {
        workers[i] = (worker){ca, &csr, 0};
        pthread_create(&threads[i], NULL, worker_main, &workers[i]);
    }
    /* revocations and CRLs meanwhile, on this thread */
    for (int i = 1; i <= 20; i++) {
        char serial[8];
        adapter_ca_result r = {0};
        snprintf(serial, sizeof serial, "%X", i);
        CHECK_INT_EQ(do_revoke(ca, serial, ADAPTER_CA_REASON_SUPERSEDED, NULL, &r), ADAPTER_CA_REVOKED);
        adapter_ca_result_free(&r);
        clm_buf_reset(&crl);
        CHECK_INT_EQ(ca_local_ops.crl(ca, &crl), CLM_OK);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK_INT_EQ(workers[i].issued, 50);
    }
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&crl);
}

static int crl_entries(const clm_buf *der)
{
    const unsigned char *p = der->data;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der->len);
    int n = crl ? (int)sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) : -1;

    X509_CRL_free(crl);
    return n;
}

/* Past the first allocation of the list (64), and back from the state. */
UNIT_TEST(test_many_revocations)
{
    ca_memory_state state;
    adapter_ca *ca = created_ca(&state, 0);
    adapter_ca_result r = {0};
    clm_buf crl = CLM_BUF_INIT;
    char serial[16];

    for (int i = 1; i <= 300; i++) {
        snprintf(serial, sizeof serial, "%X", i * 7919);
        CHECK_INT_EQ(do_revoke(ca, serial, (adapter_ca_revoke_reason)(i % 6), NULL, &r),
                     ADAPTER_CA_REVOKED);
    }
    CHECK_INT_EQ(ca_local_ops.crl(ca, &crl), CLM_OK);
    CHECK_INT_EQ(crl_entries(&crl), 300);
    ca_local_ops.close(ca);
    ca = open_ca(&state, NULL, 0);
    snprintf(serial, sizeof serial, "%X", 150 * 7919);
    CHECK_INT_EQ(do_revoke(ca, serial, ADAPTER_CA_REASON_KEY_COMPROMISE, NULL, &r),
                 ADAPTER_CA_REJECTED);
    CHECK_INT_EQ(do_revoke(ca, "ABCDEF", ADAPTER_CA_REASON_KEY_COMPROMISE, NULL, &r),
                 ADAPTER_CA_REVOKED);
    clm_buf_reset(&crl);
    CHECK_INT_EQ(ca_local_ops.crl(ca, &crl), CLM_OK);
    CHECK_INT_EQ(crl_entries(&crl), 301);
    adapter_ca_result_free(&r);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&crl);
}


int main(void)
{
    if (local_test_setup("revoke_test") != 0)
        return 1;
    UNIT_RUN(test_revoke_and_crl);
    UNIT_RUN(test_revoked_codec);
    UNIT_RUN(test_threads);
    UNIT_RUN(test_many_revocations);
    return unit_report();
}
