/* Fuzz target: SMTP multi-line replies (RFC 5321 4.2) and the SMTP STARTTLS exchange. */
#include "adapters/tls/starttls_fuzz.h"

static void one_line(void *ctx, const char *line, size_t len)
{
    tls_smtp_reply *r = ctx;
    tls_reply_state st = tls_smtp_reply_line(r, line, len);

    if (st == TLS_REPLY_BAD) {
        fuzz_check_text(r->reason, sizeof r->reason);
        memset(r, 0, sizeof *r);
    } else if (r->code < 200 || r->code > 559 || r->lines == 0 || r->lines > TLS_REPLY_LINES_MAX) {
        abort();
    } else {
        fuzz_check_text(r->text, sizeof r->text);
        if (st == TLS_REPLY_DONE)
            memset(r, 0, sizeof *r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tls_smtp_reply reply;

    memset(&reply, 0, sizeof reply);
    fuzz_each_line(data, size, one_line, &reply);
    fuzz_exchange(ADAPTER_PROBE_SMTP, data, size);
    return 0;
}
