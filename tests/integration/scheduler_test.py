"""Integration tests of the scheduler through the real clmd (issue: scheduler):
schedules and runs over the Jobs API and clmctl, bad input, and crash recovery with
kill -9 at random moments (at-least-once, each run's effect exactly once).
"""
import json
import os
import random
import signal
import subprocess
import tempfile
import time

import http.server
import threading

from harness import Clmd, check, clmctl, run_cases
from inventory_test import Pki, ls


def tmpdir():
    return tempfile.mkdtemp(prefix="clm-sched-")


def runs(d, *args):
    r = clmctl(d, "-o", "json", "job", "history", "--limit", "100000", *args)
    out, depth, start = [], 0, None
    for i, ch in enumerate(r.stdout):
        if ch == "{":
            depth += 1
            start = i if depth == 1 else start
        elif ch == "}":
            depth -= 1
            if depth == 0:
                out.append(json.loads(r.stdout[start:i + 1]))
    return out


def test_schedules_and_bad_input():
    d = tmpdir()
    s = Clmd(d, extra=["--validation-interval", "0", "--renewal-interval", "0"])
    r = clmctl(d, "job", "kinds")
    check("diag-wait" in r.stdout, "kinds listed")
    bad = [
        (["s1", "diag-wait", "61 * * * *"], 'cron: field "minute" at position 1'),
        (["s1", "diag-wait", "* * * * * * *"], "cron"),
        (["s1", "diag-wait", "* * 31 2 MON-"], "cron"),
        (["s1", "diag-wait", "@every -5m"], "cron"),
        (["s1", "diag-wait", "@every 900d"], "cron"),
        (["s1", "diag-wait", "* * * * *", "--tz", "Mars/Olympus"], "time_zone"),
        (["s1", "diag-wait", "* * * * *", "--tz", "../../etc/passwd"], "time_zone"),
        (["s1", "no-such-kind", "* * * * *"], "kind"),
        (["", "diag-wait", "* * * * *"], "name"),
        (["s1", "diag-wait", "* * * * *", "--params", "[1]"], "params"),
        (["s1", "diag-wait", "* * * * *", "--misfire", "often"], "misfire"),
    ]
    for args, field in bad:
        r = clmctl(d, "schedule", "add", *args)
        check(r.returncode != 0 and "INVALID_ARGUMENT" in r.stderr and field in r.stderr,
              f"schedule add {args}: {r.stderr}")
    r = clmctl(d, "-o", "json", "schedule", "ls")
    check(r.stdout.strip() == "", f"nothing stored by bad input: {r.stdout}")
    r = clmctl(d, "job", "run", "no-such-kind")
    check(r.returncode != 0 and "kind:" in r.stderr, "RunNow of an unknown kind")
    r = clmctl(d, "schedule", "add", "berlin", "diag-wait", "30 2 * * *", "--tz", "Europe/Berlin",
               "--params", '{"seconds": 0}')
    check(r.returncode == 0 and '"timeZone": "Europe/Berlin"' in r.stdout, f"schedule add: {r.stderr}")
    r = clmctl(d, "schedule", "add", "fast", "diag-wait", "@every 1s", "--params", '{"seconds": 0}')
    check(r.returncode == 0, f"schedule add fast: {r.stderr}")
    time.sleep(3.5)
    fired = [x for x in runs(d) if x.get("schedule") == "fast"]
    check(2 <= len(fired) <= 5 and all(x["state"] == "succeeded" for x in fired[1:]),
          f"an @every 1s schedule fired about every second: {len(fired)}")
    r = clmctl(d, "schedule", "disable", "fast")
    check(r.returncode == 0, "disable")
    time.sleep(0.5)
    n = len(runs(d))
    time.sleep(2)
    check(len(runs(d)) == n, "a disabled schedule does not fire")
    r = clmctl(d, "-o", "table", "schedule", "ls")
    check("berlin" in r.stdout and "fast" in r.stdout and " no " in r.stdout, f"schedule ls: {r.stdout}")
    # watch a run to the end (plain lines when not on a terminal)
    r = clmctl(d, "job", "run", "diag-wait", "--params", '{"seconds": 1}', "--watch")
    check(r.returncode == 0 and "succeeded" in r.stdout.splitlines()[-1] and "progress" in r.stdout,
          f"run --watch: {r.stdout}{r.stderr}")
    # cancel a running run
    r = clmctl(d, "job", "run", "diag-wait", "--params", '{"seconds": 30}')
    run_id = r.stdout.split()[1]
    time.sleep(0.5)
    r = clmctl(d, "job", "cancel", run_id)
    check(r.returncode == 0, f"cancel: {r.stderr}")
    deadline = time.time() + 10
    state = ""
    while time.time() < deadline:
        state = [x for x in runs(d) if x["id"] == run_id][0]["state"]
        if state == "cancelled":
            break
        time.sleep(0.2)
    check(state == "cancelled", f"a running run observes cancellation: {state}")
    r = clmctl(d, "schedule", "rm", "fast")
    check(r.returncode == 0 and "fast" not in clmctl(d, "schedule", "ls").stdout, "schedule rm")
    audit = clmctl(d, "audit", "ls").stdout
    check("CreateSchedule" in audit and "CancelRun" in audit and "RunNow" in audit, "job writes audited")
    s.stop()


def test_crash_recovery_kill9():
    d = tmpdir()
    markers = tmpdir()
    os.chmod(markers, 0o777)
    s = Clmd(d, extra=["--scheduler-workers", "4", "--validation-interval", "0", "--renewal-interval", "0"])
    total = 24
    for _ in range(total):
        r = clmctl(d, "job", "run", "diag-wait", "--params",
                   json.dumps({"seconds": 1.2, "marker_dir": markers}))
        check(r.returncode == 0, f"queue a run: {r.stderr}")
    rng = random.Random(1234)
    kills = 0
    for _ in range(20):
        time.sleep(rng.uniform(0.1, 1.0))
        s.stop(sig=signal.SIGKILL)
        kills += 1
        s = Clmd(d, extra=["--scheduler-workers", "4", "--validation-interval", "0", "--renewal-interval", "0"])
    deadline = time.time() + 120
    while time.time() < deadline:
        states = [x["state"] for x in runs(d)]
        if len(states) == total and all(st in ("succeeded", "failed", "cancelled") for st in states):
            break
        time.sleep(0.5)
    all_runs = runs(d)
    check(kills == 20, "killed 20 times")
    check(len(all_runs) == total, f"no run lost: {len(all_runs)} of {total}")
    check(all(x["state"] == "succeeded" for x in all_runs),
          f"every run succeeded: {sorted(set(x['state'] for x in all_runs))}")
    done = sorted(f for f in os.listdir(markers) if f.isdigit())
    check(sorted(done) == sorted(x["id"] for x in all_runs), f"one marker per run ({len(done)})")
    executions = {}
    with open(os.path.join(markers, "executions")) as f:
        for line in f:
            run_id, attempt = line.split()
            executions.setdefault(run_id, []).append(int(attempt))
    again = 0
    for x in all_runs:
        seen = executions.get(x["id"], [])
        attempts = int(x.get("attemptsTotal", 0))
        ok = len(seen) >= 1 and len(seen) == len(set(seen)) and attempts >= len(seen) and max(seen) <= attempts
        check(ok, f"run {x['id']}: attempts_total {attempts}, executions {seen}")
        again += len(seen) > 1
    check(again > 0, f"some runs were taken again after a kill ({again})")
    print(f"crash test: {kills} kills, {total} runs, {again} executed more than once", flush=True)
    s.stop()


class Hook(http.server.BaseHTTPRequestHandler):
    """A webhook receiver: answers 500 to the first POST, then 200; keeps the bodies."""
    bodies = []
    posts = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Hook.posts += 1
        if Hook.posts == 1:
            self.send_response(500)
        else:
            Hook.bodies.append(json.loads(body))
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_expiry_notice_webhook():
    pki = Pki()
    d = tmpdir()
    s = Clmd(d, extra=["--validation-interval", "0", "--renewal-interval", "0"])
    soon = pki.leaf("soon.example.com", days=10)
    grouped = pki.leaf("grouped.example.com", days=50)
    later = pki.leaf("later.example.com", days=50)
    ignored = pki.leaf("ignored.example.com", days=5)
    expired = pki.leaf("expired.example.com", start=("20200101000000Z", "20210101000000Z"))
    clmctl(d, "group", "create", "--auto-renew", "60", "Renew60")
    clmctl(d, "cert", "import", soon, later, expired)
    clmctl(d, "cert", "import", "--group", "Renew60", grouped)
    clmctl(d, "cert", "import", "--status", "ignored", ignored)
    check(len(ls(d)) == 5, "5 certificates imported")
    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hooks/clm"
    r = clmctl(d, "job", "run", "expiry-notice", "--params", json.dumps({"days": 30, "webhook_url": url}), "--watch")
    check(r.returncode == 0 and "succeeded" in r.stdout, f"expiry-notice run: {r.stdout}{r.stderr}")
    server.shutdown()
    check(Hook.posts == 2 and len(Hook.bodies) == 1, f"the webhook was retried after a 500 ({Hook.posts} posts)")
    names = sorted(c["common_name"] for c in Hook.bodies[0]["certificates"]) if Hook.bodies else []
    check(names == ["grouped.example.com", "soon.example.com"],
          f"within 30 days, or within the group's 60-day window; not ignored, not expired: {names}")
    check(Hook.bodies and Hook.bodies[0]["event"] == "certificates.expiring", "event name")
    log = s.output()
    check(log.count("event=certificate.expiring") == 2 and "soon.example.com" in log, "a log line per certificate")
    r = clmctl(d, "job", "run", "expiry-notice", "--params", json.dumps({"days": 30, "webhook_url": "http://127.0.0.1:1/x"}), "--watch")
    check(r.returncode != 0, "an unreachable webhook does not succeed")
    r = clmctl(d, "job", "run", "expiry-notice", "--params", '{"days": 0}', "--watch")
    check(r.returncode != 0 and "params.days" in r.stdout, f"bad params fail with the field: {r.stdout}")
    s.stop()


if __name__ == "__main__":
    run_cases([test_schedules_and_bad_input, test_crash_recovery_kill9, test_expiry_notice_webhook])
