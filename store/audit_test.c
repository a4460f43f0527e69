/* Unit tests for store/audit.h and store_backup(): the hash chain, tampering, backup. */
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "store/audit.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/testing.h"
#include "tests/unit.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static clm_err audited_put_fn(store_txn *txn, void *arg)
{
    shared *s = arg;
    char target[32];
    store_audit_event ev = {"CN=admin", 1, "/clm.v1.Inventory/PutItem", target, "ok"};
    put_args p = {.id = s->base + s->written + 1,
                  .count = 1,
                  .name = "audited",
                  .team = "a",
                  .blob = 512,
                  .flags = STORE_PUT_APPEND};
    clm_err err = put_fn(txn, &p);

    snprintf(target, sizeof(target), "items/%" PRIu64, p.id);
    return err == CLM_OK ? store_audit_append(txn, &ev, NULL) : err;
}

typedef struct list_text {
    char text[512];
} list_text;

static clm_err list_fn(void *arg, const Clm__Store__V1__AuditRecord *rec, bool *stop)
{
    list_text *c = arg;
    size_t n = strlen(c->text);

    (void)stop;
    snprintf(c->text + n, sizeof(c->text) - n, "%s%" PRIu64 "=%s", n ? "," : "", rec->sequence,
             rec->target);
    return CLM_OK;
}

typedef struct tamper_args {
    uint64_t seq;
    int mode; /* 0 flip a byte, 1 restore, 2 delete */
    clm_buf saved;
} tamper_args;

static clm_err tamper_fn(store_txn *txn, void *arg)
{
    tamper_args *t = arg;
    const store_table *audit = store_audit_table();
    unsigned char key[8], copy[1024];
    store_item item;
    clm_err err;

    clm_put_be64(key, t->seq);
    if (t->mode == 1)
        return store_put_packed(txn, audit, key, 8, t->saved.data, t->saved.len, 0);
    err = store_get(txn, audit, key, 8, &item);
    if (err != CLM_OK || item.value_len > sizeof(copy))
        return CLM_ERR_INTERNAL;
    clm_buf_reset(&t->saved);
    clm_buf_append(&t->saved, item.value, item.value_len);
    if (t->mode == 2)
        return store_delete(txn, audit, key, 8);
    memcpy(copy, item.value, item.value_len);
    for (size_t i = 0; i + 2 <= item.value_len - 2 * (2 + STORE_AUDIT_HASH_LEN); i++)
        if (memcmp(copy + i, "ok", 2) == 0)
            copy[i] = 'O'; /* outcome "ok" -> "Ok" */
    return store_put_packed(txn, audit, key, 8, copy, item.value_len, 0);
}

static store_audit_verify_result verify(store *st)
{
    store_audit_verify_result r;

    if (store_audit_verify(st, &r) != CLM_OK)
        r.ok = false;
    return r;
}

UNIT_TEST(audit_chain_detects_tampering)
{
    store *st = open_store(new_dir("audit"), 0);
    shared s = {.st = st};
    store_audit_event failed = {"uid=1000", 2, "/clm.v1.Admin/Restore", "backup", "denied"};
    store_audit_verify_result r = verify(st);
    tamper_args t = {5, 0, CLM_BUF_INIT};
    list_text c = {{0}};
    uint64_t seq = 0;

    CHECK(r.ok && r.entries_checked == 0);
    for (int i = 0; i < 9; i++, s.written++)
        CHECK_INT_EQ(store_update(st, audited_put_fn, &s), CLM_OK);
    CHECK_INT_EQ(store_audit_record(st, &failed, &seq), CLM_OK);
    CHECK_INT_EQ(seq, 10);
    CHECK_INT_EQ(store_audit_list(st, 3, 4, list_fn, &c), CLM_OK);
    CHECK_STR_EQ(c.text, "4=items/4,5=items/5,6=items/6,7=items/7");
    r = verify(st);
    CHECK(r.ok);
    CHECK_INT_EQ(r.entries_checked, 10);
    CHECK_INT_EQ(r.head_sequence, 10);
    /* an altered entry */
    CHECK_INT_EQ(store_update(st, tamper_fn, &t), CLM_OK);
    r = verify(st);
    CHECK(!r.ok);
    CHECK_INT_EQ(r.first_bad_sequence, 5);
    CHECK_INT_EQ(r.entries_checked, 4);
    CHECK_STR_CONTAINS(r.problem, "does not match its hash");
    t.mode = 1;
    CHECK_INT_EQ(store_update(st, tamper_fn, &t), CLM_OK);
    CHECK(verify(st).ok);
    /* a removed entry in the middle, then the first, then the last */
    t = (tamper_args){7, 2, t.saved};
    CHECK_INT_EQ(store_update(st, tamper_fn, &t), CLM_OK);
    r = verify(st);
    CHECK(!r.ok && r.first_bad_sequence == 7);
    CHECK_STR_CONTAINS(r.problem, "entry 7 is missing");
    t.mode = 1;
    CHECK_INT_EQ(store_update(st, tamper_fn, &t), CLM_OK);
    t = (tamper_args){1, 2, t.saved};
    CHECK_INT_EQ(store_update(st, tamper_fn, &t), CLM_OK);
    r = verify(st);
    CHECK(!r.ok && r.first_bad_sequence == 1);
    t.mode = 1;
    CHECK_INT_EQ(store_update(st, tamper_fn, &t), CLM_OK);
    CHECK(verify(st).ok);
    t = (tamper_args){10, 2, t.saved};
    CHECK_INT_EQ(store_update(st, tamper_fn, &t), CLM_OK);
    r = verify(st);
    CHECK(!r.ok && r.first_bad_sequence == 10);
    CHECK_STR_CONTAINS(r.problem, "the head names entry 10 but the chain ends at 9");
    clm_buf_free(&t.saved);
    store_close(st);
}

/* ---- backup ------------------------------------------------------------------------------ */

typedef struct pipe_copy {
    int in, out;
    size_t stop_after; /* 0: copy everything */
    size_t copied;
    bool slow; /* a slow reader: the backup takes a while */
} pipe_copy;

static void *copy_thread(void *arg)
{
    pipe_copy *p = arg;
    char buf[8192];
    ssize_t n;

    while ((n = read(p->in, buf, sizeof(buf))) > 0) {
        if (p->out >= 0 && write(p->out, buf, (size_t)n) != n)
            break;
        p->copied += (size_t)n;
        if (p->slow)
            usleep(1000);
        if (p->stop_after && p->copied >= p->stop_after)
            break;
    }
    close(p->in); /* the reader goes away */
    return NULL;
}

static void *audited_writer_thread(void *arg)
{
    shared *s = arg;

    while (!s->stop) {
        if (store_update(s->st, audited_put_fn, s) != CLM_OK)
            s->failures++;
        else
            s->written++;
    }
    return NULL;
}

static clm_err count_fn(void *arg, const store_item *item, bool *stop)
{
    (void)item;
    (void)stop;
    (*(uint64_t *)arg)++;
    return CLM_OK;
}

typedef struct team_count {
    const char *team;
    uint64_t n;
} team_count;

static clm_err team_count_fn(store_txn *txn, void *arg)
{
    team_count *tc = arg;

    return store_scan(txn, &items, BY_TEAM, tc->team, strlen(tc->team),
                      STORE_SCAN_PREFIX | STORE_KEYS_ONLY, count_fn, &tc->n);
}

static uint64_t count_team(store *st, const char *team)
{
    team_count tc = {team, 0};

    return store_view(st, team_count_fn, &tc) == CLM_OK ? tc.n : UINT64_MAX;
}

UNIT_TEST(backup_to_pipe_while_writing)
{
    const char *copy_dir = new_dir("copy");
    shared s = {.st = open_store(new_dir("live"), 64 * KIB)};
    pipe_copy pc = {-1, -1, 0, 0, true};
    bulk_args b = {1, 3000, 1024, NULL};
    uint64_t before, during;
    int fds[2];
    char path[600];
    pthread_t w, c;
    get_result r;
    store *copy;

    CHECK_INT_EQ(store_update(s.st, bulk_fn, &b), CLM_OK); /* a few MB first */
    s.base = 1u << 20;
    pthread_create(&w, NULL, audited_writer_thread, &s);
    while (s.written < 3)
        usleep(1000);
    CHECK(pipe(fds) == 0);
    snprintf(path, sizeof(path), "%s/data.mdb", copy_dir);
    pc.in = fds[0];
    pc.out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pthread_create(&c, NULL, copy_thread, &pc);
    before = s.written;
    CHECK_INT_EQ(store_backup(s.st, fds[1]), CLM_OK);
    during = s.written - before;
    close(fds[1]);
    pthread_join(c, NULL);
    close(pc.out);
    s.stop = true;
    pthread_join(w, NULL);
    CHECK_INT_EQ(s.failures, 0);
    CHECK(during > 0); /* writers went on while the copy ran */
    copy = open_store(copy_dir, 0);
    CHECK(copy != NULL);
    if (copy != NULL) {
        store_audit_verify_result v = verify(copy);

        CHECK(v.ok);
        CHECK(v.entries_checked >= before && v.entries_checked <= before + during);
        CHECK_INT_EQ(get_item(copy, 1, &r), CLM_OK);
        CHECK_INT_EQ(r.counts[0], 3000 + v.entries_checked);
        CHECK_INT_EQ(r.counts[1], r.counts[0]); /* indexes agree with the table */
        CHECK_INT_EQ(r.counts[2], r.counts[0]);
        CHECK_INT_EQ(count_team(copy, "a"), v.entries_checked); /* one snapshot */
        CHECK_INT_EQ(count_team(copy, "t"), 3000);
        free_result(&r);
        store_close(copy);
    }
    /* the reader goes away: before the first byte, and in the middle */
    CHECK(pipe(fds) == 0);
    close(fds[0]);
    CHECK_INT_EQ(store_backup(s.st, fds[1]), CLM_ERR_IO);
    CHECK_STR_CONTAINS(clm_error_message(), "reader went away");
    close(fds[1]);
    CHECK(pipe(fds) == 0);
    fcntl(fds[1], F_SETPIPE_SZ, 4096);
    pc = (pipe_copy){fds[0], -1, 16 * KIB, 0, false};
    pthread_create(&c, NULL, copy_thread, &pc);
    CHECK_INT_EQ(store_backup(s.st, fds[1]), CLM_ERR_IO);
    CHECK_STR_CONTAINS(clm_error_message(), "reader went away");
    pthread_join(c, NULL);
    CHECK(pc.copied >= 16 * KIB);
    close(fds[1]);
    fprintf(stderr, "backup: %" PRIu64 " writes committed during the copy\n", during);
    store_close(s.st);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as clmd does */
    clm_log_set_level(CLM_LOG_WARN);
    UNIT_RUN(audit_chain_detects_tampering);
    UNIT_RUN(backup_to_pipe_while_writing);
    return unit_report();
}
