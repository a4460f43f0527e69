/* Fuzz target: POP3 status replies (+OK / -ERR, RFC 1939 3) and the STLS exchange. */
#include "adapters/tls/starttls_fuzz.h"

static void one_line(void *ctx, const char *line, size_t len)
{
    tls_pop3_reply r;

    (void)ctx;
    memset(&r, 0, sizeof r);
    if (tls_pop3_reply_line(&r, line, len) == TLS_REPLY_DONE) {
        if (len < 3 || (r.ok ? line[0] != '+' : line[0] != '-'))
            abort();
        fuzz_check_text(r.text, sizeof r.text);
    } else {
        fuzz_check_text(r.reason, sizeof r.reason);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_each_line(data, size, one_line, NULL);
    fuzz_exchange(ADAPTER_PROBE_POP3, data, size);
    return 0;
}
