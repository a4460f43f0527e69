/* Fuzz target: IMAP greetings and tagged responses (RFC 3501 7.1), literals included,
 * and the IMAP STARTTLS exchange. */
#include "adapters/tls/starttls_fuzz.h"

static void one_line(void *ctx, const char *line, size_t len)
{
    tls_imap_reply *r = ctx;
    tls_reply_state st = tls_imap_reply_line(r, line, len);

    if (r->literal > TLS_IMAP_LITERAL_MAX)
        abort();
    if (st == TLS_REPLY_BAD)
        fuzz_check_text(r->reason, sizeof r->reason);
    if (st == TLS_REPLY_DONE) {
        if (r->status == TLS_IMAP_NONE)
            abort();
        fuzz_check_text(r->text, sizeof r->text);
    }
    if (st != TLS_REPLY_MORE) { /* the next line starts a tagged response */
        memset(r, 0, sizeof *r);
        r->tag = "a001";
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tls_imap_reply reply;

    memset(&reply, 0, sizeof reply); /* first: the greeting */
    fuzz_each_line(data, size, one_line, &reply);
    fuzz_exchange(ADAPTER_PROBE_IMAP, data, size);
    return 0;
}
