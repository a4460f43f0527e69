/* adapters/ca/local/local_test.c: the local CA created or imported, issuing under its
 * profiles, checked with the real openssl CLI: issued certificates verify with `openssl
 * verify` and `openssl x509 -text` shows what the profile gives; bad input gives a clear
 * answer and changes nothing. Revocation and the CRL: revoke_test.c. */
#include "adapters/ca/local/local_testing.h"

/* ---- tests ----------------------------------------------------------------------------- */

UNIT_TEST(test_unconfigured)
{
    ca_memory_state state;
    adapter_ca *ca;
    adapter_ca_result r = {0};
    adapter_ca_revocation rev = {.serial = "01"};
    clm_buf csr = CLM_BUF_INIT, crl = CLM_BUF_INIT;

    ca_memory_state_init(&state);
    ca = open_ca(&state, NULL, 0);
    make_csr(PKI_KEY_EC_P256, "a.example.com", NULL, &csr);
    CHECK_INT_EQ(submit(ca, &csr, NULL, NULL, &r), ADAPTER_CA_UNCONFIGURED);
    CHECK_STR_CONTAINS(r.reason, "no CA key yet");
    adapter_ca_result_free(&r);
    CHECK_INT_EQ(ca_local_ops.revoke(ca, &rev, &r), CLM_OK);
    CHECK_INT_EQ(r.outcome, ADAPTER_CA_UNCONFIGURED);
    adapter_ca_result_free(&r);
    CHECK_INT_EQ(ca_local_ops.crl(ca, &crl), CLM_ERR_UNAVAILABLE);
    CHECK_INT_EQ(ca_local_ops.poll(ca, "x", &r), CLM_OK);
    CHECK_INT_EQ(r.outcome, ADAPTER_CA_UNSUPPORTED);
    adapter_ca_result_free(&r);
    CHECK_INT_EQ(state.puts, 0);
    ca_local_ops.close(ca);

    /* a key without its chain is damage, not "not set up" */
    {
        adapter_ca_state_item key = {.name = "key", .data = "x", .len = 1, .secret = true};
        adapter_ca_config config = {.connector = "damaged", .state = &state.state,
                                    .clock = &fake.clock};
        CHECK_INT_EQ(state.state.put(state.state.ctx, &key, 1), CLM_OK);
        ca = NULL;
        CHECK_INT_EQ(ca_local_ops.open(&config, &ca), CLM_ERR_STORE);
        CHECK_STR_CONTAINS(clm_error_message(), "local CA \"damaged\": state: a CA key without its chain");
        CHECK(ca == NULL);
    }
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&crl);
}

/* Create (per key type), issue a server certificate, check it with the CLI. */
static void create_and_issue(pki_key_type type)
{
    static const adapter_field_value config[] = {
        {"crl_url", "http://pki.example.com/test.crl"},
        {"ocsp_url", "http://ocsp.example.com"},
        {"issuer_url", "http://pki.example.com/inter.crt"},
    };
    ca_local_create_params params = {.key_type = type, .root_cn = "clm test root",
                                     .intermediate_cn = "clm test issuing CA",
                                     .organization = "clm"};
    ca_memory_state state;
    adapter_ca *ca;
    adapter_ca_result r = {0}, r2 = {0};
    clm_buf csr = CLM_BUF_INIT, out = CLM_BUF_INIT;
    pki_facts *leaf = NULL, *inter = NULL;
    int64_t nb = 0, na = 0;
    char leaf_pem[640], when[64];

    fprintf(stderr, "-- %s\n", pki_key_type_name(type));
    snprintf(leaf_pem, sizeof leaf_pem, "%s", path("leaf.pem"));
    ca_memory_state_init(&state);
    CHECK_INT_EQ(ca_local_create(&params, &state.state, &fake.clock), CLM_OK);
    CHECK(ca_memory_state_item(&state, "key") != NULL);
    CHECK(state.items[0].secret); /* "key" is the first item written, and secret */
    ca = open_ca(&state, config, 3);
    make_csr(PKI_KEY_EC_P256, "www.example.com", "www.example.com, example.com, 192.0.2.10",
             &csr);
    CHECK_INT_EQ(submit(ca, &csr, "server", "90", &r), ADAPTER_CA_ISSUED);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "issued");
    CHECK_INT_EQ(r.chain_len, 2);
    write_issued(&r, "leaf.pem");

    CHECK_INT_EQ(openssl_verify(leaf_pem, NULL, &out), 0);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "leaf.pem: OK");
    CHECK_INT_EQ(openssl_verify(leaf_pem, "sslserver", &out), 0);
    CHECK_INT_EQ(openssl_verify(leaf_pem, "sslclient", &out), 2); /* server profile only */

    x509_text("leaf.pem", &out);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "X509v3 Key Usage: critical\n                Digital Signature\n");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "X509v3 Extended Key Usage: \n                TLS Web Server Authentication\n");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "X509v3 Basic Constraints: critical\n                CA:FALSE");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "DNS:www.example.com, DNS:example.com, IP Address:192.0.2.10");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "OCSP - URI:http://ocsp.example.com");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "CA Issuers - URI:http://pki.example.com/inter.crt");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "URI:http://pki.example.com/test.crl");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "Issuer: O = clm, CN = clm test issuing CA");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "Subject: CN = www.example.com");

    /* validity from the injected clock: 90 days, backdated by 5 minutes */
    CHECK_INT_EQ(pki_facts_from_der(r.cert.data, r.cert.len, &leaf), CLM_OK);
    CHECK_INT_EQ(pki_facts_from_der(r.chain[0].data, r.chain[0].len, &inter), CLM_OK);
    if (leaf != NULL && inter != NULL) {
        nb = leaf->not_before;
        na = leaf->not_after;
        CHECK_INT_EQ(nb, clm_clock_now_ns(&fake.clock) / CLM_NS_PER_SEC - PKI_CERT_BACKDATE_SECONDS);
        CHECK_INT_EQ(na - nb, 90 * 86400 + PKI_CERT_BACKDATE_SECONDS);
        CHECK_STR_EQ(leaf->authority_key_id, inter->subject_key_id);
        CHECK(leaf->subject_key_id != NULL);
        CHECK_STR_EQ(leaf->serial, r.serial);
        /* 128 random bits as a positive INTEGER: at most 16 bytes of magnitude */
        CHECK(strlen(leaf->serial) <= 32 && strlen(leaf->serial) >= 16 && leaf->serial[0] != '-');
        CHECK_INT_EQ(inter->path_len, 0);
        CHECK(inter->is_ca);
    }
    {
        const char *argv[] = {"openssl", "x509", "-in", leaf_pem, "-noout", "-enddate", NULL};
        time_t t = (time_t)na;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "notAfter=%b %e %H:%M:%S %Y GMT", &tm);
        CHECK_INT_EQ(run(argv, &out), 0);
        CHECK_STR_CONTAINS(clm_buf_str(&out), when);
    }
    /* a second certificate: another serial */
    CHECK_INT_EQ(submit(ca, &csr, "server", NULL, &r2), ADAPTER_CA_ISSUED);
    CHECK(r.serial && r2.serial && strcmp(r.serial, r2.serial) != 0);

    pki_facts_free(leaf);
    pki_facts_free(inter);
    adapter_ca_result_free(&r);
    adapter_ca_result_free(&r2);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&out);
}

UNIT_TEST(test_create_and_issue)
{
    create_and_issue(PKI_KEY_EC_P256);
    create_and_issue(PKI_KEY_EC_P384);
    create_and_issue(PKI_KEY_RSA_2048);
}

/* A CA set up in a fresh state: created with the defaults. */
UNIT_TEST(test_profiles)
{
    ca_memory_state state;
    adapter_ca *ca = created_ca(&state, 0);
    adapter_ca_result r = {0};
    clm_buf csr = CLM_BUF_INIT, out = CLM_BUF_INIT;

    /* client: clientAuth only, EC: no keyEncipherment */
    make_csr(PKI_KEY_EC_P256, "alice", NULL, &csr);
    CHECK_INT_EQ(submit(ca, &csr, "client", NULL, &r), ADAPTER_CA_ISSUED);
    write_issued(&r, "client.pem");
    CHECK_INT_EQ(openssl_verify(path("client.pem"), "sslclient", &out), 0);
    x509_text("client.pem", &out);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "TLS Web Client Authentication");
    CHECK(strstr(clm_buf_str(&out), "TLS Web Server Authentication") == NULL);
    CHECK(strstr(clm_buf_str(&out), "Subject Alternative Name") == NULL);
    CHECK(strstr(clm_buf_str(&out), "Key Encipherment") == NULL);

    /* server-client, RSA key: keyEncipherment added, both EKUs */
    make_csr(PKI_KEY_RSA_2048, "both.example.com", "both.example.com", &csr);
    CHECK_INT_EQ(submit(ca, &csr, "server-client", "397", &r), ADAPTER_CA_ISSUED);
    write_issued(&r, "both.pem");
    CHECK_INT_EQ(openssl_verify(path("both.pem"), "sslserver", &out), 0);
    CHECK_INT_EQ(openssl_verify(path("both.pem"), "sslclient", &out), 0);
    x509_text("both.pem", &out);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "Digital Signature, Key Encipherment");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "TLS Web Server Authentication, TLS Web Client Authentication");

    /* server without SANs: the CN becomes the SAN */
    make_csr(PKI_KEY_EC_P256, "cn-only.example.com", NULL, &csr);
    CHECK_INT_EQ(submit(ca, &csr, "server", NULL, &r), ADAPTER_CA_ISSUED);
    write_issued(&r, "cn.pem");
    x509_text("cn.pem", &out);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "DNS:cn-only.example.com");

    /* the default profile is server: 90 days */
    CHECK_INT_EQ(submit(ca, &csr, NULL, NULL, &r), ADAPTER_CA_ISSUED);
    {
        pki_facts *f = NULL;
        CHECK_INT_EQ(pki_facts_from_der(r.cert.data, r.cert.len, &f), CLM_OK);
        CHECK(f && f->not_after - f->not_before == 90 * 86400 + PKI_CERT_BACKDATE_SECONDS);
        pki_facts_free(f);
    }

    /* sub-ca under an intermediate with pathLenConstraint 0: rejected */
    CHECK_INT_EQ(submit(ca, &csr, "sub-ca", NULL, &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "pathLenConstraint 0");

    adapter_ca_result_free(&r);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&out);
}

/* A CSR made by the openssl CLI with extra request extensions. */
static void cli_csr(const char *key_spec, const char *subj, const char *addext, clm_buf *csr)
{
    const char *argv[] = {"openssl", "req", "-new", "-newkey", key_spec, "-nodes",
                          "-keyout", path("cli.key"), "-subj", subj, "-out", path("cli.csr"),
                          addext ? "-addext" : NULL, addext, NULL};
    clm_buf out = CLM_BUF_INIT;

    CHECK_INT_EQ(run(argv, &out), 0);
    read_file("cli.csr", csr);
    clm_buf_free(&out);
}

UNIT_TEST(test_rejections)
{
    ca_memory_state state;
    adapter_ca *ca = created_ca(&state, 30);
    adapter_ca_result r = {0};
    clm_buf csr = CLM_BUF_INIT, der = CLM_BUF_INIT;
    int puts = state.puts;
    X509_REQ *req = NULL;

    make_csr(PKI_KEY_EC_P256, "www.example.com", "www.example.com", &csr);
    /* a bad signature: one bit of the signature flipped in the DER */
    CHECK_INT_EQ(pki_csr_read(csr.data, csr.len, &req), CLM_OK);
    if (req != NULL) {
        unsigned char *p = NULL;
        int len = i2d_X509_REQ(req, &p);
        CHECK(len > 10);
        if (len > 10) {
            p[len - 5] ^= 0x01;
            clm_buf_append(&der, p, (size_t)len);
        }
        OPENSSL_free(p);
        X509_REQ_free(req);
    }
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "csr: the request's signature does not verify");
    CHECK_INT_EQ(submit(ca, &(clm_buf){(unsigned char *)"junk", 4, 5}, "server", "10", &r),
                 ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "not a certificate request");

    /* validity: over the profile's maximum, and past the issuing CA's end (30 days) */
    CHECK_INT_EQ(submit(ca, &csr, "server", "398", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "398 days asked, profile \"server\" allows at most 397");
    CHECK_INT_EQ(submit(ca, &csr, "client", "397", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "outlive the issuing CA");
    CHECK_INT_EQ(submit(ca, &csr, "server", "29", &r), ADAPTER_CA_ISSUED);

    /* vendor fields: unknown, not allowed */
    {
        adapter_field_value v[] = {{"profile", "server"}, {"colour", "red"}};
        adapter_fields f = {v, 2};
        adapter_ca_request q = {.csr = csr.data, .csr_len = csr.len, .fields = f};
        CHECK_INT_EQ(ca_local_ops.check_fields(&f, true), CLM_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(clm_error_message(), "fields.colour: unknown field");
        adapter_ca_result_free(&r);
        CHECK_INT_EQ(ca_local_ops.submit(ca, &q, &r), CLM_OK);
        CHECK_INT_EQ(r.outcome, ADAPTER_CA_REJECTED);
        CHECK_STR_CONTAINS(r.reason, "fields.colour: unknown field");
    }
    CHECK_INT_EQ(submit(ca, &csr, "root", NULL, &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "fields.profile: \"root\" is not one of server, client");
    {
        adapter_field_value v[] = {{"crl_days", "0"}};
        adapter_fields f = {v, 1};
        CHECK_INT_EQ(ca_local_ops.check_fields(&f, false), CLM_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(clm_error_message(), "config.fields.crl_days: 0 is outside 1..366");
    }

    /* what the CSR asks for, against the profile */
    cli_csr("rsa:2048", "/CN=ca.example.com", "basicConstraints=critical,CA:TRUE", &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "asks for a CA certificate");
    cli_csr("rsa:2048", "/CN=sign.example.com", "extendedKeyUsage=codeSigning", &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "extendedKeyUsage 1.3.6.1.5.5.7.3.3");
    cli_csr("rsa:2048", "/CN=ok.example.com", "extendedKeyUsage=serverAuth", &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_ISSUED);
    cli_csr("rsa:2048", "/CN=ku.example.com", "keyUsage=keyCertSign", &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "keyUsage bit 5");
    cli_csr("rsa:1024", "/CN=weak.example.com", NULL, &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "the CSR's key is not accepted");
    cli_csr("rsa:2048", "/CN=not a host name", NULL, &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "is not a DNS name or IP address");
    cli_csr("rsa:2048", "/CN=x.example.com", "subjectAltName=RID:1.2.3.4", &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "only DNS, IP, email and URI entries");
    cli_csr("rsa:2048", "/CN=x.example.com", "subjectAltName=DNS:bad..example.com", &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "subjectAltName[0]");

    /* nothing was written by any of it */
    CHECK_INT_EQ(state.puts, puts);
    adapter_ca_result_free(&r);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&der);
}

/* ---- import ---------------------------------------------------------------------------- */

static void make_outside_ca(void)
{
    static const char ext[] =
        "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        "[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n";
    write_file("ext.cnf", ext, sizeof ext - 1);
    cli((const char *const[]){"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("oroot.key"),
                              "-out", path("oroot.pem"), "-subj", "/CN=outside root", "-days",
                              "3650", "-extensions", "ca", "-config", path("ext.cnf"), NULL});
    cli((const char *const[]){"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("ointer.key"),
                              "-out", path("ointer.csr"), "-subj", "/CN=outside issuing", NULL});
    cli((const char *const[]){"openssl", "x509", "-req", "-in", path("ointer.csr"), "-CA",
                              path("oroot.pem"), "-CAkey", path("oroot.key"), "-CAcreateserial",
                              "-out", path("ointer.pem"), "-days", "1000", "-extfile",
                              path("ext.cnf"), "-extensions", "ca", NULL});
    cli((const char *const[]){"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("oleaf.key"),
                              "-out", path("oleaf.csr"), "-subj", "/CN=outside leaf", NULL});
    cli((const char *const[]){"openssl", "x509", "-req", "-in", path("oleaf.csr"), "-CA",
                              path("ointer.pem"), "-CAkey", path("ointer.key"), "-CAcreateserial",
                              "-out", path("oleaf.pem"), "-days", "100", "-extfile",
                              path("ext.cnf"), "-extensions", "leaf", NULL});
    cli((const char *const[]){"openssl", "pkcs8", "-topk8", "-in", path("ointer.key"), "-out",
                              path("ointer-enc.key"), "-passout", "pass:Secret-1", "-v2",
                              "aes-256-cbc", NULL});
}

static clm_err import(ca_memory_state *state, const char *key, const char *password,
                      const char *const *chain)
{
    clm_buf k = CLM_BUF_INIT, c = CLM_BUF_INIT, part = CLM_BUF_INIT;
    clm_err err;

    read_file(key, &k);
    for (size_t i = 0; chain[i] != NULL; i++) {
        read_file(chain[i], &part);
        clm_buf_append(&c, part.data, part.len);
    }
    err = ca_local_import(k.data, k.len, password, c.data, c.len, &state->state, &fake.clock);
    clm_buf_wipe(&k);
    clm_buf_free(&c);
    clm_buf_free(&part);
    return err;
}

UNIT_TEST(test_import)
{
    ca_memory_state state;
    adapter_ca *ca;
    adapter_ca_result r = {0};
    clm_buf csr = CLM_BUF_INIT, out = CLM_BUF_INIT;
    ca_local_create_params params = {.root_cn = "r", .intermediate_cn = "i"};
    int64_t saved;

    make_outside_ca();
    /* the CLI dates its certificates from its own clock, without backdating: imports
     * check the chain at a time just after that */
    saved = fake.now;
    clm_clock_fake_set(&fake, clm_clock_now_ns(clm_clock_system()) + 2 * CLM_NS_PER_SEC);
    ca_memory_state_init(&state);

    /* bad imports: each named, none writes */
    CHECK_INT_EQ(import(&state, "oleaf.key", NULL, (const char *const[]){"ointer.pem", "oroot.pem", NULL}),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "key: it does not match any certificate of the chain");
    CHECK_INT_EQ(import(&state, "oleaf.key", NULL,
                        (const char *const[]){"oleaf.pem", "ointer.pem", "oroot.pem", NULL}),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "is not a CA that may sign certificates");
    CHECK_INT_EQ(import(&state, "ointer.key", NULL, (const char *const[]){"ointer.pem", NULL}),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "chain: does not reach a root (missing: CN=outside root)");
    CHECK_INT_EQ(import(&state, "ointer-enc.key", "Nope-9", (const char *const[]){"ointer.pem", "oroot.pem", NULL}),
                 CLM_ERR_UNAUTHENTICATED);
    CHECK(strstr(clm_error_message(), "Nope-9") == NULL); /* never the password */
    CHECK_INT_EQ(import(&state, "ointer.key", NULL, (const char *const[]){"ointer.key", "oroot.pem", NULL}),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "chain: holds a private key");
    /* at a time past the intermediate's end, the chain does not verify */
    clm_clock_fake_advance(&fake, (int64_t)1200 * 86400 * CLM_NS_PER_SEC);
    CHECK_INT_EQ(import(&state, "ointer.key", NULL, (const char *const[]){"ointer.pem", "oroot.pem", NULL}),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "chain: does not verify: certificate has expired");
    clm_clock_fake_advance(&fake, -(int64_t)1200 * 86400 * CLM_NS_PER_SEC);
    CHECK_INT_EQ(state.puts, 0);
    CHECK_INT_EQ((int)state.n, 0);

    /* a good one, with the chain given in any order and the key encrypted */
    CHECK_INT_EQ(import(&state, "ointer-enc.key", "Secret-1",
                        (const char *const[]){"oroot.pem", "ointer.pem", NULL}),
                 CLM_OK);
    CHECK_INT_EQ(state.puts, 1);
    CHECK_INT_EQ(import(&state, "ointer.key", NULL, (const char *const[]){"ointer.pem", "oroot.pem", NULL}),
                 CLM_ERR_ALREADY_EXISTS);
    CHECK_INT_EQ(ca_local_create(&params, &state.state, &fake.clock), CLM_ERR_ALREADY_EXISTS);
    CHECK_INT_EQ(state.puts, 1);
    clm_clock_fake_set(&fake, saved);

    ca = open_ca(&state, NULL, 0);
    make_csr(PKI_KEY_EC_P256, "imported.example.com", "imported.example.com", &csr);
    CHECK_INT_EQ(submit(ca, &csr, "server", "30", &r), ADAPTER_CA_ISSUED);
    write_issued(&r, "imported.pem");
    CHECK_INT_EQ(openssl_verify(path("imported.pem"), "sslserver", &out), 0);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "imported.pem: OK");
    x509_text("imported.pem", &out);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "Issuer: CN = outside issuing");

    /* the outside intermediate has no pathLenConstraint: a sub-CA may be issued */
    make_csr(PKI_KEY_EC_P256, "sub", NULL, &csr);
    CHECK_INT_EQ(submit(ca, &csr, "sub-ca", "100", &r), ADAPTER_CA_ISSUED);
    write_issued(&r, "sub.pem");
    CHECK_INT_EQ(openssl_verify(path("sub.pem"), NULL, &out), 0);
    x509_text("sub.pem", &out);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "CA:TRUE, pathlen:0");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "Certificate Sign, CRL Sign");
    CHECK(strstr(clm_buf_str(&out), "Extended Key Usage") == NULL);

    adapter_ca_result_free(&r);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&out);
}

UNIT_TEST(test_register)
{
    CHECK_INT_EQ(adapter_ca_register(&ca_local_ops), CLM_OK);
    CHECK(adapter_ca_find("local") == &ca_local_ops);
}

int main(void)
{
    if (local_test_setup("local_test") != 0)
        return 1;
    UNIT_RUN(test_register);
    UNIT_RUN(test_unconfigured);
    UNIT_RUN(test_create_and_issue);
    UNIT_RUN(test_profiles);
    UNIT_RUN(test_rejections);
    UNIT_RUN(test_import);
    return unit_report();
}
