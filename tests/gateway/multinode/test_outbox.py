#!/usr/bin/python3
"""Two gateway nodes on one PostgreSQL database share one webhook outbox
(gateway/pg_alerts.h, webhooks.h).

Both nodes run a dispatcher polling the outbox and both evaluate every
tenant's alerts (--alert-period-ms 1000). The receivers answer slowly, so
a row in flight on one node is still pending when the other node polls:
without claims both would send it. Checked:
- several tenants' breaches, each with two webhooks: every (event,
  webhook) is received exactly once and its log holds one attempt; one
  alert per tenant although both nodes evaluate it every second;
- a node killed -9 while its delivery is in flight (the receiver holds the
  request; the test reads which node claimed the row from claimed_by, which
  names its pid): the other node delivers the same event once the claim
  has lapsed (--webhook-lease-ms), not before, and logs it;
- a node stopped (SIGTERM) mid-delivery ends its claim as it exits: the
  other node delivers before the lease would have lapsed;
- an evaluation on one node of the data before an ingestion, finishing
  after the other node's evaluation of the ingestion opened the episode,
  writes nothing (the tickets and watermarks of pg_alerts.h): one alert,
  one delivery.
Every wait polls with a deadline of minutes; nothing sleeps a fixed time.

Usage: test_outbox.py --gateway PATH [unittest args]. Runs on PostgreSQL
whatever FC_TEST_DB says (gwdb.py starts a throw-away cluster).
"""
import argparse
import http.server
import json
import os
import signal
import sys
import tempfile
import threading
import time
import unittest

os.environ["FC_TEST_DB"] = "postgresql"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import gwdb  # noqa: E402
import test_alerts as ta  # noqa: E402
import test_metered as tm  # noqa: E402
from test_metered import G, call, wait_for  # noqa: E402

LEASE_MS = 15000  # timeouts are a third of it: 5 s to connect, 5 s for the answer
FLAGS = ta.ALLOW + ["--alert-period-ms", "1000", "--webhook-lease-ms", str(LEASE_MS)]


class SlowReceiver:
    """A webhook receiver on 127.0.0.1 that records (time, path, headers,
    body) of every POST and answers 200 after `delay` seconds; while
    `hold` is set it answers nothing until release() (the held requests
    are recorded as they arrive)."""

    def __init__(self, delay=0.0):
        self.delay = delay
        self.got = []
        self.lock = threading.Lock()
        self.hold = threading.Event()
        self.released = threading.Event()
        self.server = None

    def start(self):
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with rec.lock:
                    rec.got.append((time.time(), self.path, dict(self.headers), body))
                if rec.hold.is_set():
                    rec.released.wait(300)
                    return  # no answer: the sender is gone by then
                rec.released.wait(rec.delay)  # a slow receiver, not a fixed sleep of the test
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def url(self, tag):
        return "http://127.0.0.1:%d/hooks/%s" % (self.server.server_address[1], tag)

    def received(self):
        with self.lock:
            return list(self.got)


class Pair:
    """Two nodes on one database; .ports[i], .procs[i]. Without Redis a
    node learns keys at its start: the second node starts once the test's
    keys exist (second())."""

    def __init__(self, name):
        self.db = os.path.join(G["tmp"], name)
        self.procs, self.ports = [], []
        self.second()

    def second(self):
        proc, port, _ = tm.spawn(self.db, FLAGS)
        self.procs.append(proc)
        self.ports.append(port)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                tm.stop(p)
            elif not p.stdout.closed:
                p.stdout.close()
        with open(self.db + ".stderr", errors="replace") as f:
            err = f.read()
        return err


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-outbox-")
    G["n"] = 0


def tearDownModule():
    tm.tearDownModule()


def breach(tenant, key, port):
    """A USDC account of 100000 against a 25000 floor, then 90000 out
    within 24 h: P(below the floor within 48 h) is 1."""
    ta.seed_treasury(tenant, key, port=port)
    ta.settings(key, port=port)
    ta.ingest(key, "transfers", [ta.transfer(tenant, "big-1", "90000", "2025-12-02T12:00:00Z")],
              port=port)


class TwoNodes(unittest.TestCase):
    def test_one_delivery_per_event_although_both_nodes_poll(self):
        pair = Pair("one.db")
        rec = SlowReceiver(delay=1.0).start()
        try:
            ta.make_tier_on(pair.ports[0])
            keys = [ta.tenant_key(pair.ports[0]) for _ in range(4)]
            pair.second()
            tenants = []
            for i, (tenant, key) in enumerate(keys):
                port = pair.ports[i % 2]  # each node opens some alerts
                hooks = [ta.webhook(key, rec.url("%s-%d" % (tenant, j)), port=port)["id"]
                         for j in range(2)]
                breach(tenant, key, port)
                tenants.append((tenant, key, hooks))
            wait_for("eight deliveries", lambda: len(rec.received()) >= 8, deadline=300)
            for tenant, key, hooks in tenants:
                for wid in hooks:
                    wait_for("%s's delivery logged" % wid,
                             lambda: ta.deliveries(key, wid, pair.ports[1])["pending"] == 0, deadline=300)
            # Both nodes went on evaluating and polling meanwhile; once every
            # row is recorded neither has one in flight.
            got = rec.received()
            pairs = [(h["Floatcast-Event-Id"], path) for _, path, h, _ in got]
            self.assertEqual(len(pairs), 8, pairs)
            self.assertEqual(len(set(pairs)), 8, pairs)
            for tenant, key, hooks in tenants:
                listed = ta.alerts(key, pair.ports[0])
                self.assertEqual([a["status"] for a in listed], ["open"], listed)
                event_id = listed[0]["id"]
                for j, wid in enumerate(hooks):
                    self.assertIn((event_id, "/hooks/%s-%d" % (tenant, j)), pairs)
                    d = ta.deliveries(key, wid, pair.ports[0])
                    self.assertEqual([(x["event_id"], x["attempt"], x["status_code"]) for x in d["deliveries"]],
                                     [(event_id, 1, 200)], d)
            rows = gwdb.sql(pair.db, "SELECT count(*) FROM webhook_outbox WHERE status = 'delivered'"
                                     " AND claimed_by IS NULL AND claimed_until IS NULL")
            self.assertEqual(rows, [(8,)])
            for p in pair.ports:  # both nodes evaluated every tenant, the open episodes too
                self.assertGreaterEqual(tm.scrape(p)["floatcast_alert_evaluations_total"], 4)
        finally:
            rec.stop()
            err = pair.stop()
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)

    def test_killed_node_claim_is_delivered_by_the_other_after_the_lease(self):
        pair = Pair("kill.db")
        rec = SlowReceiver().start()
        rec.hold.set()
        try:
            ta.make_tier_on(pair.ports[0])
            tenant, key = ta.tenant_key(pair.ports[0])
            pair.second()
            wid = ta.webhook(key, rec.url(tenant), port=pair.ports[0])["id"]
            breach(tenant, key, pair.ports[0])
            wait_for("the held delivery", lambda: len(rec.received()) >= 1, deadline=300)
            claim = gwdb.sql(pair.db, "SELECT claimed_by, claimed_until FROM webhook_outbox"
                                      " WHERE webhook_id = ?", (wid,))
            self.assertEqual(len(claim), 1, claim)
            by, until = claim[0]
            self.assertIsNotNone(by, claim)  # the row is claimed while in flight
            pid = int(by.split("/")[1])
            pids = [p.pid for p in pair.procs]
            self.assertIn(pid, pids, (by, pids))
            dead = pids.index(pid)
            pair.procs[dead].send_signal(signal.SIGKILL)
            pair.procs[dead].wait()
            pair.procs[dead].stdout.close()
            rec.hold.clear()
            rec.released.set()  # answer at once from now on
            live = pair.ports[1 - dead]
            wait_for("the other node's delivery", lambda: len(rec.received()) >= 2, deadline=300)
            first, second = rec.received()[:2]
            self.assertEqual(second[2]["Floatcast-Event-Id"], first[2]["Floatcast-Event-Id"])
            # Not before the dead node's claim lapsed (the database's clock is
            # this machine's: 50 ms for rounding to ms and scheduling).
            self.assertGreaterEqual(second[0], until / 1000.0 - 0.05, (second[0], until))
            wait_for("the delivery logged", lambda: ta.deliveries(key, wid, live)["pending"] == 0)
            d = ta.deliveries(key, wid, live)
            self.assertEqual([(x["attempt"], x["status_code"]) for x in d["deliveries"]], [(1, 200)], d)
            self.assertEqual(len(ta.alerts(key, live)), 1)
            row = gwdb.sql(pair.db, "SELECT status, attempts, claimed_by FROM webhook_outbox"
                                    " WHERE webhook_id = ?", (wid,))
            self.assertEqual(row, [("delivered", 1, None)])
        finally:
            rec.stop()
            err = pair.stop()
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)

    def test_stopped_node_hands_its_claim_back_at_once(self):
        """SIGTERM (a rolling restart) mid-delivery: the stopping node ends
        its claims as it exits, so the other node sends the row well
        before the lease would have lapsed."""
        pair = Pair("stop.db")
        rec = SlowReceiver().start()
        rec.hold.set()
        try:
            ta.make_tier_on(pair.ports[0])
            tenant, key = ta.tenant_key(pair.ports[0])
            pair.second()
            wid = ta.webhook(key, rec.url(tenant), port=pair.ports[0])["id"]
            breach(tenant, key, pair.ports[0])
            wait_for("the held delivery", lambda: len(rec.received()) >= 1, deadline=300)
            by, until = gwdb.sql(pair.db, "SELECT claimed_by, claimed_until FROM webhook_outbox"
                                          " WHERE webhook_id = ?", (wid,))[0]
            pids = [p.pid for p in pair.procs]
            stopping = pids.index(int(by.split("/")[1]))
            rec.hold.clear()
            rec.released.set()
            self.assertEqual(tm.stop(pair.procs[stopping]), 0)
            live = pair.ports[1 - stopping]
            wait_for("the other node's delivery", lambda: len(rec.received()) >= 2, deadline=300)
            second = rec.received()[1]
            self.assertEqual(second[2]["Floatcast-Event-Id"], rec.received()[0][2]["Floatcast-Event-Id"])
            self.assertLess(second[0], until / 1000.0, "sent only once the lease lapsed")
            wait_for("the delivery logged", lambda: ta.deliveries(key, wid, live)["pending"] == 0)
            self.assertEqual(gwdb.sql(pair.db, "SELECT status, claimed_by FROM webhook_outbox"
                                               " WHERE webhook_id = ?", (wid,)), [("delivered", None)])
        finally:
            rec.stop()
            err = pair.stop()
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)


class StaleAcrossNodes(unittest.TestCase):
    HOLD_MS = 6000

    def test_an_older_evaluation_on_one_node_does_not_close_the_others_episode(self):
        """Node A's periodic run holds each judgement HOLD_MS after reading
        the tenant (FC_ALERTS_TEST_HOLD_MS) and says so on stderr before and
        after; the ingestion goes through node B while A holds a projection
        of the data before it, and B's evaluation opens the episode before A
        is released. A's per-process ticket knows nothing of B's evaluation:
        only the shared ticket and the episode's watermark stop A's stale
        "below" from closing it (and A's next evaluation from opening a
        second alert and sending a second webhook). When B's evaluation is
        slower than the hold (a busy machine) the round proves nothing and
        is run again with a new tenant."""
        db = os.path.join(G["tmp"], "stale.db")
        err_path = db + ".stderr"
        a, port_a, _ = tm.spawn(db, ta.ALLOW + ["--alert-period-ms", "50"],
                                env=dict(tm.ENV, FC_ALERTS_TEST_HOLD_MS=str(self.HOLD_MS)))
        procs = [a]
        rec = SlowReceiver().start()

        def count(line):
            with open(err_path, errors="replace") as f:
                return f.read().count(line)
        try:
            ta.make_tier_on(port_a)
            rounds = [ta.tenant_key(port_a) for _ in range(3)]
            b, port_b, _ = tm.spawn(db, ta.ALLOW)  # hourly: only the ingestion's evaluation
            procs.append(b)
            for tenant, key in rounds:
                holding, released = "holding %s for" % tenant, "released %s\n" % tenant
                ta.webhook(key, rec.url(tenant), port=port_a)
                ta.seed_treasury(tenant, key, port=port_a)
                ta.settings(key, port=port_a)
                self.assertEqual(ta.alerts(key, port_a), [])  # below the threshold so far
                seen = count(holding)
                wait_for("node A holding the data before the ingestion", lambda: count(holding) > seen)
                held = count(holding)  # the hold in progress is this one
                ta.ingest(key, "transfers", [ta.transfer(tenant, "big-1", "90000", "2025-12-02T12:00:00Z")],
                          port=port_b)
                wait_for("node B's evaluation opening the episode",
                         lambda: [x["status"] for x in ta.alerts(key, port_b)] == ["open"])
                if count(released) < held:
                    break  # opened while A still held its stale projection
            else:
                self.fail("node B's evaluation never finished within node A's %d ms hold" % self.HOLD_MS)
            # A's stale evaluation judges; then a whole evaluation of the new
            # data runs (the one after it starts once that one is done).
            wait_for("A's next two evaluations", lambda: count(holding) >= held + 2,
                     deadline=120 + 3 * self.HOLD_MS / 1000)
            got = ta.alerts(key, port_a)
            self.assertEqual([x["status"] for x in got], ["open"], got)
            wait_for("the delivery logged", lambda: gwdb.sql(db, "SELECT count(*) FROM webhook_outbox"
                                                                 " WHERE tenant_id = ? AND status = 'pending'",
                                                             (tenant,)) == [(0,)])
            self.assertEqual(len([r for r in rec.received() if r[1] == "/hooks/" + tenant]), 1)
            mark = gwdb.sql(db, "SELECT ticket FROM alert_watermarks WHERE tenant_id = ?", (tenant,))
            self.assertEqual(len(mark), 1, mark)
        finally:
            rec.stop()
            self.assertEqual([tm.stop(p) for p in procs], [0] * len(procs))
        with open(err_path, errors="replace") as f:
            err = f.read()
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    tm.ARGS, rest = ap.parse_known_args()
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
