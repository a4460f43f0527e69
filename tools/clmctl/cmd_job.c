/*
 * tools/clmctl/cmd_job.c: job ls|run|watch|cancel|history|kinds and
 * schedule add|ls|rm|enable|disable (clm.v1.Jobs).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clm/v1/jobs.pb-c.h"
#include "tools/clmctl/clmctl.h"

static void format_time(const Google__Protobuf__Timestamp *t, char *out, size_t size)
{
    time_t s;
    struct tm tm;

    if (t == NULL) {
        snprintf(out, size, "-");
        return;
    }
    s = (time_t)t->seconds;
    gmtime_r(&s, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static int parse_id(const char *text, uint64_t *id)
{
    char *end;

    *id = strtoull(text, &end, 10);
    if (*end != '\0' || *id == 0) {
        fprintf(stderr, "clmctl: '%s' is not a run id\n", text);
        return 0;
    }
    return 1;
}

/* ---- runs ---- */

typedef struct run_rows {
    output_table *table; /* NULL: JSON */
    unsigned long limit, shown;
} run_rows;

static int run_page(const ProtobufCMessage *reply, void *arg)
{
    const Clm__V1__ListRunsResponse *r = (const void *)reply;
    run_rows *rows = arg;

    for (size_t i = 0; i < r->n_runs; i++) {
        const Clm__V1__JobRun *j = r->runs[i];
        char id[24], attempt[16], progress[48], created[32];
        if (rows->limit && rows->shown == rows->limit)
            return 1;
        rows->shown++;
        if (rows->table == NULL) {
            clmctl_print_json(&j->base);
            continue;
        }
        snprintf(id, sizeof(id), "%" PRIu64, j->id);
        snprintf(attempt, sizeof(attempt), "%u", j->attempts_total);
        snprintf(progress, sizeof(progress), "%" PRIu64 "/%" PRIu64, j->progress_done,
                 j->progress_total);
        format_time(j->created_at, created, sizeof(created));
        const char *cells[8] = {id, j->kind, j->state, attempt, progress, created, j->schedule,
                                j->last_error};
        output_table_row(rows->table, cells);
    }
    return rows->limit && rows->shown >= rows->limit;
}

static int print_runs(clmctl_globals *g, Clm__V1__ListRunsRequest *req, unsigned long limit)
{
    static const char *const headers[] = {"ID", "KIND", "STATE", "ATTEMPT", "PROGRESS", "CREATED",
                                          "SCHEDULE", "ERROR"};
    run_rows rows = {g->output == OUTPUT_JSON ? NULL : output_table_begin(g->output, headers, 8),
                     limit, 0};
    int rc = clmctl_for_each_page(g, "/clm.v1.Jobs/ListRuns", &req->base,
                                  &clm__v1__list_runs_response__descriptor, run_page, &rows);

    output_table_end(rows.table);
    return rc;
}

static int cmd_job_ls(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__ListRunsRequest req = CLM__V1__LIST_RUNS_REQUEST__INIT;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc)
            req.kind = argv[++i];
        else if (strcmp(argv[i], "--schedule") == 0 && i + 1 < argc)
            req.schedule = argv[++i];
        else {
            fprintf(stderr, "usage: clmctl job ls [--kind K] [--schedule NAME]\n");
            return 2;
        }
    }
    /* what is in flight: queued and running */
    req.state = "running";
    int rc = print_runs(g, &req, 0);
    req.state = "queued";
    return rc | print_runs(g, &req, 0);
}

static int cmd_job_history(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__ListRunsRequest req = CLM__V1__LIST_RUNS_REQUEST__INIT;
    unsigned long limit = 50;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc)
            req.kind = argv[++i];
        else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
            req.state = argv[++i];
        else if (strcmp(argv[i], "--schedule") == 0 && i + 1 < argc)
            req.schedule = argv[++i];
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
            limit = strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: clmctl job history [--kind K] [--state S] [--schedule NAME] "
                            "[--limit N]\n");
            return 2;
        }
    }
    return print_runs(g, &req, limit);
}

/* Follow a run: a progress bar on a terminal, plain lines otherwise. */
static int watch(clmctl_globals *g, uint64_t id)
{
    Clm__V1__WatchRunRequest req = CLM__V1__WATCH_RUN_REQUEST__INIT;
    clm_client *client = clmctl_client(g);
    client_stream *s;
    int tty = isatty(1), rc = 1;
    char state[32] = "";

    if (client == NULL)
        return 1;
    req.id = id;
    client_stream_open(client, "/clm.v1.Jobs/WatchRun", &s);
    client_stream_send(s, &req.base);
    client_stream_close_send(s);
    for (;;) {
        Clm__V1__JobRun *j;
        if (client_stream_recv(s, &clm__v1__job_run__descriptor, (void *)&j) != CLM_OK || j == NULL)
            break;
        snprintf(state, sizeof(state), "%s", j->state);
        if (g->output_explicit && g->output == OUTPUT_JSON) {
            clmctl_print_json(&j->base);
        } else if (tty) {
            int width = 30, filled = j->progress_total
                                         ? (int)(j->progress_done * (uint64_t)width / j->progress_total)
                                         : 0;
            printf("\r%-10s [%.*s%*s] %" PRIu64 "/%" PRIu64 " %-30.30s", j->state, filled,
                   "##############################", width - filled, "", j->progress_done,
                   j->progress_total, j->progress_message);
        } else {
            printf("run %" PRIu64 " %s attempt %u progress %" PRIu64 "/%" PRIu64 " %s%s%s\n", j->id,
                   j->state, j->attempts_total, j->progress_done, j->progress_total,
                   j->progress_message, j->last_error[0] ? " error: " : "", j->last_error);
        }
        fflush(stdout);
        protobuf_c_message_free_unpacked(&j->base, NULL);
    }
    if (tty && !(g->output_explicit && g->output == OUTPUT_JSON))
        printf("\n");
    if (client_stream_finish(s) != CLM_OK)
        return clmctl_fail("watch");
    rc = strcmp(state, "succeeded") == 0 ? 0 : 1;
    return rc;
}

static int cmd_job_run(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__RunNowRequest req = CLM__V1__RUN_NOW_REQUEST__INIT;
    Clm__V1__JobRun *r;
    int do_watch = 0;
    uint64_t id;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--watch") == 0)
            do_watch = 1;
        else if (strcmp(argv[i], "--params") == 0 && i + 1 < argc)
            req.params = argv[++i];
        else if (req.kind[0] == '\0' && argv[i][0] != '-')
            req.kind = argv[i];
        else {
            req.kind = "";
            break;
        }
    }
    if (req.kind[0] == '\0') {
        fprintf(stderr, "usage: clmctl job run KIND [--params JSON] [--watch]\n");
        return 2;
    }
    r = (void *)clmctl_call(g, "/clm.v1.Jobs/RunNow", &req.base, &clm__v1__job_run__descriptor);
    if (r == NULL)
        return 1;
    id = r->id;
    if (!do_watch)
        printf("run %" PRIu64 " queued (%s)\n", id, r->kind);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return do_watch ? watch(g, id) : 0;
}

static int cmd_job_watch(clmctl_globals *g, int argc, char **argv)
{
    uint64_t id;

    if (argc != 1 || !parse_id(argv[0], &id)) {
        fprintf(stderr, "usage: clmctl job watch RUN-ID\n");
        return 2;
    }
    return watch(g, id);
}

static int cmd_job_cancel(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__CancelRunRequest req = CLM__V1__CANCEL_RUN_REQUEST__INIT;
    Clm__V1__JobRun *r;

    if (argc != 1 || !parse_id(argv[0], &req.id)) {
        fprintf(stderr, "usage: clmctl job cancel RUN-ID\n");
        return 2;
    }
    r = (void *)clmctl_call(g, "/clm.v1.Jobs/CancelRun", &req.base, &clm__v1__job_run__descriptor);
    if (r == NULL)
        return 1;
    printf("run %" PRIu64 ": %s%s\n", r->id, r->state,
           r->cancel_requested && strcmp(r->state, "running") == 0 ? " (cancel requested)" : "");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return 0;
}

static int cmd_job_kinds(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__ListKindsRequest req = CLM__V1__LIST_KINDS_REQUEST__INIT;
    Clm__V1__ListKindsResponse *r;

    (void)argc;
    (void)argv;
    r = (void *)clmctl_call(g, "/clm.v1.Jobs/ListKinds", &req.base,
                            &clm__v1__list_kinds_response__descriptor);
    if (r == NULL)
        return 1;
    for (size_t i = 0; i < r->n_kinds; i++)
        printf("%-20s %s\n", r->kinds[i]->name, r->kinds[i]->description);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return 0;
}

/* ---- schedules ---- */

static int cmd_schedule_add(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__CreateScheduleRequest req = CLM__V1__CREATE_SCHEDULE_REQUEST__INIT;
    Clm__V1__Schedule s = CLM__V1__SCHEDULE__INIT;
    ProtobufCMessage *r;
    int positional = 0;

    s.enabled = 1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--tz") == 0 && i + 1 < argc)
            s.time_zone = argv[++i];
        else if (strcmp(argv[i], "--params") == 0 && i + 1 < argc)
            s.params = argv[++i];
        else if (strcmp(argv[i], "--misfire") == 0 && i + 1 < argc)
            s.misfire = argv[++i];
        else if (strcmp(argv[i], "--batch-size") == 0 && i + 1 < argc)
            s.batch_size = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--batch-interval") == 0 && i + 1 < argc)
            s.batch_interval_minutes = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--disabled") == 0)
            s.enabled = 0;
        else if (positional == 0 && argv[i][0] != '-')
            s.name = argv[i], positional++;
        else if (positional == 1 && argv[i][0] != '-')
            s.kind = argv[i], positional++;
        else if (positional == 2)
            s.cron = argv[i], positional++;
        else
            positional = 99;
    }
    if (positional != 3) {
        fprintf(stderr, "usage: clmctl schedule add NAME KIND 'CRON' [--tz ZONE] [--params JSON]\n"
                        "  [--misfire run_once|skip] [--batch-size N] [--batch-interval MINUTES]\n"
                        "  [--disabled]\n");
        return 2;
    }
    req.schedule = &s;
    r = clmctl_call(g, "/clm.v1.Jobs/CreateSchedule", &req.base, &clm__v1__schedule__descriptor);
    if (r == NULL)
        return 1;
    clmctl_print_json(r);
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

static int schedule_page(const ProtobufCMessage *reply, void *arg)
{
    const Clm__V1__ListSchedulesResponse *r = (const void *)reply;
    output_table *table = arg;

    for (size_t i = 0; i < r->n_schedules; i++) {
        const Clm__V1__Schedule *s = r->schedules[i];
        char next[32], runs[24];
        if (table == NULL) {
            clmctl_print_json(&s->base);
            continue;
        }
        format_time(s->next_fire, next, sizeof(next));
        snprintf(runs, sizeof(runs), "%" PRIu64, s->fire_count);
        const char *cells[7] = {s->name, s->kind, s->cron, s->time_zone, s->enabled ? "yes" : "no",
                                next, runs};
        output_table_row(table, cells);
    }
    return 0;
}

static int cmd_schedule_ls(clmctl_globals *g, int argc, char **argv)
{
    static const char *const headers[] = {"NAME", "KIND", "CRON", "ZONE", "ENABLED", "NEXT FIRE",
                                          "RUNS"};
    Clm__V1__ListSchedulesRequest req = CLM__V1__LIST_SCHEDULES_REQUEST__INIT;
    output_table *table;
    int rc;

    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "usage: clmctl schedule ls\n");
        return 2;
    }
    table = g->output == OUTPUT_JSON ? NULL : output_table_begin(g->output, headers, 7);
    rc = clmctl_for_each_page(g, "/clm.v1.Jobs/ListSchedules", &req.base,
                              &clm__v1__list_schedules_response__descriptor, schedule_page, table);
    output_table_end(table);
    return rc;
}

static int set_enabled(clmctl_globals *g, int argc, char **argv, int enabled)
{
    Clm__V1__UpdateScheduleRequest req = CLM__V1__UPDATE_SCHEDULE_REQUEST__INIT;
    Clm__V1__Schedule s = CLM__V1__SCHEDULE__INIT;
    char *mask[] = {"enabled"};
    ProtobufCMessage *r;

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl schedule %s NAME\n", enabled ? "enable" : "disable");
        return 2;
    }
    s.enabled = enabled;
    req.name = argv[0];
    req.schedule = &s;
    req.update_mask = mask;
    req.n_update_mask = 1;
    r = clmctl_call(g, "/clm.v1.Jobs/UpdateSchedule", &req.base, &clm__v1__schedule__descriptor);
    if (r == NULL)
        return 1;
    printf("schedule %s %s\n", argv[0], enabled ? "enabled" : "disabled");
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

static int cmd_schedule_enable(clmctl_globals *g, int argc, char **argv)
{
    return set_enabled(g, argc, argv, 1);
}

static int cmd_schedule_disable(clmctl_globals *g, int argc, char **argv)
{
    return set_enabled(g, argc, argv, 0);
}

static int cmd_schedule_rm(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__DeleteScheduleRequest req = CLM__V1__DELETE_SCHEDULE_REQUEST__INIT;
    ProtobufCMessage *r;

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl schedule rm NAME\n");
        return 2;
    }
    req.name = argv[0];
    r = clmctl_call(g, "/clm.v1.Jobs/DeleteSchedule", &req.base,
                    &clm__v1__delete_schedule_response__descriptor);
    if (r == NULL)
        return 1;
    printf("deleted schedule %s\n", argv[0]);
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

const clmctl_command clmctl_job_commands[] = {
    {"job ls", "[--kind K]", "runs queued or running", cmd_job_ls},
    {"job run", "KIND [--params JSON] [--watch]", "run a job now", cmd_job_run},
    {"job watch", "RUN-ID", "follow a run until it ends", cmd_job_watch},
    {"job cancel", "RUN-ID", "cancel a queued or running run", cmd_job_cancel},
    {"job history", "[--kind K] [--state S]", "finished and past runs, newest first",
     cmd_job_history},
    {"job kinds", "", "the job kinds of this clmd", cmd_job_kinds},
    {"schedule add", "NAME KIND 'CRON' [OPTIONS]", "a cron schedule for a job kind",
     cmd_schedule_add},
    {"schedule ls", "", "schedules with their next fire time", cmd_schedule_ls},
    {"schedule rm", "NAME", "delete a schedule", cmd_schedule_rm},
    {"schedule enable", "NAME", "enable a schedule", cmd_schedule_enable},
    {"schedule disable", "NAME", "disable a schedule", cmd_schedule_disable},
    {NULL, NULL, NULL, NULL},
};
