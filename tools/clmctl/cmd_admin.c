/*
 * tools/clmctl/cmd_admin.c: version, whoami, health, admin backup, admin log-level,
 * audit ls and audit verify.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clm/v1/admin.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "lib/base/buf.h"
#include "tools/clmctl/clmctl.h"

extern const char clm_version[];
extern const char clm_build[];

static int cmd_version(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__GetVersionRequest req = CLM__V1__GET_VERSION_REQUEST__INIT;
    Clm__V1__GetVersionResponse *v;

    (void)argc;
    (void)argv;
    printf("clmctl %s (%s)\n", clm_version, clm_build);
    v = (void *)clmctl_call(g, "/clm.v1.Admin/GetVersion", &req.base,
                     &clm__v1__get_version_response__descriptor);
    if (v == NULL)
        return 1;
    printf("clmd   %s (%s)\n", v->version, v->build);
    printf("  uptime:         %" PRId64 "s\n", v->uptime ? v->uptime->seconds : 0);
    printf("  data dir:       %s\n", v->data_dir);
    printf("  schema version: %u\n", v->schema_version);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    return 0;
}

static int cmd_whoami(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__WhoAmIRequest req = CLM__V1__WHO_AM_IREQUEST__INIT;
    Clm__V1__WhoAmIResponse *w;
    const ProtobufCEnumValue *role;

    (void)argc;
    (void)argv;
    w = (void *)clmctl_call(g, "/clm.v1.Admin/WhoAmI", &req.base, &clm__v1__who_am_iresponse__descriptor);
    if (w == NULL)
        return 1;
    role = protobuf_c_enum_descriptor_get_value(&clm__v1__role__descriptor, w->role);
    printf("%s (role %s, over %s)\n", w->identity, role ? role->name + 5 : "?", w->transport);
    protobuf_c_message_free_unpacked(&w->base, NULL);
    return 0;
}

static int cmd_health(clmctl_globals *g, int argc, char **argv)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    Grpc__Health__V1__HealthCheckResponse *h;
    const ProtobufCEnumValue *name;
    int serving;

    req.service = argc > 0 ? argv[0] : "";
    h = (void *)clmctl_call(g, "/grpc.health.v1.Health/Check", &req.base,
                     &grpc__health__v1__health_check_response__descriptor);
    if (h == NULL)
        return 1;
    name = protobuf_c_enum_descriptor_get_value(
        &grpc__health__v1__health_check_response__serving_status__descriptor, h->status);
    printf("%s\n", name ? name->name : "UNKNOWN");
    serving = h->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    protobuf_c_message_free_unpacked(&h->base, NULL);
    return serving ? 0 : 1;
}

static int cmd_log_level(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__SetLogLevelRequest req = CLM__V1__SET_LOG_LEVEL_REQUEST__INIT;
    Clm__V1__SetLogLevelResponse *r;

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl admin log-level debug|info|warn|error\n");
        return 2;
    }
    req.level = argv[0];
    r = (void *)clmctl_call(g, "/clm.v1.Admin/SetLogLevel", &req.base,
                     &clm__v1__set_log_level_response__descriptor);
    if (r == NULL)
        return 1;
    printf("log level %s (was %s)\n", argv[0], r->previous);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return 0;
}

/* Stream the backup into FILE.partial, check size and SHA-256, then rename: the
   file named FILE exists only when it is complete. */
static int cmd_backup(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__BackupRequest req = CLM__V1__BACKUP_REQUEST__INIT;
    clm_client *client;
    client_stream *s;
    char partial[4200];
    unsigned char digest[32];
    unsigned int digest_len = 0;
    uint64_t written = 0;
    int fd, rc = 0, complete = 0;
    EVP_MD_CTX *md;

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl admin backup FILE\n");
        return 2;
    }
    if ((client = clmctl_client(g)) == NULL)
        return 1;
    snprintf(partial, sizeof(partial), "%s.partial", argv[0]);
    fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "clmctl: %s: %s\n", partial, strerror(errno));
        return 1;
    }
    md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    client_stream_open(client, "/clm.v1.Admin/Backup", &s);
    client_stream_send(s, &req.base);
    client_stream_close_send(s);
    for (;;) {
        Clm__V1__BackupChunk *chunk;
        if (client_stream_recv(s, &clm__v1__backup_chunk__descriptor, (void *)&chunk) != CLM_OK) {
            rc = clmctl_fail("backup");
            break;
        }
        if (chunk == NULL)
            break;
        if (chunk->last) {
            EVP_DigestFinal_ex(md, digest, &digest_len);
            if (chunk->total_bytes != written || chunk->sha256.len != 32 ||
                memcmp(chunk->sha256.data, digest, 32) != 0) {
                fprintf(stderr, "clmctl: backup: size or SHA-256 does not match the server's\n");
                rc = 1;
            } else {
                complete = 1;
            }
        } else if (chunk->offset != written ||
                   write(fd, chunk->data.data, chunk->data.len) != (ssize_t)chunk->data.len) {
            fprintf(stderr, "clmctl: backup: cannot write %s: %s\n", partial,
                    chunk->offset != written ? "chunk out of order" : strerror(errno));
            rc = 1;
        } else {
            EVP_DigestUpdate(md, chunk->data.data, chunk->data.len);
            written += chunk->data.len;
        }
        protobuf_c_message_free_unpacked(&chunk->base, NULL);
        if (rc)
            break;
    }
    if (client_stream_finish(s) != CLM_OK && rc == 0)
        rc = clmctl_fail("backup");
    EVP_MD_CTX_free(md);
    if (rc == 0 && !complete) {
        fprintf(stderr, "clmctl: backup: the stream ended before the final checksum\n");
        rc = 1;
    }
    if (rc == 0 && fsync(fd) != 0) {
        fprintf(stderr, "clmctl: backup: fsync: %s\n", strerror(errno));
        rc = 1;
    }
    close(fd);
    if (rc == 0 && rename(partial, argv[0]) != 0) {
        fprintf(stderr, "clmctl: backup: rename to %s: %s\n", argv[0], strerror(errno));
        rc = 1;
    }
    if (rc != 0) {
        unlink(partial);
        return rc;
    }
    char hex[65];
    clm_hex_encode(hex, digest, 32);
    printf("backup written to %s (%" PRIu64 " bytes, sha256 %s)\n", argv[0], written, hex);
    printf("restore: mkdir NEWDIR && cp %s NEWDIR/data.mdb && clmd --data-dir NEWDIR\n", argv[0]);
    return 0;
}

static int cmd_audit_ls(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__ListAuditEntriesRequest req = CLM__V1__LIST_AUDIT_ENTRIES_REQUEST__INIT;
    int json = argc == 1 && strcmp(argv[0], "--json") == 0;

    if (argc > 1 || (argc == 1 && !json)) {
        fprintf(stderr, "usage: clmctl audit ls [--json]\n");
        return 2;
    }
    req.page_size = 1000;
    for (;;) {
        Clm__V1__ListAuditEntriesResponse *r =
            (void *)clmctl_call(g, "/clm.v1.Admin/ListAuditEntries", &req.base,
                         &clm__v1__list_audit_entries_response__descriptor);
        if (r == NULL)
            return 1;
        for (size_t i = 0; i < r->n_entries; i++) {
            const Clm__V1__AuditEntry *e = r->entries[i];
            if (json) {
                clmctl_print_json(&e->base);
                continue;
            }
            char when[32] = "?";
            if (e->time) {
                time_t t = (time_t)e->time->seconds;
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
            }
            printf("%6" PRIu64 "  %s  %-28s %-8s %s %s\n", e->sequence, when, e->method,
                   e->outcome, e->identity, e->target);
        }
        req.after_sequence = r->next_after_sequence;
        protobuf_c_message_free_unpacked(&r->base, NULL);
        if (req.after_sequence == 0)
            return 0;
    }
}

static int cmd_audit_verify(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__VerifyAuditRequest req = CLM__V1__VERIFY_AUDIT_REQUEST__INIT;
    Clm__V1__VerifyAuditResponse *r;
    int rc;

    (void)argc;
    (void)argv;
    r = (void *)clmctl_call(g, "/clm.v1.Admin/VerifyAudit", &req.base,
                     &clm__v1__verify_audit_response__descriptor);
    if (r == NULL)
        return 1;
    if (r->ok) {
        printf("audit chain intact: %" PRIu64 " entries\n", r->entries);
        rc = 0;
    } else {
        printf("audit chain BROKEN at sequence %" PRIu64 ": %s (%" PRIu64 " entries checked)\n",
               r->first_bad_sequence, r->problem, r->entries);
        rc = 1;
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
}

const clmctl_command clmctl_admin_commands[] = {
    {"version", "", "versions of clmctl and clmd, uptime, data directory", cmd_version},
    {"whoami", "", "the identity and role clmd sees", cmd_whoami},
    {"health", "[SERVICE]", "SERVING or not (exit 0 when serving)", cmd_health},
    {"admin backup", "FILE", "save a consistent copy of the store", cmd_backup},
    {"admin log-level", "LEVEL", "change clmd's log level until restart", cmd_log_level},
    {"audit ls", "[--json]", "the audit log", cmd_audit_ls},
    {"audit verify", "", "check the audit hash chain", cmd_audit_verify},
    {NULL, NULL, NULL, NULL},
};
