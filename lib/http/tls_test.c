/* lib/http/tls_test.c: TLS and mutual TLS against the loopback server
 * (http_test_server.h): verification, refusals, bad options, client certificates. */
#include "lib/http/http_test_server.h"

/* ---- TLS ---- */


static clm_err tls_get(const char *url, const http_tls_options *tls, http_response *resp,
                       http_failure *failure)
{
    http_request req = {
        .url = url, .tls = tls, .connect_timeout_ms = 5000, .total_timeout_ms = 20000};

    return http_request_send_ex(&req, resp, failure);
}

UNIT_TEST(test_tls_ok)
{
    http_tls_options tls = {.ca_file = ca_path("ca.pem")};
    http_response resp;
    http_failure failure;
    size_t pem_len = 0;
    char *pem = read_file("ca.pem", &pem_len);
    char want[64];

    /* An IP literal: checked against the certificate's IP SANs, no SNI. */
    CHECK_INT_EQ(
        tls_get(url_to("https", "127.0.0.1", srv.https, "/echo?q=1"), &tls, &resp, &failure),
        CLM_OK);
    CHECK_STR_CONTAINS((const char *)resp.body, "request-line GET /echo?q=1 HTTP/1.1\n");
    snprintf(want, sizeof(want), "header Host: 127.0.0.1:%d\n", srv.https);
    CHECK_STR_CONTAINS((const char *)resp.body, want);
    http_response_free(&resp);

    /* A name, with the hashed CA directory. */
    tls = (http_tls_options){.ca_dir = ca_path("cadir")};
    CHECK_INT_EQ(
        tls_get(url_to("https", "localhost", srv.https, "/chunked"), &tls, &resp, &failure),
        CLM_OK);
    CHECK_STR_EQ((const char *)resp.body, "hello chunked world");
    http_response_free(&resp);

    /* The CA as PEM text, and an explicit server name. */
    tls = (http_tls_options){.ca_pem = pem, .ca_pem_len = pem_len, .server_name = "localhost"};
    CHECK_INT_EQ(tls_get(url_to("https", "127.0.0.1", srv.https, "/huge?size=300000"), &tls, &resp,
                         &failure),
                 CLM_OK);
    CHECK_INT_EQ(resp.body_len, 300000);
    http_response_free(&resp);

    /* A POST with a body over TLS. */
    {
        http_request req = {.method = "POST",
                            .url = url_to("https", "localhost", srv.https, "/echo"),
                            .body = "{\"a\":1}",
                            .body_len = 7,
                            .tls = &tls};
        const unsigned char *got;
        size_t got_len;

        CHECK_INT_EQ(http_request_send(&req, &resp), CLM_OK);
        got = echo_body(&resp, &got_len);
        CHECK(got != NULL && got_len == 7 && memcmp(got, "{\"a\":1}", 7) == 0);
        http_response_free(&resp);
    }

    /* A body that ends with the connection must end with close_notify over TLS. */
    tls = (http_tls_options){.ca_file = ca_path("ca.pem")};
    CHECK_INT_EQ(tls_get(url_to("https", "localhost", srv.https, "/raw/eof-body?close_notify=1"),
                         &tls, &resp, &failure),
                 CLM_OK);
    CHECK_STR_EQ((const char *)resp.body, "the body ends with the connection");
    http_response_free(&resp);
    CHECK_INT_EQ(
        tls_get(url_to("https", "localhost", srv.https, "/raw/eof-body"), &tls, &resp, &failure),
        CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "closed without TLS close_notify");
    free(pem);
}

UNIT_TEST(test_tls_refused)
{
    http_tls_options tls = {.ca_file = ca_path("ca.pem")};
    http_response resp;
    http_failure failure;
    int64_t start;

    /* No CA given: the system store, which does not know the test CA. */
    CHECK_INT_EQ(tls_get(url_to("https", "localhost", srv.https, "/echo"), NULL, &resp, &failure),
                 CLM_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(clm_error_message(), "TLS handshake with localhost port");
    CHECK_STR_CONTAINS(clm_error_message(),
                       "certificate does not verify: unable to get local issuer certificate");
    CHECK_INT_EQ(failure, HTTP_FAILURE_TLS_VERIFY);

    /* Another CA. */
    tls.ca_file = ca_path("other-ca.pem");
    CHECK_INT_EQ(tls_get(url_to("https", "localhost", srv.https, "/echo"), &tls, &resp, &failure),
                 CLM_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(clm_error_message(), "does not verify");

    /* The right CA, the wrong name. */
    tls.ca_file = ca_path("ca.pem");
    tls.server_name = "wrong.example";
    CHECK_INT_EQ(tls_get(url_to("https", "127.0.0.1", srv.https, "/echo"), &tls, &resp, &failure),
                 CLM_ERR_UNAVAILABLE);
    /* OpenSSL says "hostname mismatch", BoringSSL "Hostname mismatch". */
    CHECK(strcasestr(clm_error_message(), "does not verify: hostname mismatch") != NULL);
    CHECK_INT_EQ(failure, HTTP_FAILURE_TLS_VERIFY);
    tls.server_name = NULL;

    /* An IP the certificate does not name. */
    tls.server_name = "127.0.0.2";
    CHECK_INT_EQ(tls_get(url_to("https", "127.0.0.1", srv.https, "/echo"), &tls, &resp, &failure),
                 CLM_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(clm_error_message(), "does not verify: IP address mismatch");
    tls.server_name = NULL;

    /* TLS to a plain HTTP server. */
    CHECK_INT_EQ(tls_get(url_to("https", "127.0.0.1", srv.http, "/echo"), &tls, &resp, &failure),
                 CLM_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(clm_error_message(), "TLS handshake with 127.0.0.1 port");

    /* A server that never answers the ClientHello. */
    {
        http_request req = {.url = url_to("https", "127.0.0.1", srv.stall, "/"),
                            .tls = &tls,
                            .connect_timeout_ms = 300};

        start = http_now_ns();
        CHECK_INT_EQ(http_request_send_ex(&req, &resp, &failure), CLM_ERR_TIMEOUT);
        CHECK_STR_CONTAINS(clm_error_message(), "TLS handshake with 127.0.0.1 port");
        CHECK_STR_CONTAINS(clm_error_message(), "timed out after 300 ms");
        CHECK_INT_EQ(failure, HTTP_FAILURE_TLS_IO);
        CHECK(ms_since(start) >= 290 && ms_since(start) < 5000);
    }
}

UNIT_TEST(test_tls_bad_options)
{
    http_tls_options tls = {.ca_file = ca_path("missing.pem")};
    http_response resp;
    http_failure failure;
    const char *url = url_to("https", "localhost", srv.https, "/echo");

    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "tls.ca_file: cannot load");
    CHECK_INT_EQ(failure, HTTP_FAILURE_ARGUMENT);
    tls = (http_tls_options){.ca_dir = ca_path("missing-dir")};
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "tls.ca_dir: cannot open");
    tls = (http_tls_options){.ca_pem = "not pem", .ca_pem_len = 7};
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "tls.ca_pem: no PEM certificate");
    tls = (http_tls_options){
        .ca_file = ca_path("ca.pem"), .client_cert_pem = "x", .client_cert_pem_len = 1};
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "go together");
}

UNIT_TEST(test_mutual_tls)
{
    size_t cert_len = 0, key_len = 0, other_len = 0;
    char *cert = read_file("client.pem", &cert_len);
    char *key = read_file("client.key", &key_len);
    char *other_key = read_file("server.key", &other_len);
    http_tls_options tls = {.ca_file = ca_path("ca.pem"),
                            .client_cert_pem = cert,
                            .client_cert_pem_len = cert_len,
                            .client_key_pem = key,
                            .client_key_pem_len = key_len};
    http_response resp;
    http_failure failure;
    const char *url = url_to("https", "localhost", srv.mtls, "/echo");

    CHECK(cert != NULL && key != NULL && other_key != NULL);
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_OK);
    CHECK_STR_CONTAINS((const char *)resp.body, "\nclient-cn clm-test-client\n");
    http_response_free(&resp);

    /* The server refuses a client without a certificate. TLS 1.3 says so after the
     * client's side of the handshake, so the alert arrives on the exchange, sometimes
     * after the send already failed: either way the message is the alert. */
    tls.client_cert_pem = tls.client_key_pem = NULL;
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_UNAVAILABLE);
    CHECK(strcasestr(clm_error_message(), "alert certificate required") != NULL ||
          strstr(clm_error_message(), "ALERT_CERTIFICATE_REQUIRED") != NULL);
    CHECK_INT_EQ(failure, HTTP_FAILURE_EXCHANGE);

    /* A key that is not the certificate's. */
    tls.client_cert_pem = cert;
    tls.client_key_pem = other_key;
    tls.client_key_pem_len = other_len;
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "tls.client_key_pem: does not match");
    /* Not a key at all; the message never quotes it. */
    tls.client_key_pem = "-----BEGIN PRIVATE KEY-----\nSECRETSECRET\n-----END PRIVATE KEY-----\n";
    tls.client_key_pem_len = strlen(tls.client_key_pem);
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "tls.client_key_pem: not an unencrypted PEM");
    CHECK(strstr(clm_error_message(), "SECRET") == NULL);
    free(cert);
    free(key);
    free(other_key);
}

HTTP_TEST_MAIN(UNIT_RUN(test_tls_ok);
               UNIT_RUN(test_tls_refused);
               UNIT_RUN(test_tls_bad_options);
               UNIT_RUN(test_mutual_tls))
