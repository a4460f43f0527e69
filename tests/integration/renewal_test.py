"""Integration tests of the auto-renew sweep (issue 6, "Auto-renew sweep"), through the real
clmd, grpcio and clmctl, with local CA connectors (InitLocalCa).

The certificates to renew are short-lived: one hour long, 50 minutes gone, made with the
openssl CLI (`openssl ca` sets the exact dates), imported with their keys as Managed, and
pointed at a connector with `clmctl cert set --connector`. With renewal settings of 10
days (more than their lifetime), the short-lived rule (33% of the lifetime left) has
opened their window; the children the local CA issues (90 days) are not due.

One clmd: the "renewal-sweep" default schedule exists; bad params are refused naming the
field; a sweep over a group whose renewals need approval leaves a work order in review
(cert why: waiting-approval), approved and implemented -> the child is in the inventory,
linked parent->child, the certificate's own settings moved to it; a group that
auto-approves renewals gets its child without anyone; the parent's lifecycle says
renewed, push not configured; a CA that rejects (the local CA whose intermediate expires
before the profile's validity) -> failed with the reason, one failure, the next attempt
backed off, and a later sweep makes nothing for it; a per-connector limit of 2 leaves the
third certificate rate-limited, and the next sweep renews it; a sweep over everything
after that makes nothing new.
"""
import json
import os
import subprocess
import tempfile
import time

import grpc

from clm.v1 import (connectors_pb2, connectors_pb2_grpc, groups_pb2, groups_pb2_grpc, inventory_pb2,
                    inventory_pb2_grpc, jobs_pb2, jobs_pb2_grpc, workorders_pb2, workorders_pb2_grpc)
from harness import CLMD, Clmd, check, clmctl, run_cases


def read(path):
    with open(path, "rb") as f:
        return f.read()


def client(s, d, cn, role):
    r = subprocess.run([CLMD, "issue-client", "--data-dir", d, "--role", role, "--cn", cn],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    prefix = os.path.join(d, "tls", "clients", cn)
    creds = grpc.ssl_channel_credentials(root_certificates=read(os.path.join(d, "tls", "ca.pem")),
                                         private_key=read(prefix + ".key"),
                                         certificate_chain=read(prefix + ".pem"))
    return workorders_pb2_grpc.WorkOrdersStub(grpc.secure_channel(f"localhost:{s.port}", creds))


def openssl(*args, cwd=None):
    r = subprocess.run(["openssl", *args], capture_output=True, text=True, cwd=cwd)
    assert r.returncode == 0, f"openssl {args}: {r.stderr}"
    return r.stdout


class OldCa:
    """A CA outside clm that issued the certificates to renew (`openssl ca` for exact dates)."""

    def __init__(self, d):
        self.d = os.path.join(d, "oldca")
        os.makedirs(self.d)
        with open(os.path.join(self.d, "ca.cnf"), "w") as f:
            f.write("[ca]\ndefault_ca = c\n[c]\ndatabase = index.txt\nnew_certs_dir = .\n"
                    "certificate = ca.pem\nprivate_key = ca.key\nserial = serial\ndefault_md = sha256\n"
                    "policy = p\ncopy_extensions = copy\nunique_subject = no\n[p]\ncommonName = supplied\n")
        open(os.path.join(self.d, "index.txt"), "w").close()
        with open(os.path.join(self.d, "serial"), "w") as f:
            f.write("1000\n")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Old CA", "-days", "30", cwd=self.d)

    def issue(self, cn, gone_s=3000, left_s=600):
        """An EC P-256 certificate for cn: gone_s seconds old, left_s seconds to live. PEM with key."""
        fmt = "%Y%m%d%H%M%SZ"
        now = time.time()
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{cn}.key", "-out", f"{cn}.csr", "-subj", f"/CN={cn}",
                "-addext", f"subjectAltName=DNS:{cn}", cwd=self.d)
        openssl("ca", "-batch", "-config", "ca.cnf", "-in", f"{cn}.csr", "-out", f"{cn}.pem", "-notext",
                "-startdate", time.strftime(fmt, time.gmtime(now - gone_s)),
                "-enddate", time.strftime(fmt, time.gmtime(now + left_s)), cwd=self.d)
        return read(os.path.join(self.d, f"{cn}.pem")) + read(os.path.join(self.d, f"{cn}.key"))


def renewal_group(name, auto_approve, levels=1):
    return groups_pb2.CreateGroupRequest(group=groups_pb2.Group(name=name, policy=groups_pb2.GroupPolicy(
        auto_renew=groups_pb2.RenewalSetting(enabled=True, days_before_expiry=10),
        approval=groups_pb2.ApprovalPolicy(levels=levels, auto_approve_renewals=auto_approve))))


class Setup:
    def __init__(self):
        self.d = tempfile.mkdtemp(prefix="clm-renew-")
        self.s = Clmd(self.d)
        ch = grpc.insecure_channel(f"unix:{self.s.socket}")
        self.wo = workorders_pb2_grpc.WorkOrdersStub(ch)
        self.connectors = connectors_pb2_grpc.ConnectorsStub(ch)
        self.groups = groups_pb2_grpc.GroupsStub(ch)
        self.inv = inventory_pb2_grpc.InventoryStub(ch)
        self.jobs = jobs_pb2_grpc.JobsStub(ch)
        for name, days in (("lca", 0), ("tiny", 20)):
            self.connectors.CreateConnector(connectors_pb2.CreateConnectorRequest(
                connector=connectors_pb2.Connector(name=name, type="local", profile="server")))
            self.connectors.InitLocalCa(connectors_pb2.InitLocalCaRequest(name=name, create=connectors_pb2.CreateLocalCa(
                root_cn=f"{name} Root", intermediate_cn=f"{name} Issuing", intermediate_days=days)))
        self.groups.CreateGroup(renewal_group("manual", False))
        self.groups.CreateGroup(renewal_group("auto", True, levels=2))
        self.groups.CreateGroup(renewal_group("reject", True))
        self.groups.CreateGroup(renewal_group("many", True))
        self.old = OldCa(self.d)
        self.anna = client(self.s, self.d, "anna", "approver")
        self.olga = client(self.s, self.d, "olga", "operator")

    def add(self, cn, group, connector):
        r = self.inv.ImportCertificates(inventory_pb2.ImportCertificatesRequest(
            items=[inventory_pb2.ImportItem(name=cn, data=self.old.issue(cn))], group=group,
            status=inventory_pb2.CERTIFICATE_STATUS_MANAGED, import_private_keys=True))
        res = r.results[0]
        assert res.outcome == "added" and res.private_key_stored, str(r)
        r = clmctl(self.d, "cert", "set", "--connector", connector, res.sha256)
        assert r.returncode == 0, r.stderr
        return res.sha256

    def sweep(self, params=None, timeout=60):
        run = self.jobs.RunNow(jobs_pb2.RunNowRequest(kind="renewal-sweep", params=json.dumps(params or {})))
        deadline = time.time() + timeout
        while time.time() < deadline and run.state not in ("succeeded", "failed", "cancelled"):
            time.sleep(0.1)
            run = self.jobs.GetRun(jobs_pb2.GetRunRequest(id=run.id))
        return run

    def orders(self):
        return self.wo.ListWorkOrders(workorders_pb2.ListWorkOrdersRequest(page_size=1000)).work_orders

    def orders_of(self, sha):
        return [o for o in self.orders() if o.target_sha256 == sha]

    def get(self, sha):
        return self.inv.GetCertificate(inventory_pb2.GetCertificateRequest(id=sha))

    def why(self, sha):
        return self.inv.ExplainRenewal(inventory_pb2.GetCertificateRequest(id=sha))


def wait_state(stub, wo, states, timeout=30):
    deadline = time.time() + timeout
    o = stub.GetWorkOrder(workorders_pb2.GetWorkOrderRequest(id=wo))
    while time.time() < deadline and o.state not in states:
        time.sleep(0.1)
        o = stub.GetWorkOrder(workorders_pb2.GetWorkOrderRequest(id=wo))
    return o


def code_of(fn):
    try:
        fn()
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as e:
        return e.code(), e.details()


def test_sweep():
    t = Setup()

    # the default daily schedule, made at first start
    scheds = t.jobs.ListSchedules(jobs_pb2.ListSchedulesRequest()).schedules
    check(any(s.name == "renewal-sweep" and s.kind == "renewal-sweep" and s.cron == "@every 86400s" for s in scheds),
          f"default renewal-sweep schedule: {[(s.name, s.cron) for s in scheds]}")
    kinds = [k.name for k in t.jobs.ListKinds(jobs_pb2.ListKindsRequest()).kinds]
    check("renewal-sweep" in kinds, f"kind listed: {kinds}")

    # bad params are refused naming the field, and nothing runs
    for params, field in (({"limit": 0}, "params.limit"), ({"colour": "red"}, "params.colour"),
                          ({"dry_run": "yes"}, "params.dry_run"), ({"max_per_connector": 10**9}, "params.max_per_connector"),
                          ({"group": "nope"}, "params.group")):
        code, details = code_of(lambda: t.jobs.RunNow(jobs_pb2.RunNowRequest(kind="renewal-sweep", params=json.dumps(params))))
        check(code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND) and field in details,
              f"bad params {params}: {code} {details}")
    code, details = code_of(lambda: t.jobs.CreateSchedule(jobs_pb2.CreateScheduleRequest(schedule=jobs_pb2.Schedule(
        name="bad-sweep", kind="renewal-sweep", cron="@every 1h", params='{"limit": "many"}'))))
    check(code == grpc.StatusCode.INVALID_ARGUMENT and "params.limit" in details, f"bad schedule params: {code} {details}")

    manual = t.add("manual.renew.test", "manual", "lca")
    auto = t.add("auto.renew.test", "auto", "lca")
    bad = t.add("bad.renew.test", "reject", "tiny")
    many = [t.add(f"m{i}.renew.test", "many", "lca") for i in range(3)]

    # per-certificate settings: validated, shown, and they win over the group's
    r = clmctl(t.d, "cert", "set", "--auto-renew", "200", auto)
    check(r.returncode != 0 and "DAYS (1-120)" in r.stderr, f"cert set --auto-renew 200: {r.stderr}")
    code, details = code_of(lambda: t.inv.UpdateCertificate(inventory_pb2.UpdateCertificateRequest(
        id=auto, auto_renew=groups_pb2.RenewalSetting(enabled=True, days_before_expiry=121), update_mask=["auto_renew"])))
    check(code == grpc.StatusCode.INVALID_ARGUMENT and "auto_renew.days_before_expiry" in details, f"121 days: {details}")
    r = clmctl(t.d, "cert", "set", "--connector", "nope", auto)
    check(r.returncode != 0 and "connector" in r.stderr, f"cert set --connector nope: {r.stderr}")
    r = clmctl(t.d, "cert", "set", "--auto-renew", "5", "--re-enroll", "off", auto)
    check(r.returncode == 0 and '"connector": "lca"' in r.stdout and '"daysBeforeExpiry": 5' in r.stdout,
          f"cert set --auto-renew 5: {r.stdout}{r.stderr}")

    # before the sweep: cert why says due, by the lifetime rule, from the certificate's own settings
    r = clmctl(t.d, "cert", "why", auto)
    check(r.returncode == 0 and "renewal-due" in r.stdout and "33% of the lifetime" in r.stdout
          and "from the certificate settings" in r.stdout, f"cert why before: {r.stdout}{r.stderr}")
    e = t.why(manual)
    check(e.state == "renewal-due" and e.source == "group" and e.by_lifetime and e.due_at.seconds <= time.time(),
          f"manual due: {e}")

    # with approval: the work order waits in review
    run = t.sweep({"group": "manual"})
    check(run.state == "succeeded" and "1 work orders made" in run.progress_message, f"sweep manual: {run.state} {run.progress_message} {run.last_error}")
    os_ = t.orders_of(manual)
    check(len(os_) == 1 and os_[0].state == "review" and os_[0].kind == "renew" and os_[0].automatic
          and os_[0].requester == "renewal-sweep", f"renew order in review: {os_}")
    e = t.why(manual)
    check(e.state == "waiting-approval" and e.work_order == os_[0].id, f"why waiting: {e.state} {e.work_order}")
    # the last approval is enough: nobody asked for this order, so the appliance implements it
    approved = t.anna.ApproveWorkOrder(workorders_pb2.WorkOrderAction(id=os_[0].id, comment="ok"))
    check(approved.state in ("scheduled", "implementing", "completed"),
          f"an approved automatic renewal goes on by itself: {approved.state}")
    o = wait_state(t.wo, os_[0].id, ("completed", "failed"))
    check(o.state == "completed", f"manual renewal completed: {o.state} {o.failure_reason}")
    check(any(h.identity == "clmd (automatic renewal)" and h.to == "scheduled" for h in o.history),
          f"implemented by the appliance, in the history: {[(h.identity, h.to) for h in o.history]}")
    parent = t.get(manual)
    child = t.get(o.certificate_sha256) if o.certificate_sha256 else None
    check(child is not None and parent.child_sha256 == child.sha256 and child.parent_sha256 == manual,
          f"lineage parent->child: {parent.child_sha256} {child and child.parent_sha256}")
    check(child is not None and child.common_name == "manual.renew.test" and child.group == "manual"
          and child.not_after.seconds - child.not_before.seconds > 80 * 86400, "the child: names, group, 90 days")

    # without approval: the group auto-approves automatic renewals
    run = t.sweep({"group": "auto"})
    check(run.state == "succeeded" and "1 work orders made" in run.progress_message, f"sweep auto: {run.progress_message} {run.last_error}")
    os_ = t.orders_of(auto)
    o = wait_state(t.wo, os_[0].id, ("completed", "failed")) if os_ else None
    check(o is not None and o.state == "completed" and len(o.approvals) == 0, f"auto renewal completed: {o}")
    parent, child = t.get(auto), t.get(o.certificate_sha256)
    check(parent.child_sha256 == child.sha256 and child.parent_sha256 == auto, "auto lineage")
    # the transfer rule: enabled settings move to the child, disabled on the parent
    check(child.auto_renew.enabled and child.auto_renew.days_before_expiry == 5 and not parent.auto_renew.enabled,
          f"auto_renew moved: parent {parent.auto_renew} child {child.auto_renew}")
    check(not child.re_enroll.enabled, "a disabled setting is not transferred")
    r = clmctl(t.d, "cert", "why", auto)
    check(r.returncode == 0 and "renewed" in r.stdout and child.sha256 in r.stdout and "push: not configured" in r.stdout,
          f"cert why renewed: {r.stdout}{r.stderr}")
    e = t.why(child.sha256)
    check(e.state == "monitoring" and e.source == "certificate" and e.window_opens.seconds > time.time() + 80 * 86400,
          f"child monitoring with the moved settings: {e}")

    # a CA that rejects: failed with the reason, a backoff and the next attempt
    run = t.sweep({"group": "reject"})
    os_ = t.orders_of(bad)
    o = wait_state(t.wo, os_[0].id, ("completed", "failed")) if os_ else None
    check(o is not None and o.state == "failed" and "outlive the issuing CA" in o.failure_reason, f"rejected: {o}")
    run = t.sweep({"group": "reject"})
    check(run.state == "succeeded" and "0 work orders made" in run.progress_message, f"backing off: {run.progress_message}")
    e = t.why(bad)
    check(e.state == "failed" and "outlive the issuing CA" in e.last_failure and e.failures == 1
          and e.next_attempt.seconds > time.time() + 200 and e.next_attempt.seconds < time.time() + 400,
          f"failed, backoff 5 minutes: {e}")
    r = clmctl(t.d, "cert", "why", bad)
    check(r.returncode == 0 and "failed" in r.stdout and "last failure" in r.stdout and "1 consecutive" in r.stdout
          and "next attempt" in r.stdout and "backing off after 1 failure" in r.stdout, f"cert why failed: {r.stdout}{r.stderr}")
    check(len(t.orders_of(bad)) == 1, "no second order while backing off")

    # a CA that cannot be reached: the order stays enrolling while its job run retries,
    # with the reason and the time of the next attempt on the run (the scheduler's backoff)
    t.connectors.CreateConnector(connectors_pb2.CreateConnectorRequest(connector=connectors_pb2.Connector(
        name="down", type="cfssl", fields=[connectors_pb2.Field(name="url", value="http://127.0.0.1:25999")])))
    t.groups.CreateGroup(renewal_group("down", True))
    gone = t.add("gone.renew.test", "down", "down")
    run = t.sweep({"group": "down"})
    os_ = t.orders_of(gone)
    check(run.state == "succeeded" and len(os_) == 1, f"sweep down: {run.progress_message} {os_}")
    job = None
    deadline = time.time() + 30
    while os_ and time.time() < deadline:
        runs = [r for r in t.jobs.ListRuns(jobs_pb2.ListRunsRequest(kind="work-order", page_size=1000)).runs
                if json.loads(r.params or "{}").get("work_order") == int(os_[0].id.split("-")[1])]
        job = runs[0] if runs else None
        # waiting for its next attempt (not caught while an attempt runs: the fresh-machine
        # run once saw attempt 2 running)
        if job is not None and job.attempt >= 1 and "unreachable" in job.last_error and job.state == "queued":
            break
        time.sleep(0.2)
    check(job is not None and job.state == "queued" and "the CA is unreachable" in job.last_error
          and job.next_attempt_at.seconds > time.time() + 2, f"unreachable: retried later: {job}")
    o = t.wo.GetWorkOrder(workorders_pb2.GetWorkOrderRequest(id=os_[0].id)) if os_ else None
    check(o is not None and o.state == "implementing", f"the order waits for the CA: {o and o.state}")
    e = t.why(gone)
    check(e.state == "enrolling" and e.work_order == (os_[0].id if os_ else ""), f"why enrolling: {e.state} {e.work_order}")

    # the connector's limit per sweep leaves one for later
    run = t.sweep({"group": "many", "max_per_connector": 2})
    check(run.state == "succeeded" and "2 work orders made, 1 rate limited" in run.progress_message,
          f"rate limit: {run.progress_message} {run.last_error}")
    limited = [s for s in many if not t.orders_of(s)]
    check(len(limited) == 1, f"one left: {limited}")
    if limited:
        e = t.why(limited[0])
        check(e.state == "rate-limited" and e.rate_limited, f"why rate limited: {e.state}")
    # the connector's own limit (max_renewals_per_sweep), when the run sets none
    code, details = code_of(lambda: t.connectors.CreateConnector(connectors_pb2.CreateConnectorRequest(
        connector=connectors_pb2.Connector(name="lca2", type="local", max_renewals_per_sweep=100001))))
    check(code == grpc.StatusCode.INVALID_ARGUMENT and "connector.max_renewals_per_sweep" in details,
          f"limit out of range: {code} {details}")
    r = clmctl(t.d, "connector", "create", "--profile", "server", "--max-renewals-per-sweep", "1", "lca2")
    check(r.returncode == 0 and '"maxRenewalsPerSweep": 1' in r.stdout, f"connector with a limit: {r.stdout}{r.stderr}")
    t.connectors.InitLocalCa(connectors_pb2.InitLocalCaRequest(name="lca2", create=connectors_pb2.CreateLocalCa(
        root_cn="lca2 Root", intermediate_cn="lca2 Issuing")))
    t.groups.CreateGroup(renewal_group("few", True))
    few = [t.add(f"f{i}.renew.test", "few", "lca2") for i in range(2)]
    run = t.sweep({"group": "few"})
    check(run.state == "succeeded" and "1 work orders made, 1 rate limited" in run.progress_message,
          f"the connector's limit: {run.progress_message} {run.last_error}")
    for s in few:
        for o in t.orders_of(s):
            wait_state(t.wo, o.id, ("completed", "failed"))
    n = len(t.orders())

    # a sweep over everything: only the ones left (one each); then nothing new
    run = t.sweep()
    check(run.state == "succeeded" and "2 work orders made" in run.progress_message, f"everything: {run.progress_message} {run.last_error}")
    check(len(t.orders()) == n + 2, f"two orders more: {len(t.orders())} vs {n}")
    if limited:
        os_ = t.orders_of(limited[0])
        o = wait_state(t.wo, os_[0].id, ("completed", "failed")) if os_ else None
        check(o is not None and o.state == "completed", f"the rate-limited one renewed: {o and o.state}")
    for s in many:
        os_ = t.orders_of(s)
        if os_:
            wait_state(t.wo, os_[0].id, ("completed", "failed"))
    n = len(t.orders())
    run = t.sweep()
    check(run.state == "succeeded" and "0 work orders made" in run.progress_message and len(t.orders()) == n,
          f"second sweep makes nothing: {run.progress_message} {len(t.orders())} vs {n}")
    # the CA Details toggles at enrollment stay with the certificate issued
    t.groups.CreateGroup(groups_pb2.CreateGroupRequest(group=groups_pb2.Group(
        name="fast", policy=groups_pb2.GroupPolicy(approval=groups_pb2.ApprovalPolicy(levels=0)))))
    r = clmctl(t.d, "enroll", "--connector", "lca", "--group", "fast", "--cn", "new.renew.test",
               "--san", "new.renew.test", "--auto-renew", "0")
    check(r.returncode != 0 and "request.auto_renew.days_before_expiry" in r.stderr, f"enroll --auto-renew 0: {r.stderr}")
    r = clmctl(t.d, "enroll", "--connector", "lca", "--group", "fast", "--cn", "new.renew.test",
               "--san", "new.renew.test", "--auto-regenerate", "20")
    check(r.returncode == 0 and '"state": "approved"' in r.stdout, f"enroll --auto-regenerate 20: {r.stdout}{r.stderr}")
    if r.returncode == 0:
        wo = json.loads(r.stdout)["id"]
        t.wo.ImplementWorkOrder(workorders_pb2.ImplementWorkOrderRequest(id=wo))
        o = wait_state(t.wo, wo, ("completed", "failed"))
        c = t.get(o.certificate_sha256)
        check(c.auto_regenerate.enabled and c.auto_regenerate.days_before_expiry == 20 and not c.auto_renew.enabled,
              f"settings from the enrollment: {c.auto_regenerate} {c.auto_renew}")
        e = t.why(c.sha256)
        check(e.action == "regenerate" and e.source == "certificate" and e.state == "monitoring"
              and e.connector == "lca" and e.days == 20, f"why of the enrolled one: {e}")
    n = len(t.orders())

    # dry run: decides, writes nothing
    run = t.sweep({"dry_run": True})
    check(run.state == "succeeded" and "(dry run)" in run.progress_message and len(t.orders()) == n,
          f"dry run: {run.progress_message}")


if __name__ == "__main__":
    run_cases([test_sweep])
