/* appliance/api/admin.c: clm.v1.Admin handlers. */
#include "appliance/api/admin.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appliance/app.h"
#include "appliance/appstore.h"
#include "clm/v1/admin.pb-c.h"
#include "google/protobuf/duration.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "lib/base/log.h"
#include "store/audit.h"
#include "store/store.h"

#define BACKUP_DEFAULT_CHUNK (256u * 1024)
#define BACKUP_MAX_CHUNK (4u * 1024 * 1024)
#define AUDIT_DEFAULT_PAGE 100
#define AUDIT_MAX_PAGE 1000

static Google__Protobuf__Timestamp *timestamp_of(clm_arena *arena, int64_t ns)
{
    Google__Protobuf__Timestamp *t = clm_arena_alloc(arena, sizeof(*t));

    google__protobuf__timestamp__init(t);
    t->seconds = ns / CLM_NS_PER_SEC;
    t->nanos = (int32_t)(ns % CLM_NS_PER_SEC);
    return t;
}

static clm_err get_version(rpc_call *call, const ProtobufCMessage *request,
                           ProtobufCMessage *response)
{
    clm_app *app = rpc_call_app(call);
    clm_arena *arena = rpc_call_arena(call);
    Clm__V1__GetVersionResponse *resp = (void *)response;
    int64_t now = clm_clock_now_ns(app->clock);

    (void)request;
    resp->version = (char *)clm_version;
    resp->build = (char *)clm_build;
    resp->data_dir = app->config.data_dir;
    resp->schema_version = store_schema_version(app->store);
    resp->started_at = timestamp_of(arena, app->started_ns);
    resp->uptime = clm_arena_alloc(arena, sizeof(*resp->uptime));
    google__protobuf__duration__init(resp->uptime);
    resp->uptime->seconds = (now - app->started_ns) / CLM_NS_PER_SEC;
    resp->uptime->nanos = (int32_t)((now - app->started_ns) % CLM_NS_PER_SEC);
    return CLM_OK;
}

static clm_err who_am_i(rpc_call *call, const ProtobufCMessage *request,
                        ProtobufCMessage *response)
{
    const rpc_peer *peer = rpc_call_peer(call);
    Clm__V1__WhoAmIResponse *resp = (void *)response;

    (void)request;
    resp->identity = (char *)peer->identity;
    resp->role = (Clm__V1__Role)peer->role;
    resp->transport = peer->transport == RPC_TRANSPORT_UNIX ? "unix" : "tls";
    return CLM_OK;
}

static clm_err set_log_level(rpc_call *call, const ProtobufCMessage *request,
                             ProtobufCMessage *response)
{
    const Clm__V1__SetLogLevelRequest *req = (const void *)request;
    Clm__V1__SetLogLevelResponse *resp = (void *)response;
    clm_log_level level;

    rpc_call_set_audit_target(call, "log-level");
    if (clm_log_level_parse(req->level, &level) != CLM_OK)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "level: '%s' is not one of debug, info, warn, error", req->level);
    resp->previous = (char *)clm_log_level_name(clm_log_get_level());
    clm_log_set_level(level);
    CLM_LOG_INFO("log.level", "level", req->level, "by", rpc_call_peer(call)->identity);
    return CLM_OK;
}

/* ---- Backup: store_backup() writes into a pipe on a thread; we stream the other end. */

typedef struct backup_job {
    store *store;
    int fd;
    clm_err result;
    char message[CLM_ERROR_MESSAGE_MAX];
} backup_job;

static void *backup_thread(void *arg)
{
    backup_job *job = arg;

    job->result = store_backup(job->store, job->fd);
    if (job->result != CLM_OK)
        snprintf(job->message, sizeof(job->message), "%s", clm_error_message());
    close(job->fd);
    return NULL;
}

static ssize_t read_full(int fd, unsigned char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static clm_err stream_backup(rpc_call *call, int fd, size_t chunk_size, EVP_MD_CTX *md,
                             uint64_t *total)
{
    unsigned char *buf = malloc(chunk_size);
    clm_err err = CLM_OK;

    if (buf == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory for the backup buffer");
    for (;;) {
        ssize_t n = read_full(fd, buf, chunk_size);
        Clm__V1__BackupChunk chunk = CLM__V1__BACKUP_CHUNK__INIT;

        if (n < 0) {
            err = clm_fail(CLM_ERR_IO, "reading the backup pipe: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        chunk.data.data = buf;
        chunk.data.len = (size_t)n;
        chunk.offset = *total;
        EVP_DigestUpdate(md, buf, (size_t)n);
        *total += (uint64_t)n;
        if ((err = rpc_call_send(call, &chunk.base)) != CLM_OK)
            break;
    }
    free(buf);
    return err;
}

static clm_err backup(rpc_call *call, const ProtobufCMessage *request)
{
    const Clm__V1__BackupRequest *req = (const void *)request;
    clm_app *app = rpc_call_app(call);
    size_t chunk_size = req->chunk_bytes ? req->chunk_bytes : BACKUP_DEFAULT_CHUNK;
    backup_job job = {app->store, -1, CLM_OK, ""};
    pthread_t thread;
    int pipe_fds[2];
    uint64_t total = 0;
    unsigned char digest[32];
    unsigned int digest_len = 0;
    EVP_MD_CTX *md;
    clm_err err;

    rpc_call_set_audit_target(call, "store");
    if (req->chunk_bytes > BACKUP_MAX_CHUNK || (req->chunk_bytes != 0 && req->chunk_bytes < 4096))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "chunk_bytes: %u is outside 4096..%u",
                        req->chunk_bytes, BACKUP_MAX_CHUNK);
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        return clm_fail(CLM_ERR_IO, "pipe: %s", strerror(errno));
    job.fd = pipe_fds[1];
    if (pthread_create(&thread, NULL, backup_thread, &job) != 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return clm_fail(CLM_ERR_IO, "cannot start the backup thread");
    }
    md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    err = stream_backup(call, pipe_fds[0], chunk_size, md, &total);
    close(pipe_fds[0]); /* a writer still running gets EPIPE and stops */
    pthread_join(thread, NULL);
    EVP_DigestFinal_ex(md, digest, &digest_len);
    EVP_MD_CTX_free(md);
    if (err != CLM_OK)
        return err;
    if (job.result != CLM_OK)
        return clm_fail(job.result, "backup: %s", job.message);

    Clm__V1__BackupChunk last = CLM__V1__BACKUP_CHUNK__INIT;
    last.last = 1;
    last.offset = total;
    last.total_bytes = total;
    last.sha256.data = digest;
    last.sha256.len = 32;
    CLM_LOG_INFO("backup", "bytes", CLM_I64(total), "by", rpc_call_peer(call)->identity);
    return rpc_call_send(call, &last.base);
}

/* ---- audit ---- */

typedef struct audit_page {
    clm_arena *arena;
    Clm__V1__ListAuditEntriesResponse *resp;
    size_t limit;
} audit_page;

static clm_err add_audit_entry(void *arg, const Clm__Store__V1__AuditRecord *r, bool *stop)
{
    audit_page *page = arg;
    Clm__V1__AuditEntry *e;

    if (page->resp->n_entries == page->limit) {
        /* one record past the page tells that there is more */
        page->resp->next_after_sequence = page->resp->entries[page->limit - 1]->sequence;
        *stop = true;
        return CLM_OK;
    }
    e = clm_arena_alloc(page->arena, sizeof(*e));
    if (e == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__v1__audit_entry__init(e);
    e->sequence = r->sequence;
    e->time = timestamp_of(page->arena, r->time_unix_nanos);
    e->identity = clm_arena_strdup(page->arena, r->identity);
    e->role = (Clm__V1__Role)r->role;
    e->method = clm_arena_strdup(page->arena, r->method);
    e->target = clm_arena_strdup(page->arena, r->target);
    e->outcome = clm_arena_strdup(page->arena, r->outcome);
    e->hash.len = r->hash.len;
    e->hash.data = clm_arena_memdup(page->arena, r->hash.data, r->hash.len);
    page->resp->entries[page->resp->n_entries++] = e;
    return CLM_OK;
}

static clm_err list_audit_entries(rpc_call *call, const ProtobufCMessage *request,
                                  ProtobufCMessage *response)
{
    const Clm__V1__ListAuditEntriesRequest *req = (const void *)request;
    clm_app *app = rpc_call_app(call);
    audit_page page = {rpc_call_arena(call), (void *)response, req->page_size};

    if (req->page_size > AUDIT_MAX_PAGE)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "page_size: %u is more than %u",
                        req->page_size, AUDIT_MAX_PAGE);
    if (page.limit == 0)
        page.limit = AUDIT_DEFAULT_PAGE;
    page.resp->entries = clm_arena_alloc(page.arena, page.limit * sizeof(*page.resp->entries));
    if (page.resp->entries == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    return store_audit_list(app->store, req->after_sequence, page.limit + 1, add_audit_entry,
                            &page);
}

static clm_err verify_audit(rpc_call *call, const ProtobufCMessage *request,
                            ProtobufCMessage *response)
{
    clm_app *app = rpc_call_app(call);
    Clm__V1__VerifyAuditResponse *resp = (void *)response;
    store_audit_verify_result result;
    clm_err err;

    (void)request;
    if ((err = store_audit_verify(app->store, &result)) != CLM_OK)
        return err;
    resp->ok = result.ok;
    resp->entries = result.entries_checked;
    resp->first_bad_sequence = result.first_bad_sequence;
    resp->problem = clm_arena_strdup(rpc_call_arena(call), result.problem);
    return CLM_OK;
}

#define ADMIN_ONLY RPC_ROLE_BIT(RPC_ROLE_ADMIN)
#define AUDIT_READERS (RPC_ROLE_BIT(RPC_ROLE_ADMIN) | RPC_ROLE_BIT(RPC_ROLE_AUDITOR))

const rpc_method admin_methods[] = {
    {"/clm.v1.Admin/GetVersion", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__get_version_request__descriptor, &clm__v1__get_version_response__descriptor,
     get_version, NULL},
    {"/clm.v1.Admin/WhoAmI", RPC_UNARY, RPC_ROLES_ANY, 0, &clm__v1__who_am_irequest__descriptor,
     &clm__v1__who_am_iresponse__descriptor, who_am_i, NULL},
    {"/clm.v1.Admin/Backup", RPC_SERVER_STREAMING, ADMIN_ONLY, 1,
     &clm__v1__backup_request__descriptor, &clm__v1__backup_chunk__descriptor, NULL, backup},
    {"/clm.v1.Admin/SetLogLevel", RPC_UNARY, ADMIN_ONLY, 1,
     &clm__v1__set_log_level_request__descriptor, &clm__v1__set_log_level_response__descriptor,
     set_log_level, NULL},
    {"/clm.v1.Admin/ListAuditEntries", RPC_UNARY, AUDIT_READERS, 0,
     &clm__v1__list_audit_entries_request__descriptor,
     &clm__v1__list_audit_entries_response__descriptor, list_audit_entries, NULL},
    {"/clm.v1.Admin/VerifyAudit", RPC_UNARY, AUDIT_READERS, 0,
     &clm__v1__verify_audit_request__descriptor, &clm__v1__verify_audit_response__descriptor,
     verify_audit, NULL},
};
const size_t admin_methods_count = sizeof(admin_methods) / sizeof(admin_methods[0]);
