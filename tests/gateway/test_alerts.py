#!/usr/bin/python3
"""Depletion alerts by webhook, over loopback (gateway/alerts.h,
webhooks.h, handlers_alerts.c).

A gateway on a temporary SQLite file with --webhook-allow 127.0.0.1/32,
and webhook receivers (http.server) on loopback in this process. Each test
uses a tenant of its own whose treasury holds only known flows (one USDC
account, one settled transfer, pending ones), so the flow model falls back
to the rule's exact path and a currency's P(below the floor within 48 h)
is exactly 0 or 1: the tests know when an alert must fire.

Checked: every bad settings and webhook input gets a 400 naming it and
stores nothing; private, loopback and link-local targets are refused
(without the allow flag, 127.0.0.1 too); a scheduled outflow that breaks
the floor within 48 h delivers exactly one depletion.alert whose
Floatcast-Signature verifies; the same episode never sends twice; a
recovery closes the episode and the next breach sends a new alert; a
receiver down for a while gets the alert once it is up (failed attempts
logged); an alert committed before a kill -9 is delivered after the
restart, and the restart does not open a second episode; tenants see only
their own webhooks and alerts. Nothing waits for a fixed time: deliveries
and background jobs are polled with deadlines of minutes.

Usage: test_alerts.py --gateway PATH [unittest args]. Stdlib only.
"""
import argparse
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_metered as tm  # noqa: E402
from test_metered import G, admin, call, make_key, make_tier, wait_for  # noqa: E402

ALLOW = ["--webhook-allow", "127.0.0.1/32"]
NOW = "2025-12-01T12:00:00Z"  # the hour after each test tenant's newest transfer


class Receiver:
    """A webhook receiver on 127.0.0.1: records (headers, raw body) of every
    POST and answers `status`. stop() closes the port (connections are
    then refused); start() binds the same port again."""

    def __init__(self, status=200):
        self.status = status
        self.got = []
        self.lock = threading.Lock()
        self.port = 0
        self.server = None

    def start(self):
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with rec.lock:
                    rec.got.append((dict(self.headers), body))
                self.send_response(rec.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def url(self):
        return "http://127.0.0.1:%d/hooks/floatcast?x=1" % self.port

    def received(self):
        with self.lock:
            return list(self.got)


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-alerts-")
    G["db"] = os.path.join(G["tmp"], "gw.db")
    G["proc"], G["port"], _ = tm.spawn(G["db"], ALLOW)
    make_tier("wide", 100000, 100000)
    G["n"] = 0


def tearDownModule():
    tm.tearDownModule()


def tenant_key(port=None):
    """A new tenant and a key for it."""
    G["n"] += 1
    name = "al%d" % G["n"]
    r, doc = call("POST", "/v1/admin/tenants", tm.ADMIN, {"id": name, "name": name}, port=port)
    assert r.status == 201, doc
    r, doc = call("POST", "/v1/admin/keys", tm.ADMIN, {"tenant_id": name, "tier": "wide"}, port=port)
    assert r.status == 201, doc
    return name, doc["key"]


def transfer(tenant, tid, amount, scheduled_for=None, inflow=False, status="pending"):
    row = {"tenant_id": tenant, "id": tid, "currency": "USDC", "amount": amount, "status": status,
           "created_at": "2025-12-01T11:30:00Z",
           "from_account_id": "ext" if inflow else "usdc-main",
           "to_account_id": "usdc-main" if inflow else "ext"}
    if scheduled_for:
        row["scheduled_for"] = scheduled_for
    return row


def wait_job(key, job, port=None):
    """Until registry job `job` of the key's tenant has finished; its result."""
    last = {}

    def done():
        r, doc = call("GET", "/v1/models", key, port=port)
        assert r.status == 200, doc
        last.clear()
        last.update(doc["retraining"]["last"] or {})
        return last.get("job_id", 0) >= job
    wait_for("retraining job %d" % job, done)
    return last


def ingest(key, kind, rows, port=None):
    r, doc = call("POST", "/v1/" + kind, key, rows, port=port)
    assert r.status == 200, doc
    return doc


def seed_treasury(tenant, key, balance="100000.000000", port=None):
    """One USDC account and one settled transfer (so `now` is NOW)."""
    ingest(key, "accounts", [{"tenant_id": tenant, "id": "usdc-main", "currency": "USDC",
                              "balance_available": balance}], port=port)
    doc = ingest(key, "transfers", [transfer(tenant, "settled-1", "10.000000", status="completed",
                                             inflow=True)], port=port)
    wait_job(key, doc["retrain_job"], port=port)


def settings(key, floors=None, p=0.3, h=48, port=None):
    r, doc = call("PUT", "/v1/treasury/settings", key,
                  {"floors": floors or {"USDC": "25000"}, "alert_probability": p,
                   "alert_horizon_hours": h}, port=port)
    assert r.status == 200, doc
    return doc


def webhook(key, url, events=("depletion.alert",), port=None):
    r, doc = call("POST", "/v1/webhooks", key, {"url": url, "events": list(events)}, port=port)
    assert r.status == 201, doc
    return doc


def verify(test, secret, headers, body):
    """Floatcast-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>."""
    m = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", headers["Floatcast-Signature"])
    test.assertIsNotNone(m, headers["Floatcast-Signature"])
    want = hmac.new(secret.encode(), m.group(1).encode() + b"." + body, hashlib.sha256).hexdigest()
    test.assertTrue(hmac.compare_digest(want, m.group(2)), "signature does not verify")
    wrong = hmac.new(b"another secret", m.group(1).encode() + b"." + body, hashlib.sha256).hexdigest()
    test.assertNotEqual(wrong, m.group(2))


def alerts(key, port=None):
    r, doc = call("GET", "/v1/alerts", key, port=port)
    assert r.status == 200, doc
    return doc["alerts"]


def deliveries(key, wid, port=None):
    r, doc = call("GET", "/v1/webhooks/%s/deliveries" % wid, key, port=port)
    assert r.status == 200, doc
    return doc


class BadInput(unittest.TestCase):
    def test_settings_every_bad_kind_is_a_400_and_stores_nothing(self):
        _, key = tenant_key()
        r, doc = call("GET", "/v1/treasury/settings", key)
        self.assertEqual(r.status, 404, doc)
        good = {"floors": {"USDC": "25000.00"}, "alert_probability": 0.3, "alert_horizon_hours": 48}
        cases = [("{not json", "invalid_json"), ("[1]", "invalid_json"),
                 (dict(good, extra=1), "unknown_field"),
                 ({"alert_probability": 0.3}, "invalid_field"),                      # floors missing
                 (dict(good, floors=["USDC"]), "invalid_field"),
                 (dict(good, floors={"ZZZ": "1.00"}), "invalid_field"),              # unknown currency
                 (dict(good, floors={"usdc": "1.00"}), "invalid_field"),
                 (dict(good, floors={"USDC": 25000}), "invalid_field"),              # a number, not money
                 (dict(good, floors={"USDC": "-1.00"}), "invalid_field"),            # negative
                 (dict(good, floors={"USD": "1.001"}), "invalid_field"),             # beyond the scale
                 (dict(good, floors={"USD": "1e3"}), "invalid_field"),
                 (dict(good, floors={"USD": ""}), "invalid_field"),
                 (dict(good, alert_probability=0), "invalid_field"),
                 (dict(good, alert_probability=1), "invalid_field"),
                 (dict(good, alert_probability=1.5), "invalid_field"),
                 (dict(good, alert_probability=-0.1), "invalid_field"),
                 (dict(good, alert_probability="0.3"), "invalid_field"),
                 (dict(good, alert_horizon_hours=0), "invalid_field"),
                 (dict(good, alert_horizon_hours=97), "invalid_field"),
                 (dict(good, alert_horizon_hours=4.5), "invalid_field"),
                 (dict(good, alert_horizon_hours="48"), "invalid_field")]
        for body, code in cases:
            r, doc = call("PUT", "/v1/treasury/settings", key, body)
            self.assertEqual(r.status, 400, (body, doc))
            self.assertEqual(doc["error"]["code"], code, (body, doc))
            self.assertTrue(doc["error"]["message"], body)
        r, doc = call("GET", "/v1/treasury/settings", key)
        self.assertEqual(r.status, 404, doc)  # nothing was stored
        doc = settings(key, {"USDC": "25000", "USD": "100.5"}, 0.25, 30)
        self.assertEqual(doc["floors"], {"USDC": "25000.000000", "USD": "100.50"})
        r, bad = call("PUT", "/v1/treasury/settings", key, dict(good, alert_horizon_hours=0))
        self.assertEqual(r.status, 400, bad)
        r, got = call("GET", "/v1/treasury/settings", key)
        self.assertEqual(r.status, 200, got)
        self.assertEqual(got["floors"], {"USDC": "25000.000000", "USD": "100.50"})
        self.assertEqual(got["alert_probability"], 0.25)
        self.assertEqual(got["alert_horizon_hours"], 30)
        r, doc = call("GET", "/v1/treasury/settings?x=1", key)
        self.assertEqual(r.status, 400, doc)
        r, doc = call("GET", "/v1/treasury/settings")
        self.assertEqual(r.status, 401, doc)

    def test_webhooks_every_bad_kind_is_a_400(self):
        _, key = tenant_key()
        ok = "http://127.0.0.1:9/x"
        cases = [("{", "invalid_json"),
                 ({"url": ok, "events": ["depletion.alert"], "secret": "mine"}, "unknown_field"),
                 ({"events": ["depletion.alert"]}, "invalid_field"),
                 ({"url": 5, "events": ["depletion.alert"]}, "invalid_field"),
                 ({"url": "ftp://127.0.0.1/x", "events": ["depletion.alert"]}, "invalid_field"),
                 ({"url": "https:///x", "events": ["depletion.alert"]}, "invalid_field"),
                 ({"url": "http://user:pw@127.0.0.1/x", "events": ["depletion.alert"]}, "invalid_field"),
                 ({"url": "http://127.0.0.1:0/x", "events": ["depletion.alert"]}, "invalid_field"),
                 ({"url": "http://127.0.0.1:99999/x", "events": ["depletion.alert"]}, "invalid_field"),
                 ({"url": "http://127.0.0.1/x#frag", "events": ["depletion.alert"]}, "invalid_field"),
                 ({"url": "http://127.0.0.1/a b", "events": ["depletion.alert"]}, "invalid_field"),
                 ({"url": "http:///x", "events": ["depletion.alert"]}, "invalid_field"),
                 ({"url": ok}, "invalid_field"),
                 ({"url": ok, "events": []}, "invalid_field"),
                 ({"url": ok, "events": "depletion.alert"}, "invalid_field"),
                 ({"url": ok, "events": ["depletion.alert", "everything"]}, "invalid_field"),
                 ({"url": ok, "events": [1]}, "invalid_field")]
        for body, code in cases:
            r, doc = call("POST", "/v1/webhooks", key, body)
            self.assertEqual(r.status, 400, (body, doc))
            self.assertEqual(doc["error"]["code"], code, (body, doc))
        r, doc = call("GET", "/v1/webhooks", key)
        self.assertEqual(doc["count"], 0, doc)  # nothing was stored
        for q in ("?limit=0", "?limit=x", "?limit=1001", "?other=1", "?limit=5&limit=6", "?limit=" + "1" * 64):
            r, doc = call("GET", "/v1/alerts" + q, key)
            self.assertEqual(r.status, 400, (q, doc))
        for method, path in (("DELETE", "/v1/webhooks/wh_nope"),
                             ("GET", "/v1/webhooks/wh_nope/deliveries")):
            r, doc = call(method, path, key)
            self.assertEqual(r.status, 404, (path, doc))

    def test_private_targets_refused(self):
        """Only 127.0.0.1/32 is allowed here: other loopback, private,
        link-local, multicast and unspecified addresses are refused."""
        _, key = tenant_key()
        for host in ("127.0.0.2", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "[::1]", "[fe80::1]", "[fd00::1]",
                     "[::ffff:127.0.0.2]", "[::ffff:10.0.0.1]"):
            r, doc = call("POST", "/v1/webhooks", key,
                          {"url": "http://%s:8080/x" % host, "events": ["depletion.alert"]})
            self.assertEqual(r.status, 400, (host, doc))
            self.assertEqual(doc["error"]["code"], "forbidden_target", (host, doc))
        r, doc = call("GET", "/v1/webhooks", key)
        self.assertEqual(doc["count"], 0, doc)

    def test_loopback_refused_without_the_allow_flag(self):
        db = os.path.join(G["tmp"], "noallow.db")
        proc, port, _ = tm.spawn(db)
        try:
            make_tier_on(port)
            _, key = tenant_key(port)
            r, doc = call("POST", "/v1/webhooks", key,
                          {"url": "http://127.0.0.1:9/x", "events": ["depletion.alert"]}, port=port)
            self.assertEqual(r.status, 400, doc)
            self.assertEqual(doc["error"]["code"], "forbidden_target")
            self.assertIn("loopback", doc["error"]["message"])
        finally:
            self.assertEqual(tm.stop(proc), 0)
        with open(db + ".stderr", errors="replace") as f:
            self.assertNotIn("Sanitizer", f.read())


class Delivery(unittest.TestCase):
    def test_one_signed_alert_per_episode(self):
        tenant, key = tenant_key()
        rec = Receiver().start()
        try:
            hook = webhook(key, rec.url())
            self.assertRegex(hook["secret"], r"^whsec_[0-9a-f]{64}$")
            r, listed = call("GET", "/v1/webhooks", key)
            self.assertEqual([w["id"] for w in listed["webhooks"]], [hook["id"]])
            self.assertNotIn(hook["secret"], json.dumps(listed))  # shown once
            seed_treasury(tenant, key)
            settings(key)
            self.assertEqual(alerts(key), [])  # 100000 against a 25000 floor: no alert
            # 90000 out in 24 h: 10000 left, below the 25000 floor within 48 h.
            doc = ingest(key, "transfers", [transfer(tenant, "big-1", "90000", "2025-12-02T12:00:00Z")])
            wait_for("one delivery", lambda: len(rec.received()) >= 1)
            headers, body = rec.received()[0]
            verify(self, hook["secret"], headers, body)
            event = json.loads(body)
            self.assertEqual(headers["Floatcast-Event-Id"], event["id"])
            self.assertEqual(headers["Floatcast-Event"], "depletion.alert")
            self.assertEqual(headers["Content-Type"], "application/json")
            self.assertEqual(event["type"], "depletion.alert")
            self.assertEqual(event["tenant_id"], tenant)
            data = event["data"]
            self.assertEqual(data["currency"], "USDC")
            self.assertEqual(data["probability"], 1.0)
            self.assertEqual(data["threshold"], 0.3)
            self.assertEqual(data["horizon_hours"], 48)
            self.assertEqual(data["as_of"], NOW)
            self.assertEqual(data["floor"], "25000.000000")
            self.assertEqual(data["balance"], "100000.000000")
            self.assertEqual(data["expected_at"], "2025-12-02T12:00:00Z")
            self.assertEqual(data["time_to_breach_hours"], {"p10": 24, "p50": 24, "p90": 24})
            self.assertEqual(data["breach_window"]["p50"], "2025-12-02T12:00:00Z")
            self.assertIn("big-1", [d["id"] for d in data["drivers"]])
            big = [d for d in data["drivers"] if d["id"] == "big-1"][0]
            self.assertEqual(big["amount"], "90000.000000")
            wait_job(key, doc["retrain_job"])
            first = alerts(key)
            self.assertEqual(len(first), 1)
            self.assertEqual(first[0]["status"], "open")
            self.assertEqual(first[0]["id"], event["id"])
            self.assertEqual(first[0]["event"], event)
            # The same episode: another outflow, still below: nothing sent.
            doc = ingest(key, "transfers", [transfer(tenant, "small-1", "1000", "2025-12-02T13:00:00Z")])
            last = wait_job(key, doc["retrain_job"])
            self.assertEqual(last["alerts"]["currencies"], [{"currency": "USDC", "probability": 1.0,
                                                               "status": "open"}])
            self.assertEqual(len(alerts(key)), 1)
            d = deliveries(key, hook["id"])
            self.assertEqual(d["pending"], 0)
            self.assertEqual([(x["event_id"], x["status_code"]) for x in d["deliveries"]],
                             [(event["id"], 200)])
            self.assertEqual(len(rec.received()), 1)
            # Recovery: an inflow before the breach closes the episode.
            doc = ingest(key, "transfers", [transfer(tenant, "in-1", "50000", "2025-12-02T06:00:00Z",
                                                     inflow=True)])
            last = wait_job(key, doc["retrain_job"])
            self.assertEqual(last["alerts"]["currencies"][0]["status"], "closed")
            got = alerts(key)
            self.assertEqual([a["status"] for a in got], ["closed"])
            # A new breach is a new episode: a second, different event.
            doc = ingest(key, "transfers", [transfer(tenant, "big-2", "80000", "2025-12-03T00:00:00Z")])
            wait_for("the second episode's delivery", lambda: len(rec.received()) >= 2)
            h2, b2 = rec.received()[1]
            verify(self, hook["secret"], h2, b2)
            self.assertNotEqual(h2["Floatcast-Event-Id"], headers["Floatcast-Event-Id"])
            self.assertEqual(json.loads(b2)["data"]["expected_at"], "2025-12-03T00:00:00Z")
            wait_job(key, doc["retrain_job"])
            self.assertEqual(sorted(a["status"] for a in alerts(key)), ["closed", "open"])
            self.assertEqual(len(rec.received()), 2)
            m = tm.scrape()  # counters over the whole gateway: at least this test's
            self.assertGreaterEqual(m['floatcast_webhook_deliveries_total{outcome="delivered"}'], 2)
            self.assertGreaterEqual(m["floatcast_alerts_opened_total"], 2)
            self.assertGreaterEqual(m["floatcast_alert_evaluations_total"], 4)
        finally:
            rec.stop()

    def test_receiver_down_for_a_while_then_up(self):
        tenant, key = tenant_key()
        rec = Receiver().start()
        rec.stop()  # its port, with nothing listening: connections refused
        hook = webhook(key, rec.url())
        seed_treasury(tenant, key)
        settings(key)
        ingest(key, "transfers", [transfer(tenant, "big-1", "90000", "2025-12-02T12:00:00Z")])
        wait_for("two failed attempts", lambda: len(deliveries(key, hook["id"])["deliveries"]) >= 2)
        d = deliveries(key, hook["id"])
        self.assertEqual(d["pending"], 1)
        for x in d["deliveries"]:
            self.assertIsNone(x["status_code"])
            self.assertIn("refused", x["error"])
        rec.start()
        try:
            wait_for("the delivery once the receiver is up", lambda: len(rec.received()) >= 1)
            headers, body = rec.received()[0]
            verify(self, hook["secret"], headers, body)
            wait_for("the delivery logged",
                     lambda: deliveries(key, hook["id"])["deliveries"][0]["status_code"] == 200)
            d = deliveries(key, hook["id"])
            self.assertEqual(d["pending"], 0)
            attempts = [x["attempt"] for x in d["deliveries"]]
            self.assertEqual(attempts, sorted(attempts, reverse=True))
            self.assertEqual(len({x["event_id"] for x in d["deliveries"]}), 1)
            r, listed = call("GET", "/v1/webhooks", key)
            self.assertEqual(listed["webhooks"][0]["pending_deliveries"], 0)
        finally:
            rec.stop()

    def test_redirects_and_non_2xx_are_retried_not_taken(self):
        tenant, key = tenant_key()
        rec = Receiver(status=302).start()  # a redirect (no Location needed: never followed)
        try:
            hook = webhook(key, rec.url())
            seed_treasury(tenant, key)
            settings(key)
            ingest(key, "transfers", [transfer(tenant, "big-1", "90000", "2025-12-02T12:00:00Z")])
            wait_for("an answered attempt", lambda: len(rec.received()) >= 1)
            rec.status = 500
            wait_for("a 500 logged", lambda: 500 in [x["status_code"] for x in
                                                   deliveries(key, hook["id"])["deliveries"]])
            rec.status = 204
            wait_for("a 2xx delivery",
                     lambda: deliveries(key, hook["id"])["deliveries"][0]["status_code"] == 204)
            d = deliveries(key, hook["id"])
            self.assertEqual(d["pending"], 0)
            redirects = [x for x in d["deliveries"] if x["status_code"] == 302]
            self.assertTrue(redirects)
            self.assertEqual(redirects[0]["error"], "redirect not followed")
            self.assertEqual({h["Floatcast-Event-Id"] for h, _ in rec.received()},
                             {d["deliveries"][0]["event_id"]})  # the same event every time
        finally:
            rec.stop()

    def test_kill9_between_commit_and_delivery(self):
        db = os.path.join(G["tmp"], "kill9.db")
        proc, port, _ = tm.spawn(db, ALLOW)
        rec = Receiver().start()
        rec.stop()
        try:
            make_tier_on(port)
            tenant, key = tenant_key(port)
            hook = webhook(key, rec.url(), port=port)
            seed_treasury(tenant, key, port=port)
            settings(key, port=port)
            ingest(key, "transfers", [transfer(tenant, "big-1", "90000", "2025-12-02T12:00:00Z")],
                   port=port)
            wait_for("the alert committed", lambda: len(alerts(key, port)) == 1)
            event_id = alerts(key, port)[0]["id"]
            self.assertEqual(deliveries(key, hook["id"], port)["pending"], 1)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
            rec.start()
            proc, port, _ = tm.spawn(db, ALLOW)
            wait_for("the delivery after the restart", lambda: len(rec.received()) >= 1)
            headers, body = rec.received()[0]
            self.assertEqual(headers["Floatcast-Event-Id"], event_id)
            verify(self, hook["secret"], headers, body)  # the secret survived too
            # The start's evaluation finds the episode open: no second alert.
            wait_for("the start's evaluation",
                     lambda: (call("GET", "/v1/models", key, port=port)[1]["retraining"]["last"]
                              or {}).get("alerts") is not None)
            self.assertEqual(len(alerts(key, port)), 1)
            wait_for("the delivery logged",
                     lambda: deliveries(key, hook["id"], port)["pending"] == 0)
            self.assertEqual({h["Floatcast-Event-Id"] for h, _ in rec.received()}, {event_id})
        finally:
            rec.stop()
            if proc.poll() is None:
                self.assertEqual(tm.stop(proc), 0)
        with open(db + ".stderr", errors="replace") as f:
            err = f.read()
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)


def make_tier_on(port):
    r, doc = call("PUT", "/v1/admin/tiers/wide", tm.ADMIN,
                  {"rate_per_second": 100000, "burst": 100000, "monthly_quota": 0,
                   "max_horizon_hours": 2160, "max_history_days": 365,
                   "granularities": ["day", "hour"]}, port=port)
    assert r.status == 200, doc


class Periodic(unittest.TestCase):
    def test_tenants_with_settings_are_reevaluated_without_ingestion(self):
        """--alert-period-ms (hourly by default): evaluations go on with no
        request at all, and an open episode still sends nothing twice."""
        db = os.path.join(G["tmp"], "periodic.db")
        proc, port, _ = tm.spawn(db, ALLOW + ["--alert-period-ms", "50"])
        rec = Receiver().start()
        try:
            make_tier_on(port)
            tenant, key = tenant_key(port)
            webhook(key, rec.url(), port=port)
            seed_treasury(tenant, key, port=port)
            settings(key, port=port)
            ingest(key, "transfers", [transfer(tenant, "big-1", "90000", "2025-12-02T12:00:00Z")], port=port)
            wait_for("the delivery", lambda: len(rec.received()) >= 1)
            start = tm.scrape(port)["floatcast_alert_evaluations_total"]
            wait_for("three periodic evaluations",
                     lambda: tm.scrape(port)["floatcast_alert_evaluations_total"] >= start + 3)
            self.assertEqual(len(alerts(key, port)), 1, alerts(key, port))
            self.assertEqual(len(rec.received()), 1)
        finally:
            rec.stop()
            self.assertEqual(tm.stop(proc), 0)
        with open(db + ".stderr", errors="replace") as f:
            self.assertNotIn("Sanitizer", f.read())


class StaleEvaluation(unittest.TestCase):
    def test_an_evaluation_of_older_data_does_not_close_a_newer_episode(self):
        """The periodic run holds each judgement 4 s (FC_ALERTS_TEST_HOLD_MS)
        after reading the tenant and says so on stderr; the ingestion lands
        while one holds a projection of the data before it, and the
        ingestion's evaluation opens the episode first. That stale one must
        not close it (and the next one open a second alert and send a second
        webhook): it reports superseded. Without the fix this fails whenever
        the ingestion's evaluation finishes within the hold."""
        db = os.path.join(G["tmp"], "stale.db")
        proc, port, _ = tm.spawn(db, ALLOW + ["--alert-period-ms", "50"],
                                 env=dict(tm.ENV, FC_ALERTS_TEST_HOLD_MS="4000"))
        rec = Receiver().start()
        try:
            make_tier_on(port)
            tenant, key = tenant_key(port)
            webhook(key, rec.url(), port=port)
            seed_treasury(tenant, key, port=port)
            settings(key, port=port)
            self.assertEqual(alerts(key, port), [])  # below the threshold so far
            with open(db + ".stderr", errors="replace") as f:
                held = f.read().count("holding " + tenant)
            wait_for("a periodic evaluation holding the data before the ingestion",
                     lambda: open(db + ".stderr", errors="replace").read().count("holding " + tenant) > held)
            ingest(key, "transfers", [transfer(tenant, "big-1", "90000", "2025-12-02T12:00:00Z")],
                   port=port)
            wait_for("the delivery", lambda: len(rec.received()) >= 1)
            start = tm.scrape(port)["floatcast_alert_evaluations_total"]
            # Each evaluation takes 4 s: /metrics (limited per address)
            # is polled 4 times a second, not every 20 ms.
            wait_for("two more evaluations",
                     lambda: time.sleep(0.25) or
                     tm.scrape(port)["floatcast_alert_evaluations_total"] >= start + 2)
            got = alerts(key, port)
            self.assertEqual(len(got), 1, got)
            self.assertEqual(got[0]["status"], "open", got)
            self.assertEqual(len(rec.received()), 1)
        finally:
            rec.stop()
            self.assertEqual(tm.stop(proc), 0)
        with open(db + ".stderr", errors="replace") as f:
            self.assertNotIn("Sanitizer", f.read())


class Isolation(unittest.TestCase):
    def test_tenants_see_only_their_own(self):
        t1, k1 = tenant_key()
        _, k2 = tenant_key()
        hook = webhook(k1, "http://127.0.0.1:9/x")
        settings(k1)
        r, doc = call("GET", "/v1/webhooks", k2)
        self.assertEqual(doc["count"], 0)
        r, doc = call("GET", "/v1/treasury/settings", k2)
        self.assertEqual(r.status, 404)
        for method, path in (("DELETE", "/v1/webhooks/" + hook["id"]),
                             ("GET", "/v1/webhooks/%s/deliveries" % hook["id"])):
            r, doc = call(method, path, k2)
            self.assertEqual(r.status, 404, (path, doc))
        r, doc = call("DELETE", "/v1/webhooks/" + hook["id"], k1)
        self.assertEqual(r.status, 200, doc)
        r, doc = call("DELETE", "/v1/webhooks/" + hook["id"], k1)
        self.assertEqual(r.status, 404, doc)  # already deleted
        r, doc = call("GET", "/v1/webhooks", k1)
        self.assertEqual(doc["count"], 0)
        r, doc = call("GET", "/v1/webhooks/%s/deliveries" % hook["id"], k1)
        self.assertEqual(r.status, 200, doc)  # the log outlives the webhook


# Last (classes run by name): SIGTERM, exit 0, no sanitizer report.
ZShutdown = tm.ZShutdown


if __name__ == "__main__":
    tm.main()
