/*
 * tools/clmctl/cmd_report.c: report push-validation: the Push Validation Report in the
 * terminal, and with --html FILE as one self-contained HTML page (inline CSS and SVG,
 * nothing fetched) with two charts: success vs failure over time, failures by reason.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clm/v1/reports.pb-c.h"
#include "tools/clmctl/clmctl.h"

/* "7d", "12h", "30m" back from now, or "YYYY-MM-DD[THH:MM[:SS]Z]"; 0 when malformed. */
static int parse_when(const char *text, time_t now, Google__Protobuf__Timestamp *out)
{
    char *end;
    long long n = strtoll(text, &end, 10);
    struct tm tm;
    const char *rest;

    if (end != text && n >= 0 && end[0] != '\0' && end[1] == '\0' && strchr("dhm", end[0])) {
        long long unit = end[0] == 'd' ? 86400 : end[0] == 'h' ? 3600 : 60;
        if (n > 3660LL * 86400 / unit)
            return 0;
        out->seconds = (int64_t)now - n * unit;
        return 1;
    }
    memset(&tm, 0, sizeof(tm));
    if ((rest = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL || *rest != '\0') {
        memset(&tm, 0, sizeof(tm));
        if ((rest = strptime(text, "%Y-%m-%dT%H:%MZ", &tm)) == NULL || *rest != '\0') {
            memset(&tm, 0, sizeof(tm));
            if ((rest = strptime(text, "%Y-%m-%d", &tm)) == NULL || *rest != '\0')
                return 0;
        }
    }
    out->seconds = (int64_t)timegm(&tm);
    return 1;
}

static void format_time(const Google__Protobuf__Timestamp *t, char *out, size_t size)
{
    time_t s = t ? (time_t)t->seconds : 0;
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M", &tm);
}

static void print_text(const Clm__V1__PushValidationReport *r)
{
    char since[32], until[32];
    uint64_t max = 1;

    format_time(r->since, since, sizeof(since));
    format_time(r->until, until, sizeof(until));
    printf("Push validation, %s to %s UTC\n", since, until);
    printf("checks %" PRIu64 ", succeeded %" PRIu64 ", failed %" PRIu64 ", success %.1f%%\n",
           r->checks, r->succeeded, r->failed, 100.0 * r->success_ratio);
    for (size_t i = 0; i < r->n_by_verdict; i++)
        if (r->by_verdict[i]->count > 0)
            printf("  %-18s %8" PRIu64 "\n", r->by_verdict[i]->verdict, r->by_verdict[i]->count);
    printf("\n%-17s %8s %8s\n", "FROM", "OK", "FAILED");
    for (size_t i = 0; i < r->n_series; i++) {
        uint64_t total = r->series[i]->succeeded + r->series[i]->failed;
        max = total > max ? total : max;
    }
    for (size_t i = 0; i < r->n_series; i++) {
        const Clm__V1__ValidationBucket *b = r->series[i];
        char from[32];
        int ok = (int)(b->succeeded * 40 / max), bad = (int)(b->failed * 40 / max);
        format_time(b->start, from, sizeof(from));
        printf("%-17s %8" PRIu64 " %8" PRIu64 " %.*s%.*s\n", from, b->succeeded, b->failed, ok,
               "========================================", bad,
               "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    }
    size_t failing = 0;
    for (size_t i = 0; i < r->n_endpoints; i++)
        failing += r->endpoints[i]->failed > 0;
    if (failing > 0) {
        printf("\n%-28s %-22s %6s %6s  %-16s %s\n", "ENDPOINT", "CN", "CHECKS", "FAILED",
               "LAST VERDICT", "DETAIL");
        for (size_t i = 0; i < r->n_endpoints && r->endpoints[i]->failed > 0; i++) {
            const Clm__V1__EndpointValidation *e = r->endpoints[i];
            char where[300];
            snprintf(where, sizeof(where), "%s:%u%s%s", e->address[0] ? e->address : e->host,
                     e->port, e->sni[0] ? " " : "", e->sni);
            printf("%-28s %-22.22s %6" PRIu64 " %6" PRIu64 "  %-16s %s\n", where,
                   e->common_name, e->checks, e->failed, e->last_verdict, e->last_detail);
        }
    }
    if (r->endpoints_omitted)
        printf("(%u more endpoints not listed: --max-endpoints)\n", r->endpoints_omitted);
}

/* ---- HTML ---- */

static void html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Success vs failure per bucket: stacked bars, success at the bottom. */
static void svg_series(FILE *f, const Clm__V1__PushValidationReport *r)
{
    const int w = 860, h = 260, left = 50, bottom = 40, top = 10;
    uint64_t max = 1;
    double slot = r->n_series ? (double)(w - left - 10) / (double)r->n_series : 1;

    for (size_t i = 0; i < r->n_series; i++) {
        uint64_t t = r->series[i]->succeeded + r->series[i]->failed;
        max = t > max ? t : max;
    }
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "role=\"img\" aria-label=\"success and failure over time\">\n", w, h);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", left,
            h - bottom, w - 10, h - bottom);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%" PRIu64
               "</text>\n<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">0</text>\n",
            left - 4, top + 10, max, left - 4, h - bottom);
    for (size_t i = 0; i < r->n_series; i++) {
        const Clm__V1__ValidationBucket *b = r->series[i];
        double x = left + slot * (double)i + 1;
        double plot = h - bottom - top;
        double ok = plot * (double)b->succeeded / (double)max;
        double bad = plot * (double)b->failed / (double)max;
        char from[32];
        format_time(b->start, from, sizeof(from));
        fprintf(f, "<g><title>%s: %" PRIu64 " ok, %" PRIu64 " failed</title>", from, b->succeeded,
                b->failed);
        fprintf(f, "<rect class=\"ok\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x,
                h - bottom - ok, slot > 3 ? slot - 2 : slot, ok);
        fprintf(f, "<rect class=\"bad\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></g>\n",
                x, h - bottom - ok - bad, slot > 3 ? slot - 2 : slot, bad);
        if (i == 0 || i + 1 == r->n_series || (r->n_series > 6 && i == r->n_series / 2))
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">%s</text>\n", x, h - bottom + 16,
                    from);
    }
    fputs("</svg>\n", f);
}

/* Failures by reason: horizontal bars. */
static void svg_reasons(FILE *f, const Clm__V1__PushValidationReport *r)
{
    const int w = 860, row = 24, left = 150;
    uint64_t max = 1;
    size_t n = 0;

    for (size_t i = 0; i < r->n_by_verdict; i++)
        if (strcmp(r->by_verdict[i]->verdict, "in_sync") != 0) {
            n++;
            max = r->by_verdict[i]->count > max ? r->by_verdict[i]->count : max;
        }
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" "
               "role=\"img\" aria-label=\"failures by reason\">\n", w, n * row + 10);
    n = 0;
    for (size_t i = 0; i < r->n_by_verdict; i++) {
        const Clm__V1__VerdictCount *c = r->by_verdict[i];
        if (strcmp(c->verdict, "in_sync") == 0)
            continue;
        double len = (double)(w - left - 80) * (double)c->count / (double)max;
        fprintf(f, "<text x=\"%d\" y=\"%zu\" font-size=\"12\" text-anchor=\"end\">", left - 6,
                n * row + 17);
        html_text(f, c->verdict);
        fprintf(f, "</text><rect class=\"bad\" x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"16\"/>"
                   "<text x=\"%.1f\" y=\"%zu\" font-size=\"12\">%" PRIu64 "</text>\n",
                left, n * row + 5, len, left + len + 6, n * row + 17, c->count);
        n++;
    }
    fputs("</svg>\n", f);
}

static void write_html(FILE *f, const Clm__V1__PushValidationReport *r)
{
    char since[32], until[32], when[32];

    format_time(r->since, since, sizeof(since));
    format_time(r->until, until, sizeof(until));
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<title>Push Validation Report</title>\n<style>\n"
          "body{font-family:sans-serif;margin:2em;color:#222}"
          "table{border-collapse:collapse;margin:1em 0}"
          "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}"
          "th{background:#f0f0f0}.ok{fill:#2e7d32}.bad{fill:#c62828}"
          ".num{text-align:right}.fail{color:#c62828}.big{font-size:28px}\n"
          "</style></head><body>\n<h1>Push Validation Report</h1>\n", f);
    fprintf(f, "<p>%s to %s UTC</p>\n", since, until);
    fprintf(f, "<p class=\"big\">%.1f%% successful</p>\n<p>%" PRIu64 " checks: %" PRIu64
               " in sync, %" PRIu64 " failed.</p>\n",
            100.0 * r->success_ratio, r->checks, r->succeeded, r->failed);
    fputs("<h2>Success and failure over time</h2>\n", f);
    svg_series(f, r);
    fputs("<h2>Failures by reason</h2>\n", f);
    svg_reasons(f, r);
    fputs("<h2>Certificates</h2>\n<table><tr><th>Common name</th><th>SHA-256</th><th>State</th>"
          "<th>Bindings</th><th>Checks</th><th>Failed</th></tr>\n", f);
    for (size_t i = 0; i < r->n_certificates; i++) {
        const Clm__V1__CertificateValidation *c = r->certificates[i];
        fputs("<tr><td>", f);
        html_text(f, c->common_name);
        fputs("</td><td><code>", f);
        html_text(f, c->sha256);
        fprintf(f, "</code></td><td%s>", strcmp(c->state, "sync") ? " class=\"fail\"" : "");
        html_text(f, c->state);
        fprintf(f, "</td><td class=\"num\">%u</td><td class=\"num\">%" PRIu64
                   "</td><td class=\"num\">%" PRIu64 "</td></tr>\n",
                c->bindings, c->checks, c->failed);
    }
    fputs("</table>\n<h2>Endpoints</h2>\n<table><tr><th>Endpoint</th><th>SNI</th>"
          "<th>Expected</th><th>Checks</th><th>Failed</th><th>Last verdict</th><th>Detail</th>"
          "<th>Last checked</th></tr>\n", f);
    for (size_t i = 0; i < r->n_endpoints; i++) {
        const Clm__V1__EndpointValidation *e = r->endpoints[i];
        format_time(e->last_checked, when, sizeof(when));
        fputs("<tr><td>", f);
        html_text(f, e->address[0] ? e->address : e->host);
        fprintf(f, ":%u</td><td>", e->port);
        html_text(f, e->sni);
        fputs("</td><td>", f);
        html_text(f, e->common_name[0] ? e->common_name : e->certificate);
        fprintf(f, "</td><td class=\"num\">%" PRIu64 "</td><td class=\"num\">%" PRIu64
                   "</td><td%s>",
                e->checks, e->failed, strcmp(e->last_verdict, "in_sync") ? " class=\"fail\"" : "");
        html_text(f, e->last_verdict);
        fputs("</td><td>", f);
        html_text(f, e->last_detail);
        fprintf(f, "</td><td>%s</td></tr>\n", when);
    }
    fputs("</table>\n", f);
    if (r->endpoints_omitted)
        fprintf(f, "<p>%u more endpoints (all in sync or fewer failures) not listed.</p>\n",
                r->endpoints_omitted);
    fputs("</body></html>\n", f);
}

/* Write the page next to FILE, then rename: a reader never sees half a report. */
static int save_html(const char *path, const Clm__V1__PushValidationReport *r)
{
    char tmp[4200];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    if ((f = fopen(tmp, "w")) == NULL) {
        fprintf(stderr, "clmctl: %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    write_html(f, r);
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        fprintf(stderr, "clmctl: %s: %s\n", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        return 1;
    }
    fclose(f);
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "clmctl: %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return 1;
    }
    return 0;
}

static int cmd_report_push_validation(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__PushValidationReportRequest req = CLM__V1__PUSH_VALIDATION_REPORT_REQUEST__INIT;
    Google__Protobuf__Timestamp since = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Google__Protobuf__Timestamp until = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Clm__V1__PushValidationReport *r;
    const char *html = NULL;
    time_t now = time(NULL);
    int rc = 0;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
            if (!parse_when(argv[++i], now, &since))
                goto usage;
            req.since = &since;
        } else if (strcmp(argv[i], "--until") == 0 && i + 1 < argc) {
            if (!parse_when(argv[++i], now, &until))
                goto usage;
            req.until = &until;
        } else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc) {
            req.certificate = argv[++i];
        } else if (strcmp(argv[i], "--buckets") == 0 && i + 1 < argc) {
            req.buckets = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--max-endpoints") == 0 && i + 1 < argc) {
            req.max_endpoints = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc) {
            html = argv[++i];
        } else {
            goto usage;
        }
    }
    r = (void *)clmctl_call(g, "/clm.v1.Reports/GetPushValidationReport", &req.base,
                            &clm__v1__push_validation_report__descriptor);
    if (r == NULL)
        return 1;
    if (html != NULL)
        rc = save_html(html, r);
    /* With --html the page is the output; the text too only when -o asks for it. */
    if (html == NULL || g->output_explicit) {
        if (g->output == OUTPUT_JSON)
            clmctl_print_json(&r->base);
        else
            print_text(r);
    }
    if (html != NULL && rc == 0)
        fprintf(stderr, "wrote %s\n", html);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
usage:
    fprintf(stderr, "usage: clmctl report push-validation [--since 7d|DATE] [--until DATE] "
                    "[--cert ID] [--buckets N] [--max-endpoints N] [--html FILE]\n"
                    "  DATE: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z (UTC); or 30m, 12h, 7d ago\n");
    return 2;
}

const clmctl_command clmctl_report_commands[] = {
    {"report push-validation", "[--since 7d] [--until DATE] [--cert ID] [--html FILE]",
     "did endpoints serve their bound certificates (HTML with charts: --html)",
     cmd_report_push_validation},
    {NULL, NULL, NULL, NULL},
};
