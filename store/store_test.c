/* Unit tests for store/ (store.h): tables, indexes, growth, concurrency. */
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/testing.h"
#include "tests/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- tests ----------------------------------------------------------------------------- */

UNIT_TEST(open_close_and_schema)
{
    const char *dir = new_dir("open");
    store *st = open_store(dir, 0), *again = NULL;
    static const store_index bad_index[] = {{"Bad-Name", 0, 1, NULL, NULL}};
    static const store_table bad = {"bad", &clm__store__test__test_item__descriptor, bad_index, 1};
    const store_table *bad_tables[] = {&bad};
    struct stat sb;
    char path[600];
    int fd;

    CHECK(st != NULL);
    CHECK_INT_EQ(store_schema_version(st), STORE_SCHEMA_VERSION);
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK_INT_EQ(store_open(dir, NULL, all_tables, 1, &again), CLM_ERR_BUSY);
    CHECK_STR_CONTAINS(clm_error_message(), "open already");
    fd = open(path, O_RDONLY); /* what a second process would find: the file is locked */
    CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK);
    close(fd);
    store_close(st);
    st = open_store(dir, 0);
    CHECK(st != NULL);
    store_close(st);
    CHECK_INT_EQ(store_open(new_dir("bad"), NULL, bad_tables, 1, &again), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "index 0");
    store_close(NULL);
}

static clm_err set_version_fn(store_txn *txn, void *arg)
{
    unsigned char v[8];

    clm_put_be64(v, *(uint64_t *)arg);
    return store_meta_put(txn, "schema_version", v, sizeof(v));
}

UNIT_TEST(newer_schema_refused)
{
    const char *dir = new_dir("schema");
    store *st = open_store(dir, 0), *again = NULL;
    uint64_t v = 99;

    CHECK_INT_EQ(store_update(st, set_version_fn, &v), CLM_OK);
    store_close(st);
    CHECK_INT_EQ(store_open(dir, NULL, all_tables, 1, &again), CLM_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(clm_error_message(), "schema version 99");
    CHECK_STR_CONTAINS(clm_error_message(), "newer than version 1");
    CHECK(again == NULL);
}

static clm_err put_in_read_fn(store_txn *txn, void *arg)
{
    (void)arg;
    return put_fn(txn, &(put_args){.id = 5});
}

UNIT_TEST(put_get_delete)
{
    store *st = open_store(new_dir("crud"), 0);
    get_result r;
    put_args a = {.id = 1, .name = "alpha", .team = "red", .not_after = 100, .flags = 0};

    CHECK_INT_EQ(put_item(st, &a), CLM_OK);
    CHECK_INT_EQ(get_item(st, 1, &r), CLM_OK);
    CHECK(r.item && r.item->id == 1 && strcmp(r.item->name, "alpha") == 0);
    free_result(&r);
    a.flags = STORE_PUT_INSERT;
    CHECK_INT_EQ(put_item(st, &a), CLM_ERR_ALREADY_EXISTS);
    a = (put_args){.id = 2, .name = "beta", .flags = STORE_PUT_UPDATE};
    CHECK_INT_EQ(put_item(st, &a), CLM_ERR_NOT_FOUND);
    a.team = "blue";
    a.flags = 0;
    CHECK_INT_EQ(put_item(st, &a), CLM_OK);
    a.flags = STORE_PUT_UPDATE;
    CHECK_INT_EQ(put_item(st, &a), CLM_OK); /* identical: nothing to write */
    CHECK_INT_EQ(get_item(st, 2, &r), CLM_OK);
    CHECK_INT_EQ(r.counts[0], 2);
    CHECK_INT_EQ(r.counts[1], 2);
    free_result(&r);
    CHECK_INT_EQ(store_view(st, put_in_read_fn, NULL), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "read-only");
    store_close(st);
}

UNIT_TEST(update_without_sync)
{
    const char *dir = new_dir("nosync");
    store *st = open_store(dir, 0);
    put_args a = {.id = 1, .name = "alpha", .team = "red"};
    get_result r;
    pid_t pid;
    int status = -1;

    CHECK_INT_EQ(store_update_flags(st, STORE_UPDATE_NO_SYNC, put_fn, &a), CLM_OK);
    CHECK_INT_EQ(get_item(st, 1, &r), CLM_OK); /* visible at once, indexes included */
    CHECK(r.item && strcmp(r.item->name, "alpha") == 0);
    CHECK_INT_EQ(r.counts[1], 1);
    free_result(&r);
    CHECK_INT_EQ(store_update_flags(st, 1u << 7, put_fn, &a), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "unknown flags");
    CHECK_INT_EQ(store_sync(st), CLM_OK);
    CHECK_INT_EQ(store_sync(st), CLM_OK); /* nothing to flush */
    store_close(st);
    /* A process killed right after a no-sync commit: the commit is there, whole. */
    pid = fork();
    if (pid == 0) {
        store *child = open_store(dir, 0);
        put_args b = {.id = 2, .count = 50, .name = "bulk", .team = "blue"};

        if (child == NULL || store_update_flags(child, STORE_UPDATE_NO_SYNC, put_fn, &b) != CLM_OK)
            _exit(1);
        kill(getpid(), SIGKILL);
        _exit(2);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    st = open_store(dir, 0);
    CHECK(st != NULL);
    CHECK_INT_EQ(get_item(st, 51, &r), CLM_OK);
    CHECK_INT_EQ(r.counts[0], 51);
    CHECK_INT_EQ(r.counts[2], 51);
    free_result(&r);
    store_close(st);
}

static clm_err delete_fn(store_txn *txn, void *arg)
{
    unsigned char key[8];

    clm_put_be64(key, *(uint64_t *)arg);
    return store_delete(txn, &items, key, 8);
}

static clm_err index_lookup_fn(store_txn *txn, void *arg)
{
    store_item item;
    clm_err err = store_index_get(txn, &items, BY_NAME, "carol", 5, &item);

    if (err == CLM_OK)
        *(uint64_t *)arg = clm_get_be64(item.key);
    return err;
}

UNIT_TEST(index_maintenance)
{
    store *st = open_store(new_dir("index"), 0);
    put_args a = {
        .id = 7, .name = "carol", .team = "red", .not_after = 50, .tags = {"a", "b"}, .n_tags = 2};
    get_result r;
    uint64_t id = 0;

    CHECK_INT_EQ(put_item(st, &a), CLM_OK);
    CHECK_STR_EQ(scan(st, BY_TAG, NULL, 0), "a:7,b:7");
    CHECK_INT_EQ(store_view(st, index_lookup_fn, &id), CLM_OK);
    CHECK_INT_EQ(id, 7);
    a.tags[0] = "c";
    a.team = "blue";
    a.name = "carol2";
    CHECK_INT_EQ(put_item(st, &a), CLM_OK);
    CHECK_STR_EQ(scan(st, BY_TAG, NULL, 0), "b:7,c:7");
    CHECK_STR_EQ(scan(st, BY_TEAM, NULL, 0), "blue:7");
    CHECK_STR_EQ(scan(st, BY_NAME, NULL, 0), "carol2:7");
    CHECK_INT_EQ(store_view(st, index_lookup_fn, &id), CLM_ERR_NOT_FOUND);
    a.n_tags = 0;
    a.team = "";
    CHECK_INT_EQ(put_item(st, &a), CLM_OK); /* zero keys: out of those indexes */
    CHECK_STR_EQ(scan(st, BY_TAG, NULL, 0), "");
    CHECK_STR_EQ(scan(st, BY_TEAM, NULL, 0), "");
    id = 7;
    CHECK_INT_EQ(store_update(st, delete_fn, &id), CLM_OK);
    CHECK_INT_EQ(get_item(st, 7, &r), CLM_ERR_NOT_FOUND);
    for (int i = 0; i < 5; i++)
        CHECK_INT_EQ(r.counts[i], 0);
    CHECK_INT_EQ(store_update(st, delete_fn, &id), CLM_ERR_NOT_FOUND);
    store_close(st);
}

typedef struct conflict_args {
    bool ignore_error;
    clm_err put_err;
} conflict_args;

static clm_err conflict_fn(store_txn *txn, void *arg)
{
    conflict_args *c = arg;
    put_args b = {.id = 2, .name = "taken", .team = "t", .tags = {"x"}, .n_tags = 1};
    put_args ok = {.id = 3, .name = "free"};

    c->put_err = put_fn(txn, &b);
    if (c->put_err != CLM_OK && !c->ignore_error)
        return c->put_err;
    return put_fn(txn, &ok);
}

UNIT_TEST(unique_conflict_leaves_nothing)
{
    store *st = open_store(new_dir("unique"), 0);
    put_args a = {.id = 1, .name = "taken"};
    conflict_args c = {false, CLM_OK};
    get_result r;

    CHECK_INT_EQ(put_item(st, &a), CLM_OK);
    CHECK_INT_EQ(store_update(st, conflict_fn, &c), CLM_ERR_ALREADY_EXISTS);
    CHECK_STR_CONTAINS(clm_error_message(), "unique index by_name");
    c.ignore_error = true; /* the function goes on and commits: the refused put left nothing */
    CHECK_INT_EQ(store_update(st, conflict_fn, &c), CLM_OK);
    CHECK_INT_EQ(c.put_err, CLM_ERR_ALREADY_EXISTS);
    CHECK_INT_EQ(get_item(st, 2, &r), CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(r.counts[0], 2);
    CHECK_INT_EQ(r.counts[1], 2); /* taken, free */
    CHECK_INT_EQ(r.counts[2], 0); /* item 2's team never landed */
    CHECK_INT_EQ(r.counts[4], 0);
    a = (put_args){.id = 3, .name = "taken"}; /* rename onto another's unique key */
    CHECK_INT_EQ(put_item(st, &a), CLM_ERR_ALREADY_EXISTS);
    CHECK_INT_EQ(get_item(st, 3, &r), CLM_OK);
    CHECK_STR_EQ(r.item->name, "free");
    free_result(&r);
    store_close(st);
}

typedef struct append_args {
    uint64_t first, n;
    bool bad_append;
    clm_err bad_err;
} append_args;

static clm_err append_fn(store_txn *txn, void *arg)
{
    append_args *a = arg;
    clm_err err = store_seq_next(txn, &items, a->n, &a->first);
    put_args p = {.id = a->first, .count = a->n, .name = "seq", .flags = STORE_PUT_APPEND};

    if (err == CLM_OK)
        err = put_fn(txn, &p);
    if (err == CLM_OK && a->bad_append) {
        put_args back = {.id = 1, .name = "back", .flags = STORE_PUT_APPEND};

        a->bad_err = put_fn(txn, &back);
    }
    return err;
}

static clm_err abort_fn(store_txn *txn, void *arg)
{
    uint64_t first;

    (void)arg;
    store_seq_next(txn, &items, 1000, &first);
    return CLM_ERR_CANCELLED;
}

UNIT_TEST(append_and_sequence)
{
    const char *dir = new_dir("append");
    store *st = open_store(dir, 0);
    append_args a = {0, 5, false, CLM_OK};

    CHECK_INT_EQ(store_update(st, append_fn, &a), CLM_OK);
    CHECK_INT_EQ(a.first, 1);
    CHECK_INT_EQ(store_update(st, abort_fn, NULL), CLM_ERR_CANCELLED);
    a.bad_append = true;
    CHECK_INT_EQ(store_update(st, append_fn, &a), CLM_OK); /* the refused append did not doom it */
    CHECK_INT_EQ(a.first, 6);
    CHECK_INT_EQ(a.bad_err, CLM_ERR_INVALID_ARGUMENT);
    store_close(st);
    st = open_store(dir, 0);
    a.bad_append = false;
    CHECK_INT_EQ(store_update(st, append_fn, &a), CLM_OK);
    CHECK_INT_EQ(a.first, 11);
    CHECK_STR_EQ(scan(st, NULL, NULL, 0), "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15");
    store_close(st);
}

/* Appended records' non-unique index entries are held and written sorted (deferred.c):
 * every read, replace and delete in the same transaction must see them as if written. */
static clm_err deferred_fn(store_txn *txn, void *arg)
{
    clm_err *late = arg;
    put_args a = {.id = 1, .name = "n1", .team = "t", .not_after = 30, .tags = {"b", "a"},
                  .n_tags = 2, .flags = STORE_PUT_APPEND};
    put_args r = {.id = 2, .name = "n2", .team = "u", .tags = {"c"}, .n_tags = 1};
    unsigned char key[8];
    uint64_t n = 0;

    CHECK_INT_EQ(put_fn(txn, &a), CLM_OK);
    a = (put_args){.id = 2, .name = "n2", .team = "t", .not_after = 10, .tags = {"a"},
                   .n_tags = 1, .flags = STORE_PUT_APPEND};
    CHECK_INT_EQ(put_fn(txn, &a), CLM_OK);
    a.id = 3, a.name = "n3", a.not_after = 20;
    CHECK_INT_EQ(put_fn(txn, &a), CLM_OK);
    CHECK_INT_EQ(store_count(txn, &items, BY_TAG, &n), CLM_OK);
    CHECK_INT_EQ(n, 4); /* a:1 b:1 a:2 a:3 */
    CHECK_INT_EQ(put_fn(txn, &r), CLM_OK); /* replace 2: its old entries go */
    CHECK_INT_EQ(store_count(txn, &items, BY_TEAM, &n), CLM_OK);
    CHECK_INT_EQ(n, 3);
    a = (put_args){.id = 4, .name = "n4", .team = "t", .tags = {"d"}, .n_tags = 1,
                   .flags = STORE_PUT_APPEND};
    CHECK_INT_EQ(put_fn(txn, &a), CLM_OK);
    clm_put_be64(key, 3);
    CHECK_INT_EQ(store_delete(txn, &items, key, 8), CLM_OK);
    a = (put_args){.id = 5, .name = "n1", .team = "t", .tags = {"e"}, .n_tags = 1,
                   .flags = STORE_PUT_APPEND}; /* n1 is taken */
    CHECK_INT_EQ(put_fn(txn, &a), CLM_ERR_ALREADY_EXISTS);
    CHECK_STR_CONTAINS(clm_error_message(), "unique index by_name");
    a = (put_args){.id = 4, .name = "n9", .team = "t", .tags = {"f"}, .n_tags = 1,
                   .flags = STORE_PUT_APPEND}; /* id 4 is not past the last key */
    CHECK_INT_EQ(put_fn(txn, &a), CLM_ERR_INVALID_ARGUMENT);
    a = (put_args){.id = 6, .name = "n6", .team = "t", .not_after = 5, .tags = {"a"},
                   .n_tags = 1, .flags = STORE_PUT_APPEND};
    *late = put_fn(txn, &a); /* held until the commit */
    return CLM_OK;
}

/* An appended record under the longest primary key the store takes: its held index
 * entries keep the whole key. */
static clm_err long_key_fn(store_txn *txn, void *arg)
{
    unsigned char key[STORE_KEY_MAX];
    item_t it = CLM__STORE__TEST__TEST_ITEM__INIT;

    (void)arg;
    memset(key, 0xff, sizeof(key));
    it.name = "long", it.team = "t";
    return store_put(txn, &items, key, sizeof(key), &it.base, STORE_PUT_APPEND);
}

static clm_err team_key_len_fn(store_txn *txn, void *arg)
{
    store_iter *it;
    clm_err err = store_iter_open(txn, &items, BY_TEAM, STORE_KEYS_ONLY, &it);

    if (err == CLM_OK && (err = store_iter_first(it)) == CLM_OK)
        *(size_t *)arg = store_iter_item(it)->key_len;
    store_iter_close(it);
    return err;
}

UNIT_TEST(appended_index_entries_are_seen_at_once)
{
    store *st = open_store(new_dir("deferred"), 0);
    clm_err late = CLM_ERR_INTERNAL;
    get_result r;

    CHECK_INT_EQ(store_update(st, deferred_fn, &late), CLM_OK);
    CHECK_INT_EQ(late, CLM_OK);
    CHECK_STR_EQ(scan(st, BY_TAG, NULL, 0), "a:1,a:6,b:1,c:2,d:4");
    CHECK_STR_EQ(scan(st, BY_TEAM, NULL, 0), "t:1,t:4,t:6,u:2");
    CHECK_STR_EQ(scan(st, BY_NAME, NULL, 0), "n1:1,n2:2,n4:4,n6:6");
    CHECK_STR_EQ(scan(st, NULL, NULL, 0), "1,2,4,6");
    CHECK_INT_EQ(get_item(st, 5, &r), CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(r.counts[3], 4); /* by_expiry: 1, 2 (replaced: 0), 4, 6 */
    store_close(st);
    size_t key_len = 0;
    st = open_store(new_dir("deferred-long"), 0);
    CHECK_INT_EQ(store_update(st, long_key_fn, NULL), CLM_OK);
    CHECK_INT_EQ(store_view(st, team_key_len_fn, &key_len), CLM_OK);
    CHECK_INT_EQ(key_len, STORE_KEY_MAX);
    store_close(st);
}

static long rss_anon_kib(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[128];
    long kib = -1;

    while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
        if (strncmp(line, "RssAnon:", 8) == 0)
            kib = strtol(line + 8, NULL, 10);
    if (fp != NULL)
        fclose(fp);
    return kib;
}

UNIT_TEST(release_memory_reopens_with_everything)
{
    const char *dir = new_dir("release");
    store *st = open_store(dir, 0);
    bulk_args b = {.first = 1, .n = 20000, .blob = 1000};
    store_txn *reader = NULL;
    store_stats stats;
    get_result r;
    char path[600];
    long before, after;
    int fd;

    CHECK_INT_EQ(store_update(st, bulk_fn, &b), CLM_OK); /* about 30 MiB of dirty pages */
    malloc_trim(0);
    before = rss_anon_kib();
    CHECK_INT_EQ(store_read_begin(st, &reader), CLM_OK);
    CHECK_INT_EQ(store_release_memory(st, 0), CLM_ERR_BUSY);
    CHECK_STR_CONTAINS(clm_error_message(), "transactions are open");
    store_txn_end(reader);
    CHECK_INT_EQ(store_release_memory(st, 1000), CLM_OK);
    malloc_trim(0);
    after = rss_anon_kib();
#ifndef __SANITIZE_ADDRESS__ /* ASan's allocator keeps freed memory in quarantine */
    CHECK(before > 0 && after > 0 && before - after > 16 * 1024);
#endif
    (void)before, (void)after;
    CHECK_INT_EQ(get_item(st, 20000, &r), CLM_OK);
    CHECK_INT_EQ(r.counts[0], 20000);
    CHECK_INT_EQ(r.counts[2], 20000); /* by_team */
    free_result(&r);
    b = (bulk_args){.first = 20001, .n = 5};
    CHECK_INT_EQ(store_update(st, bulk_fn, &b), CLM_OK);
    CHECK_INT_EQ(get_item(st, 20005, &r), CLM_OK);
    CHECK_INT_EQ(r.counts[1], 20005); /* by_name */
    CHECK_INT_EQ(r.counts[2], 20005);
    free_result(&r);
    store_stats_get(st, &stats);
    CHECK_INT_EQ(stats.releases, 1);
    snprintf(path, sizeof(path), "%s/data.mdb", dir); /* the directory stayed locked */
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK);
    close(fd);
    store_close(st);
}

typedef struct iter_args {
    char text[256];
} iter_args;

static clm_err iter_fn(store_txn *txn, void *arg)
{
    iter_args *a = arg;
    unsigned char k[8], p[8];
    store_iter *it;
    clm_err err = store_iter_open(txn, &items, BY_EXPIRY, STORE_KEYS_ONLY, &it);
    size_t n = 0;

    /* resume after (expiry 20, id 4): the rest of expiry 20, then later expiries */
    clm_put_be64(k, 20);
    clm_put_be64(p, 5);
    if (err == CLM_OK)
        err = store_iter_seek(it, k, 8, p, 8);
    for (; err == CLM_OK; err = store_iter_next(it)) {
        const store_item *item = store_iter_item(it);

        n += (size_t)snprintf(a->text + n, sizeof(a->text) - n, "%s%" PRIu64 "/%" PRIu64,
                              n ? "," : "", clm_get_be64(item->index_key), clm_get_be64(item->key));
        if (item->value != NULL)
            return CLM_ERR_INTERNAL;
    }
    CHECK_INT_EQ(store_iter_next(it), CLM_ERR_NOT_FOUND); /* stays off the end */
    clm_put_be64(k, 25);
    CHECK_INT_EQ(store_iter_seek_last(it, k, 8), CLM_OK); /* last entry <= 25: 20/6 */
    CHECK_INT_EQ(clm_get_be64(store_iter_item(it)->key), 6);
    clm_put_be64(k, 10);
    CHECK_INT_EQ(store_iter_seek_last(it, k, 8), CLM_OK); /* all of 10: its last, 10/3 */
    CHECK_INT_EQ(clm_get_be64(store_iter_item(it)->key), 3);
    CHECK_INT_EQ(store_iter_prev(it), CLM_OK);
    CHECK_INT_EQ(clm_get_be64(store_iter_item(it)->key), 2);
    store_iter_close(it);
    return err == CLM_ERR_NOT_FOUND ? CLM_OK : err;
}

UNIT_TEST(iteration_order)
{
    store *st = open_store(new_dir("order"), 0);
    static const struct {
        uint64_t id;
        const char *name;
        int64_t expiry;
    } rows[] = {{6, "bb", 20}, {2, "ab", 10},  {9, "b", 30}, {4, "ba", 20},
                {1, "a", 5},   {3, "abc", 10}, {5, "c", 20}};
    iter_args ia = {{0}};

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        put_args a = {.id = rows[i].id, .name = rows[i].name, .not_after = rows[i].expiry};
        CHECK_INT_EQ(put_item(st, &a), CLM_OK);
    }
    CHECK_STR_EQ(scan(st, NULL, NULL, 0), "1,2,3,4,5,6,9");
    CHECK_STR_EQ(scan(st, NULL, NULL, STORE_SCAN_REVERSE), "9,6,5,4,3,2,1");
    CHECK_STR_EQ(scan(st, BY_NAME, NULL, 0), "a:1,ab:2,abc:3,b:9,ba:4,bb:6,c:5");
    CHECK_STR_EQ(scan(st, BY_NAME, "ab", 0), "ab:2,abc:3,b:9,ba:4,bb:6,c:5");
    CHECK_STR_EQ(scan(st, BY_NAME, "b", STORE_SCAN_PREFIX), "b:9,ba:4,bb:6");
    CHECK_STR_EQ(scan(st, BY_NAME, "b", STORE_SCAN_PREFIX | STORE_SCAN_REVERSE), "bb:6,ba:4,b:9");
    CHECK_STR_EQ(scan(st, BY_NAME, "b", STORE_SCAN_REVERSE), "b:9,abc:3,ab:2,a:1");
    CHECK_STR_EQ(scan(st, BY_NAME, "zz", STORE_SCAN_PREFIX), "");
    CHECK_STR_EQ(scan(st, BY_EXPIRY, NULL, 0), "1,2,3,4,5,6,9"); /* (expiry, id) order */
    CHECK_STR_EQ(scan(st, BY_EXPIRY, NULL, STORE_SCAN_REVERSE), "9,6,5,4,3,2,1");
    CHECK_INT_EQ(store_view(st, iter_fn, &ia), CLM_OK);
    CHECK_STR_EQ(ia.text, "20/5,20/6,30/9");
    store_close(st);
}

UNIT_TEST(map_grows_from_tiny)
{
    const char *dir = new_dir("grow");
    store *st = open_store(dir, 64 * KIB);
    store_stats s0, s1;
    bulk_args b = {1, 3000, 1024, NULL};
    get_result r;

    store_stats_get(st, &s0);
    CHECK(s0.map_size <= 64 * KIB);
    CHECK_INT_EQ(store_update(st, bulk_fn, &b), CLM_OK); /* 3 MB in one transaction */
    for (int i = 0; i < 8; i++) {
        b.first += b.n;
        CHECK_INT_EQ(store_update(st, bulk_fn, &b), CLM_OK);
    }
    store_stats_get(st, &s1);
    CHECK(s1.update_retries >= 5);
    CHECK(s1.grow_count >= 5);
    CHECK(s1.map_size >= 27 * MIB);
    CHECK(s1.map_used <= s1.map_size);
    CHECK_INT_EQ(get_item(st, 27000, &r), CLM_OK);
    CHECK_INT_EQ(r.counts[0], 27000);
    CHECK_INT_EQ(r.counts[1], 27000);
    CHECK_INT_EQ(r.counts[3], 27000);
    free_result(&r);
    store_close(st);
    st = open_store(dir, 64 * KIB); /* keeps the size it grew to */
    store_stats_get(st, &s0);
    CHECK(s0.map_size >= s1.map_size);
    store_close(st);
}

UNIT_TEST(map_full_at_maximum)
{
    store_options opt = STORE_OPTIONS_INIT;
    store *st = NULL;
    bulk_args b = {1, 2000, 1024, NULL};
    get_result r;

    opt.map_size = 64 * KIB;
    opt.max_map_size = 512 * KIB;
    CHECK_INT_EQ(store_open(new_dir("full"), &opt, all_tables, 1, &st), CLM_OK);
    CHECK_INT_EQ(store_update(st, bulk_fn, &b), CLM_ERR_STORE_FULL);
    CHECK_STR_CONTAINS(clm_error_message(), "maximum size");
    CHECK_INT_EQ(get_item(st, 1, &r), CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(r.counts[0], 0);
    store_close(st);
}

static clm_err noop_fn(store_txn *txn, void *arg)
{
    (void)txn;
    (void)arg;
    return CLM_OK;
}

/* Short readers while a growth waits on a long-lived one: they must not be held back. */
static void *latency_thread(void *arg)
{
    shared *s = arg;
    const clm_clock *clock = clm_clock_system();

    while (!s->stop) {
        int64_t t0 = clm_clock_monotonic_ns(clock), dt;

        if (store_view(s->st, noop_fn, NULL) != CLM_OK)
            s->failures++;
        dt = clm_clock_monotonic_ns(clock) - t0;
        if (dt > (int64_t)s->written)
            s->written = (uint64_t)dt; /* the slowest view, ns */
        s->reads++;
        usleep(1000);
    }
    return NULL;
}

UNIT_TEST(growth_waits_for_readers_then_gives_up)
{
    store_options opt = STORE_OPTIONS_INIT;
    shared s = {0};
    store_txn *reader = NULL;
    bulk_args b = {1, 2000, 1024, NULL};
    pthread_t lt;

    opt.map_size = 64 * KIB;
    opt.grow_wait_ms = 1000;
    CHECK_INT_EQ(store_open(new_dir("held"), &opt, all_tables, 1, &s.st), CLM_OK);
    CHECK_INT_EQ(store_read_begin(s.st, &reader), CLM_OK);
    pthread_create(&lt, NULL, latency_thread, &s);
    CHECK_INT_EQ(store_update(s.st, bulk_fn, &b), CLM_ERR_STORE_FULL);
    CHECK_STR_CONTAINS(clm_error_message(), "stayed open");
    s.stop = true;
    pthread_join(lt, NULL);
    CHECK(s.reads > 20);
    CHECK(s.written < 400 * 1000000u); /* not held back for the rest of the wait */
    CHECK_INT_EQ(s.failures, 0);
    store_txn_end(reader);
    CHECK_INT_EQ(store_update(s.st, bulk_fn, &b), CLM_OK);
    store_close(s.st);
}

static clm_err nested_view_fn(store_txn *txn, void *arg)
{
    (void)arg;
    return store_view(store_txn_store(txn), put_in_read_fn, NULL);
}

UNIT_TEST(nested_transactions_refused)
{
    store *st = open_store(new_dir("nest"), 0);

    CHECK_INT_EQ(store_update(st, nested_view_fn, NULL), CLM_ERR_INTERNAL);
    CHECK_STR_CONTAINS(clm_error_message(), "pass the store_txn down");
    store_close(st);
}

/* ---- concurrency ------------------------------------------------------------------------- */

static clm_err pair_fn(store_txn *txn, void *arg)
{
    shared *s = arg;
    put_args p = {.id = s->written * 2 + 1,
                  .count = 2,
                  .name = "pair",
                  .team = "p",
                  .blob = 2048,
                  .flags = STORE_PUT_APPEND};

    return put_fn(txn, &p);
}

static void *writer_thread(void *arg)
{
    shared *s = arg;

    for (int i = 0; i < 300 && !s->stop; i++) {
        if (store_update(s->st, pair_fn, s) != CLM_OK)
            s->failures++;
        else
            s->written++;
    }
    return NULL;
}

/* A snapshot: the table and its index agree and hold whole pairs. */
static clm_err check_pairs_fn(store_txn *txn, void *arg)
{
    shared *s = arg;
    uint64_t n = 0, by_name = 0;

    store_count(txn, &items, NULL, &n);
    store_count(txn, &items, BY_NAME, &by_name);
    if (n % 2 != 0 || n != by_name)
        s->failures++;
    s->reads++;
    return CLM_OK;
}

static void *reader_thread(void *arg)
{
    shared *s = arg;

    while (!s->stop)
        if (store_view(s->st, check_pairs_fn, s) != CLM_OK)
            s->failures++;
    return NULL;
}

static void *end_elsewhere_thread(void *arg)
{
    store_txn *txn = arg;
    shared s = {0};

    check_pairs_fn(txn, &s); /* a read transaction may move to another thread */
    store_txn_end(txn);
    return (void *)(intptr_t)s.failures;
}

UNIT_TEST(concurrent_readers_during_writes_and_growth)
{
    shared s = {0};
    pthread_t w, r[4], e;
    store_txn *moving = NULL;
    void *moved_failures;

    s.st = open_store(new_dir("threads"), 64 * KIB);
    pthread_create(&w, NULL, writer_thread, &s);
    for (int i = 0; i < 4; i++)
        pthread_create(&r[i], NULL, reader_thread, &s);
    CHECK_INT_EQ(store_read_begin(s.st, &moving), CLM_OK);
    pthread_create(&e, NULL, end_elsewhere_thread, moving);
    pthread_join(e, &moved_failures);
    CHECK(moved_failures == NULL);
    pthread_join(w, NULL);
    s.stop = true;
    for (int i = 0; i < 4; i++)
        pthread_join(r[i], NULL);
    CHECK_INT_EQ(s.failures, 0);
    CHECK_INT_EQ(s.written, 300);
    CHECK(s.reads > 0);
    store_close(s.st);
}

/* ---- index definitions as data -------------------------------------------------------- */

UNIT_TEST(index_definitions_change)
{
    const char *dir = new_dir("defs");
    store *st = open_store(dir, 0);
    static const store_table two = {"items", &clm__store__test__test_item__descriptor, item_indexes,
                                    2};
    static store_index changed[4];
    static store_table bumped = {"items", &clm__store__test__test_item__descriptor, changed, 4};
    const store_table *t2[] = {&two}, *t4[] = {&bumped};
    bulk_args b = {1, 50, 10, NULL};
    get_result r;

    CHECK_INT_EQ(store_update(st, bulk_fn, &b), CLM_OK);
    store_close(st);
    CHECK_INT_EQ(store_open(dir, NULL, t2, 1, &st), CLM_OK); /* by_expiry, by_tag dropped */
    b.first = 51;
    b.table = &two;
    CHECK_INT_EQ(store_update(st, bulk_fn, &b), CLM_OK); /* not indexed by them meanwhile */
    store_close(st);
    memcpy(changed, item_indexes, sizeof(changed));
    changed[1].version = 2; /* by_team rebuilt, by_expiry and by_tag built again */
    CHECK_INT_EQ(store_open(dir, NULL, t4, 1, &st), CLM_OK);
    store_close(st);
    st = open_store(dir, 0);
    CHECK_INT_EQ(get_item(st, 1, &r), CLM_OK);
    CHECK_INT_EQ(r.counts[0], 100);
    CHECK_INT_EQ(r.counts[2], 100);
    CHECK_INT_EQ(r.counts[3], 100);
    free_result(&r);
    store_close(st);
}

int main(void)
{
    clm_log_set_level(CLM_LOG_WARN);
    UNIT_RUN(open_close_and_schema);
    UNIT_RUN(newer_schema_refused);
    UNIT_RUN(put_get_delete);
    UNIT_RUN(update_without_sync);
    UNIT_RUN(index_maintenance);
    UNIT_RUN(unique_conflict_leaves_nothing);
    UNIT_RUN(append_and_sequence);
    UNIT_RUN(appended_index_entries_are_seen_at_once);
    UNIT_RUN(release_memory_reopens_with_everything);
    UNIT_RUN(iteration_order);
    UNIT_RUN(map_grows_from_tiny);
    UNIT_RUN(map_full_at_maximum);
    UNIT_RUN(growth_waits_for_readers_then_gives_up);
    UNIT_RUN(nested_transactions_refused);
    UNIT_RUN(concurrent_readers_during_writes_and_growth);
    UNIT_RUN(index_definitions_change);
    return unit_report();
}
