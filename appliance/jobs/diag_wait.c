/*
 * appliance/jobs/diag_wait.c: the "diag-wait" kind, a diagnostic that exercises the
 * scheduler: it waits `seconds` (0-3600) in steps, reporting progress and observing
 * cancellation, then, when `marker_dir` is given, creates marker_dir/<run id> once.
 *
 * Idempotent as the contract demands: a second execution of the same run (after a
 * crash) finds its marker and succeeds without a second one, so each run leaves
 * exactly one marker however often it ran; every execution appends a line to
 * marker_dir/executions, which shows the at-least-once behaviour.
 *
 * Params (JSON): {"seconds": 2, "marker_dir": "/tmp/x"}
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "appliance/jobs/kinds.h"

static int parse_params(sched_ctx *ctx, double *seconds, char *marker_dir, size_t size)
{
    size_t len;
    const char *text = sched_ctx_params(ctx, &len);
    json_error_t error;
    json_t *root;

    *seconds = 1;
    marker_dir[0] = '\0';
    if (len == 0)
        return 1;
    root = json_loadb(text, len, 0, &error);
    if (root == NULL || !json_is_object(root)) {
        sched_ctx_error(ctx, "params: not a JSON object (%s)", root ? "" : error.text);
        json_decref(root);
        return 0;
    }
    json_t *s = json_object_get(root, "seconds");
    json_t *m = json_object_get(root, "marker_dir");
    if (s != NULL && (!json_is_number(s) || json_number_value(s) < 0 ||
                      json_number_value(s) > 3600)) {
        sched_ctx_error(ctx, "params.seconds: a number from 0 to 3600");
        json_decref(root);
        return 0;
    }
    if (s != NULL)
        *seconds = json_number_value(s);
    if (m != NULL && (!json_is_string(m) || strlen(json_string_value(m)) >= size - 32)) {
        sched_ctx_error(ctx, "params.marker_dir: a directory path");
        json_decref(root);
        return 0;
    }
    if (m != NULL)
        snprintf(marker_dir, size, "%s", json_string_value(m));
    json_decref(root);
    return 1;
}

static void note_execution(const char *dir, sched_ctx *ctx)
{
    char path[4200], line[96];
    int fd;

    snprintf(path, sizeof(path), "%s/executions", dir);
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    snprintf(line, sizeof(line), "%llu %u\n", (unsigned long long)sched_ctx_run_id(ctx),
             sched_ctx_attempt(ctx));
    if (write(fd, line, strlen(line)) < 0)
        sched_ctx_error(ctx, "executions log: %s", strerror(errno));
    close(fd);
}

sched_outcome job_diag_wait(sched_ctx *ctx, void *app)
{
    char dir[4096], path[4200];
    double seconds;
    int steps, fd;

    (void)app;
    if (!parse_params(ctx, &seconds, dir, sizeof(dir)))
        return SCHED_OUTCOME_FAIL;
    if (dir[0] != '\0')
        note_execution(dir, ctx);
    steps = (int)(seconds * 10);
    for (int i = 0; i < steps; i++) {
        struct timespec tick = {0, 100 * 1000 * 1000};
        if (sched_ctx_check(ctx) != CLM_OK)
            return SCHED_OUTCOME_RETRY; /* cancelled or out of time: the engine decides */
        sched_ctx_progress(ctx, (uint64_t)i, (uint64_t)steps, "waiting");
        nanosleep(&tick, NULL);
    }
    if (dir[0] == '\0')
        return SCHED_OUTCOME_OK;
    snprintf(path, sizeof(path), "%s/%llu", dir, (unsigned long long)sched_ctx_run_id(ctx));
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) {
        sched_ctx_error(ctx, "marker %s: %s", path, strerror(errno));
        return SCHED_OUTCOME_RETRY;
    }
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    sched_ctx_progress(ctx, (uint64_t)steps, (uint64_t)steps, "done");
    return SCHED_OUTCOME_OK;
}
