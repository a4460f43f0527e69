"""Integration tests of work orders (issue 6, the approval workflow), through the real clmd,
grpcio over mutual TLS with client certificates of several identities and roles, clmctl
and the openssl CLI, with a local CA connector (InitLocalCa):

an operator enrolls; approver A approves level 1; A approving level 2 is refused; the
requester approving is refused; approver B approves level 2; implement now -> completed,
the certificate is in the inventory and verifies under the local CA chain with the
requested names; implement scheduled 3 s later completes after that time, not before;
reject with a comment; cancel; a revoke work order puts the serial on the CRL; watch sees
every transition; an unknown CA field is refused and nothing stored; the audit log holds
each transition; the challenge password reaches neither a reply nor the log.
"""
import json
import os
import subprocess
import tempfile
import threading
import time

import grpc
from google.protobuf import timestamp_pb2

from clm.v1 import (admin_pb2, admin_pb2_grpc, connectors_pb2, connectors_pb2_grpc, groups_pb2,
                    groups_pb2_grpc, inventory_pb2, inventory_pb2_grpc, workorders_pb2,
                    workorders_pb2_grpc)
from harness import CLMD, Clmd, check, clmctl, run_cases

PASSWORD = "Sup3r-Secret!"


def read(path):
    with open(path, "rb") as f:
        return f.read()


def client(s, d, cn, role):
    r = subprocess.run([CLMD, "issue-client", "--data-dir", d, "--role", role, "--cn", cn],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    prefix = os.path.join(d, "tls", "clients", cn)
    ca = os.path.join(d, "tls", "ca.pem")
    creds = grpc.ssl_channel_credentials(root_certificates=read(ca), private_key=read(prefix + ".key"),
                                         certificate_chain=read(prefix + ".pem"))
    return workorders_pb2_grpc.WorkOrdersStub(grpc.secure_channel(f"localhost:{s.port}", creds))


def code_of(fn):
    try:
        fn()
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as e:
        return e.code(), e.details()


def enroll_request(cn, **extra):
    return workorders_pb2.EnrollmentRequest(
        csr=workorders_pb2.CsrParameters(common_name=cn, sans=[cn, "alt." + cn], country="US",
                                         challenge_password=PASSWORD, key_type="RSA", key_bits=2048),
        fields=[connectors_pb2.Field(name="profile", value="server")],
        validity=30, validity_unit="days",
        attachments=[workorders_pb2.Attachment(name="change.txt", comments="CAB approved", data=b"CHG-7")],
        attributes=[inventory_pb2.Attribute(key="cost-center", value="4711")],
        device_name="web01", application_ip="192.0.2.10", tracking_id="CHG-7", **extra)


def wait_state(stub, wo, states, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        o = stub.GetWorkOrder(workorders_pb2.GetWorkOrderRequest(id=wo))
        if o.state in states:
            return o
        time.sleep(0.1)
    return stub.GetWorkOrder(workorders_pb2.GetWorkOrderRequest(id=wo))


def openssl(*args, input=None):
    return subprocess.run(["openssl", *args], capture_output=True, text=True, input=input)


class Setup:
    def __init__(self):
        self.d = tempfile.mkdtemp(prefix="clm-wo-")
        self.s = Clmd(self.d)
        ch = grpc.insecure_channel(f"unix:{self.s.socket}")
        self.admin = workorders_pb2_grpc.WorkOrdersStub(ch)
        self.connectors = connectors_pb2_grpc.ConnectorsStub(ch)
        self.groups = groups_pb2_grpc.GroupsStub(ch)
        self.inv = inventory_pb2_grpc.InventoryStub(ch)
        self.audit = admin_pb2_grpc.AdminStub(ch)
        self.connectors.CreateConnector(connectors_pb2.CreateConnectorRequest(
            connector=connectors_pb2.Connector(name="lca", type="local", profile="server")))
        c = self.connectors.InitLocalCa(connectors_pb2.InitLocalCaRequest(
            name="lca", create=connectors_pb2.CreateLocalCa(root_cn="WO Test Root", intermediate_cn="WO Test Issuing")))
        self.chain = c.ca_chain_pem
        self.groups.CreateGroup(groups_pb2.CreateGroupRequest(group=groups_pb2.Group(
            name="fast", policy=groups_pb2.GroupPolicy(approval=groups_pb2.ApprovalPolicy(levels=0)))))
        self.olga = client(self.s, self.d, "olga", "operator")
        self.anna = client(self.s, self.d, "anna", "approver")
        self.bert = client(self.s, self.d, "bert", "approver")

    def count(self):
        return len(self.admin.ListWorkOrders(workorders_pb2.ListWorkOrdersRequest(page_size=1000)).work_orders)


def verify(setup, sha256, cn):
    cert = setup.inv.GetCertificate(inventory_pb2.GetCertificateRequest(id=sha256))
    d = setup.d
    with open(os.path.join(d, "chain.pem"), "w") as f:
        f.write(setup.chain)
    with open(os.path.join(d, "leaf.pem"), "w") as f:
        f.write(cert.pem)
    parts = setup.chain.split("-----END CERTIFICATE-----")
    root = parts[-2] + "-----END CERTIFICATE-----\n"
    with open(os.path.join(d, "root.pem"), "w") as f:
        f.write(root.lstrip())
    r = openssl("verify", "-CAfile", os.path.join(d, "root.pem"), "-untrusted", os.path.join(d, "chain.pem"),
                os.path.join(d, "leaf.pem"))
    check(r.returncode == 0, f"the certificate verifies under the local CA chain: {r.stdout}{r.stderr}")
    text = openssl("x509", "-in", os.path.join(d, "leaf.pem"), "-noout", "-text").stdout
    check(f"DNS:{cn}" in text and f"DNS:alt.{cn}" in text and f"CN = {cn}" in text and "C = US" in text,
          f"requested names in the certificate: {text[:1500]}")
    check("Public-Key: (2048 bit)" in text, "an RSA 2048 key as requested")
    return cert


def test_two_levels_and_implement_now():
    t = Setup()
    o = t.olga.CreateWorkOrder(workorders_pb2.CreateWorkOrderRequest(
        connector="lca", request=enroll_request("www.wo.test"), submit=True, comment="new web farm"))
    wo = o.id
    check(wo == "WO-000001" and o.request_id == "REQ-000001", f"ids: {o.id} {o.request_id}")
    check(o.state == "review" and o.review_level == 1 and o.levels == 2, f"in review level 1: {o.state} {o.review_level}")
    check(o.requester.find("olga") >= 0, f"requester from the client certificate: {o.requester}")
    check(o.request.csr.challenge_password == "" and PASSWORD not in str(o), "no password in the reply")
    check(o.request.attachments[0].size == 5, "attachment size shown")

    events = []
    def watch():
        for ev in t.admin.WatchWorkOrder(workorders_pb2.GetWorkOrderRequest(id=wo), timeout=60):
            events.append((getattr(ev.transition, "from"), ev.transition.to))
    th = threading.Thread(target=watch)
    th.start()

    code, msg = code_of(lambda: t.olga.ApproveWorkOrder(workorders_pb2.WorkOrderAction(id=wo)))
    check(code == grpc.StatusCode.PERMISSION_DENIED, f"the requester (an operator) cannot approve: {code}")
    o = t.anna.ApproveWorkOrder(workorders_pb2.WorkOrderAction(id=wo, comment="looks right"))
    check(o.state == "review" and o.review_level == 2, f"A approved level 1: {o.state} {o.review_level}")
    code, msg = code_of(lambda: t.anna.ApproveWorkOrder(workorders_pb2.WorkOrderAction(id=wo, comment="again")))
    check(code == grpc.StatusCode.PERMISSION_DENIED and "one level" in msg, f"A cannot approve level 2: {code} {msg}")
    code, msg = code_of(lambda: t.olga.ImplementWorkOrder(workorders_pb2.ImplementWorkOrderRequest(id=wo)))
    check(code == grpc.StatusCode.FAILED_PRECONDITION and "review" in msg, f"implement before approval: {code} {msg}")
    o = t.admin.GetWorkOrder(workorders_pb2.GetWorkOrderRequest(id=wo))
    check(o.review_level == 2 and len(o.approvals) == 1, "refused calls changed nothing")
    o = t.bert.ApproveWorkOrder(workorders_pb2.WorkOrderAction(id=wo, comment="ok"))
    check(o.state == "approved" and [a.level for a in o.approvals] == [1, 2], f"B approved level 2: {o.state}")
    o = t.olga.ImplementWorkOrder(workorders_pb2.ImplementWorkOrderRequest(id=wo, comment="now"))
    check(o.state in ("scheduled", "implementing", "completed"), f"implement now: {o.state}")
    o = wait_state(t.admin, wo, ("completed", "failed"))
    check(o.state == "completed" and o.certificate_sha256 and o.certificate_serial,
          f"completed: {o.state} {o.failure_reason}")
    th.join(30)
    want = [("", "draft"), ("draft", "submitted"), ("submitted", "review"), ("review", "review"),
            ("review", "approved"), ("approved", "scheduled"), ("scheduled", "implementing"),
            ("implementing", "completed")]
    check(events == want, f"watch saw every transition: {events}")
    cert = verify(t, o.certificate_sha256, "www.wo.test")
    check(cert.status == inventory_pb2.CERTIFICATE_STATUS_MANAGED, f"managed: {cert.status}")
    check(cert.device_name == "web01" and cert.application_ip == "192.0.2.10" and cert.tracking_id == "CHG-7"
          and [(a.key, a.value) for a in cert.attributes] == [("cost-center", "4711")],
          f"attributes and generic fields from the request: {cert}")

    # four eyes for an admin too: the admin who made an order cannot approve it
    a = t.admin.CreateWorkOrder(workorders_pb2.CreateWorkOrderRequest(
        connector="lca", request=enroll_request("admin.wo.test"), submit=True))
    code, msg = code_of(lambda: t.admin.ApproveWorkOrder(workorders_pb2.WorkOrderAction(id=a.id)))
    check(code == grpc.StatusCode.PERMISSION_DENIED and "four eyes" in msg, f"requester approving: {code} {msg}")

    # the audit log holds each transition
    entries = t.audit.ListAuditEntries(admin_pb2.ListAuditEntriesRequest(page_size=1000)).entries
    mine = [(e.method, e.outcome) for e in entries if e.target == wo]
    check(any(m.endswith("/CreateWorkOrder") and "review" in out for m, out in mine), f"create audited: {mine}")
    check(sum(1 for m, out in mine if m.endswith("/ApproveWorkOrder") and out.startswith("ok")) == 2,
          f"two approvals audited: {mine}")
    check(any(m.endswith("/ImplementWorkOrder") for m, _ in mine), "implement audited")
    check(any(m == "job:work-order" and "implementing -> completed" in out for m, out in mine),
          f"the job's transitions audited: {mine}")
    t.s.stop()
    check(PASSWORD not in t.s.output(), "no password in the log")


def test_scheduled_reject_cancel_revoke():
    t = Setup()
    o = t.olga.CreateWorkOrder(workorders_pb2.CreateWorkOrderRequest(
        connector="lca", group="fast", request=enroll_request("later.wo.test"), submit=True))
    check(o.state == "approved" and o.levels == 0, f"a group without review: approved at once: {o.state}")
    at = time.time() + 3
    ts = timestamp_pb2.Timestamp(seconds=int(at), nanos=int((at % 1) * 1e9))
    o = t.olga.ImplementWorkOrder(workorders_pb2.ImplementWorkOrderRequest(id=o.id, at=ts))
    check(o.state == "scheduled" and o.implement_at.seconds == int(at), f"scheduled: {o.state}")
    time.sleep(1.5)
    check(t.admin.GetWorkOrder(workorders_pb2.GetWorkOrderRequest(id=o.id)).state == "scheduled",
          "not implemented before its time")
    o = wait_state(t.admin, o.id, ("completed", "failed"))
    done = [h for h in o.history if h.to == "completed"]
    check(o.state == "completed" and done and done[0].time.seconds + done[0].time.nanos / 1e9 >= at - 0.01,
          f"completed after its time: {o.state} {o.failure_reason}")
    first = o

    # reject: a comment is required
    r = t.olga.CreateWorkOrder(workorders_pb2.CreateWorkOrderRequest(
        connector="lca", request=enroll_request("no.wo.test"), submit=True))
    code, msg = code_of(lambda: t.anna.RejectWorkOrder(workorders_pb2.WorkOrderAction(id=r.id)))
    check(code == grpc.StatusCode.INVALID_ARGUMENT and "comment" in msg, f"reject without comment: {code} {msg}")
    r = t.anna.RejectWorkOrder(workorders_pb2.WorkOrderAction(id=r.id, comment="wrong domain"))
    check(r.state == "rejected" and r.history[-1].comment == "wrong domain", f"rejected: {r.state}")
    code, msg = code_of(lambda: t.bert.ApproveWorkOrder(workorders_pb2.WorkOrderAction(id=r.id)))
    check(code == grpc.StatusCode.FAILED_PRECONDITION and "rejected" in msg, f"approve a rejected order: {code} {msg}")

    # cancel: the requester may, an approver may not
    c = t.olga.CreateWorkOrder(workorders_pb2.CreateWorkOrderRequest(
        connector="lca", request=enroll_request("gone.wo.test")))
    check(c.state == "draft", f"a draft: {c.state}")
    code, _ = code_of(lambda: t.anna.CancelWorkOrder(workorders_pb2.WorkOrderAction(id=c.id)))
    check(code == grpc.StatusCode.PERMISSION_DENIED, f"an approver cannot cancel: {code}")
    c = t.olga.CancelWorkOrder(workorders_pb2.WorkOrderAction(id=c.id, comment="not needed"))
    check(c.state == "cancelled", f"cancelled: {c.state}")

    # an unknown CA field: refused, nothing stored
    n = t.count()
    bad = enroll_request("bad.wo.test")
    bad.fields.append(connectors_pb2.Field(name="colour", value="red"))
    code, msg = code_of(lambda: t.olga.CreateWorkOrder(workorders_pb2.CreateWorkOrderRequest(
        connector="lca", request=bad, submit=True)))
    check(code == grpc.StatusCode.INVALID_ARGUMENT and "request.fields.colour" in msg, f"unknown CA field: {code} {msg}")
    bad = enroll_request("bad.wo.test")
    bad.csr.country = "usa"
    code, msg = code_of(lambda: t.olga.CreateWorkOrder(workorders_pb2.CreateWorkOrderRequest(
        connector="lca", request=bad, submit=True)))
    check(code == grpc.StatusCode.INVALID_ARGUMENT and "request.csr.country" in msg, f"bad country: {code} {msg}")
    check(t.count() == n, "nothing stored for refused requests")

    # revoke: the serial goes on the CRL and the inventory marks the certificate revoked
    v = t.olga.CreateWorkOrder(workorders_pb2.CreateWorkOrderRequest(
        kind="revoke", group="fast", target_sha256=first.certificate_sha256, revoke_reason="keyCompromise",
        submit=True))
    check(v.state == "approved" and v.connector == "lca", f"revoke order: {v.state} {v.connector}")
    t.olga.ImplementWorkOrder(workorders_pb2.ImplementWorkOrderRequest(id=v.id))
    v = wait_state(t.admin, v.id, ("completed", "failed"))
    check(v.state == "completed", f"revoked: {v.state} {v.failure_reason}")
    crl = t.connectors.GetCrl(connectors_pb2.GetCrlRequest(name="lca")).crl.decode()
    text = openssl("crl", "-noout", "-text", input=crl).stdout
    check(first.certificate_serial.upper().lstrip("0") in text.replace(":", "").upper(),
          f"the CRL lists the serial {first.certificate_serial}: {text[:800]}")
    cert = t.inv.GetCertificate(inventory_pb2.GetCertificateRequest(id=first.certificate_sha256))
    check(cert.status == inventory_pb2.CERTIFICATE_STATUS_REVOKED, f"inventory status revoked: {cert.status}")

    # listing with filters
    lst = t.admin.ListWorkOrders(workorders_pb2.ListWorkOrdersRequest(state="completed")).work_orders
    check(sorted(x.id for x in lst) == sorted([first.id, v.id]), f"list by state: {[x.id for x in lst]}")
    lst = t.admin.ListWorkOrders(workorders_pb2.ListWorkOrdersRequest(kind="revoke")).work_orders
    check([x.id for x in lst] == [v.id], "list by kind")

    # clmctl: list and show
    r = clmctl(t.d, "wo", "ls", "--state", "completed")
    check(r.returncode == 0 and first.id in r.stdout and v.id in r.stdout, f"clmctl wo ls: {r.stdout}{r.stderr}")
    r = clmctl(t.d, "wo", "show", first.id)
    check(r.returncode == 0 and "completed" in r.stdout and PASSWORD not in r.stdout, f"clmctl wo show: {r.stdout}{r.stderr}")

    # clmctl enroll: a flag per field; the password from a file
    pw = os.path.join(t.d, "challenge.txt")
    with open(pw, "w") as f:
        f.write(PASSWORD + "\n")
    r = clmctl(t.d, "enroll", "--connector", "lca", "--group", "fast", "--cn", "cli.wo.test", "--san", "cli.wo.test",
               "--country", "US", "--challenge-password-file", pw, "--key-type", "EC", "--key-bits", "384",
               "--field", "profile=server", "--attribute", "team=web", "--device-name", "web02",
               "--validity", "2", "--validity-unit", "months", "--comment", "from the CLI")
    check(r.returncode == 0 and '"state": "approved"' in r.stdout and PASSWORD not in r.stdout,
          f"clmctl enroll: {r.stdout}{r.stderr}")
    cli = json.loads(r.stdout)["id"] if r.returncode == 0 else "WO-0"
    r = clmctl(t.d, "wo", "implement", cli, "--at", "+1s", "--comment", "soon")
    check(r.returncode == 0 and '"state": "scheduled"' in r.stdout, f"clmctl wo implement --at: {r.stdout}{r.stderr}")
    r = clmctl(t.d, "wo", "watch", cli)
    check(r.returncode == 0 and "scheduled -> implementing" in r.stdout and "implementing -> completed" in r.stdout,
          f"clmctl wo watch: {r.stdout}{r.stderr}")
    # --from: the EnrollmentRequest as proto3 JSON; its errors name the field
    js = os.path.join(t.d, "request.json")
    with open(js, "w") as f:
        json.dump({"csr": {"commonName": "json.wo.test", "country": "USA"}}, f)
    r = clmctl(t.d, "enroll", "--connector", "lca", "--from", js)
    check(r.returncode != 0 and "request.csr.country" in r.stderr, f"enroll --from, bad country: {r.stderr}")
    with open(js, "w") as f:
        json.dump({"csr": {"commonName": "json.wo.test"}, "colour": "red"}, f)
    r = clmctl(t.d, "enroll", "--connector", "lca", "--from", js)
    check(r.returncode != 0 and "colour" in r.stderr, f"enroll --from, unknown field: {r.stderr}")
    with open(js, "w") as f:
        json.dump({"csr": {"commonName": "json.wo.test", "sans": ["json.wo.test"]}, "deviceName": "web03"}, f)
    r = clmctl(t.d, "enroll", "--connector", "lca", "--from", js, "--draft")
    check(r.returncode == 0 and '"state": "draft"' in r.stdout and "web03" in r.stdout, f"enroll --from: {r.stdout}{r.stderr}")
    r = clmctl(t.d, "wo", "reject", cli)
    check(r.returncode != 0 and "FAILED_PRECONDITION" in r.stderr, f"clmctl reject of a completed order: {r.stderr}")


if __name__ == "__main__":
    run_cases([test_two_levels_and_implement_now, test_scheduled_reject_cancel_revoke])
