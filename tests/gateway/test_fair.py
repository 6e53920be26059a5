#!/usr/bin/python3
"""One tenant must not stall every other tenant (gateway/gate.h).

Starts floatcast-gateway over loopback with a temporary SQLite file and a
thread pool of 4 (UV_THREADPOOL_SIZE), and checks:
  * a tenant whose tier allows max_concurrent 1 and that sends 8 heavy
    requests at once gets 429 too_many_concurrent with Retry-After: 1 for
    some of them and 200 for the rest, never a hang; /metrics counts the
    refusals by reason;
  * while tenant A floods heavy requests (method=ml projections at varied
    `now`, each a model fit), tenant B's cheap calls are answered before
    A's flood is over: A holds at most 3 of the 4 threads (pool - 1), and
    the fourth is kept for light calls;
  * with a pool of one thread, a queue of one and a 1 ms deadline, a call
    waiting past its deadline and one beyond the queue get 503 overloaded
    with Retry-After: 1;
  * a version 5 file gains tiers.max_concurrent with the built-in tiers'
    defaults.

No fixed sleeps synchronise anything: the tests poll with generous
deadlines and compare the order of events, not durations, so a busy
two-core machine makes them slower, not different.

Usage: test_fair.py --gateway PATH [unittest args]. Stdlib only; the
helpers come from test_metered.py.
"""
import argparse
import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwdb  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_metered as tm  # noqa: E402

G = {}
ENV = dict(tm.ENV, UV_THREADPOOL_SIZE="4")


def call(method, path, key=None, body=None):
    return tm.call(method, path, key, body, port=G["port"])


def tier(name, max_concurrent):
    r, doc = call("PUT", "/v1/admin/tiers/" + name, tm.ADMIN,
                  {"rate_per_second": 100000, "burst": 100000, "monthly_quota": 0,
                   "max_horizon_hours": 720, "max_history_days": 365,
                   "granularities": ["day", "hour"], "max_concurrent": max_concurrent})
    assert r.status == 200 and doc["max_concurrent"] == max_concurrent, doc
    r, doc = call("POST", "/v1/admin/keys", tm.ADMIN, {"tenant_id": "demo", "tier": name})
    assert r.status == 201, doc
    return doc["key"]


SEQ = [0]
SEQ_LOCK = threading.Lock()


def heavy_path():
    """A method=ml projection no earlier call asked for: another `now` fits
    its own flow model (not cached, not the tenant's fitted model)."""
    with SEQ_LOCK:
        SEQ[0] += 1
        i = SEQ[0]
    day, hour = 1 + i % 28, i // 28 % 24
    return ("/v1/reports/treasury/projection?method=ml&horizon=%d&now=2025-11-%02dT%02d:00:00Z"
            % (24 + i % 200, day, hour))


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-fair-")
    G["db"] = os.path.join(G["tmp"], "gw.db")
    G["proc"], G["port"], _ = tm.spawn(G["db"], ["--anon-rate", "100000", "--anon-burst",
                                                 "100000"], seed=True, env=ENV)
    r, doc = call("POST", "/v1/admin/tenants", tm.ADMIN, {"id": "bee", "name": "Bee"})
    assert r.status == 201, doc
    r, doc = call("POST", "/v1/admin/keys", tm.ADMIN, {"tenant_id": "bee", "tier": "free"})
    assert r.status == 201, doc
    G["b"] = doc["key"]


def tearDownModule():
    if G.get("proc") and G["proc"].poll() is None:
        tm.stop(G["proc"])
    if not os.environ.get("FC_KEEP_TMP"):
        shutil.rmtree(G["tmp"], ignore_errors=True)


class Concurrency(unittest.TestCase):
    def test_over_max_concurrent_is_429_never_a_wait(self):
        key = tier("one", 1)
        seen = []
        end = time.monotonic() + 300
        # Rounds of 8 requests released together; one round almost always
        # overlaps (each is a model fit), but a machine so busy that the
        # fits do not overlap only makes it take another round.
        while not any(s == 429 for s, _, _ in seen):
            self.assertLess(time.monotonic(), end, "no 429 after 300 s of rounds: %r" % seen)

            def one(_):
                r, doc = call("GET", heavy_path(), key)
                return (r.status, doc["error"]["code"] if r.status != 200 else None,
                        r.getheader("Retry-After"))
            seen += tm.concurrently(8, one)
        for status, code, retry in seen:
            self.assertIn((status, code), [(200, None), (429, "too_many_concurrent")], seen)
            if status == 429:
                self.assertEqual(retry, "1")
        self.assertTrue(any(s == 200 for s, _, _ in seen), seen)
        m = tm.scrape(G["port"])
        self.assertGreaterEqual(m['floatcast_compute_refused_total{reason="too_many_concurrent"}'],
                                sum(1 for s, _, _ in seen if s == 429))
        self.assertIn('floatcast_compute_refused_total{reason="queue_full"}', m)
        self.assertIn('floatcast_compute_refused_total{reason="queue_timeout"}', m)
        # The refusals are metered as 4xx like every partner answer (and
        # count against no quota); answers leave only after their record
        # committed, so the usage table already holds them.
        refused = gwdb.sql(G["db"], "SELECT coalesce(sum(calls), 0) FROM usage WHERE tenant_id ="
                                    " 'demo' AND endpoint = 'projection' AND status_class = 4")[0][0]
        self.assertGreaterEqual(refused, sum(1 for s, _, _ in seen if s == 429))

    def test_other_tenant_answered_while_one_floods(self):
        key = tier("many", 64)  # above the pool: capped at 4 - 1 = 3 running
        state = {"outstanding": 8, "flood_end": None, "statuses": []}
        lock = threading.Lock()
        start = threading.Barrier(9)

        def flooder():
            start.wait()
            got = 0
            try:
                # Two model fits each, retrying a 429 after a short pause:
                # the flood lasts until all sixteen fits are done.
                for _ in range(1000):
                    r, _ = call("GET", heavy_path(), key)
                    with lock:
                        state["statuses"].append(r.status)
                    if r.status == 200:
                        got += 1
                        if got == 2:
                            return
                    else:
                        time.sleep(0.05)
            finally:
                with lock:
                    state["outstanding"] -= 1
                    if state["outstanding"] == 0:
                        state["flood_end"] = time.monotonic()

        threads = [threading.Thread(target=flooder) for _ in range(8)]
        for t in threads:
            t.start()
        start.wait()
        tm.wait_for("A's heavy calls running",
                    lambda: tm.scrape(G["port"])['floatcast_compute_running{kind="heavy"}'] >= 1
                    or state["flood_end"] is not None)
        b_done = []
        for path in ("/v1/usage", "/v1/models", "/v1/usage?granularity=hour", "/healthz",
                     "/v1/usage"):
            r, doc = call("GET", path, G["b"])
            self.assertEqual(r.status, 200, doc)
            b_done.append(time.monotonic())
        with lock:
            left = state["outstanding"]
        for t in threads:
            t.join(600)
            self.assertFalse(t.is_alive(), "a flood client still waits")
        self.assertTrue(set(state["statuses"]) <= {200, 429}, state["statuses"])
        self.assertGreater(left, 0, "B's calls were answered only after A's flood was over")
        self.assertLess(b_done[-1], state["flood_end"])
        m = tm.scrape(G["port"])
        self.assertLessEqual(m['floatcast_compute_running{kind="heavy"}'], 3)


class Overloaded(unittest.TestCase):
    """A pool of one thread, a queue of one and a deadline of 1 ms: while
    A's model fit holds the thread, one more call waits and gives up at its
    deadline (503 overloaded, queue_timeout), and a call beyond the queue
    is refused at once (503 overloaded, queue_full)."""

    def test_full_queue_and_deadline_are_503_overloaded(self):
        db = os.path.join(G["tmp"], "tight.db")
        env = dict(ENV, UV_THREADPOOL_SIZE="1")
        proc, port, demo = tm.spawn(db, ["--anon-rate", "100000", "--anon-burst", "100000",
                                         "--compute-queue", "1", "--queue-timeout", "1"],
                                    seed=True, env=env)
        try:
            r, doc = tm.call("POST", "/v1/admin/tenants", tm.ADMIN, {"id": "bee", "name": "Bee"},
                             port=port)
            self.assertEqual(r.status, 201, doc)
            r, doc = tm.call("POST", "/v1/admin/keys", tm.ADMIN,
                             {"tenant_id": "bee", "tier": "pro"}, port=port)
            self.assertEqual(r.status, 201, doc)
            bee = doc["key"]
            m = {}
            end = time.monotonic() + 300
            while not (m.get('floatcast_compute_refused_total{reason="queue_timeout"}', 0) >= 1 and
                       m.get('floatcast_compute_refused_total{reason="queue_full"}', 0) >= 1):
                self.assertLess(time.monotonic(), end, "no refusal of each kind after 300 s: %r" % m)
                fit = threading.Thread(target=tm.call, args=("GET", heavy_path(), demo),
                                       kwargs={"port": port})
                fit.start()
                tm.wait_for("A's fit running", lambda: tm.scrape(port).get(
                    'floatcast_compute_running{kind="heavy"}', 0) >= 1 or not fit.is_alive())

                def other(i):
                    r, doc = tm.call("GET", "/v1/usage", bee if i else tm.ADMIN, port=port)
                    return r.status, (doc or {}).get("error", {}).get("code"), \
                        r.getheader("Retry-After")
                for status, code, retry in tm.concurrently(2, other):
                    self.assertIn((status, code), [(200, None), (503, "overloaded")])
                    if status == 503:
                        self.assertEqual(retry, "1")
                fit.join(600)
                m = tm.scrape(port)
        finally:
            self.assertEqual(tm.stop(proc), 0)


class SingleFlight(unittest.TestCase):
    """Concurrent cold requests for one cache key coalesce on one
    computation (gateway/flight.h): with max_concurrent 1, 8 of them at
    once are all answered 200 with the same body (without single flight 7
    would get 429 too_many_concurrent), /metrics counts one computation, and
    every other call was answered from it or from the cache."""

    def delta(self, before, after, name):
        return after.get(name, 0) - before.get(name, 0)

    def test_cold_misses_of_one_key_compute_once(self):
        key = tier("flight", 1)
        shared = 0
        end = time.monotonic() + 300
        # A round whose first call finished before the others arrived is
        # all cache hits: another round (another key) then, until one
        # shows followers. Each round is checked in full.
        while shared == 0:
            self.assertLess(time.monotonic(), end, "no coalesced call after 300 s of rounds")
            path = heavy_path()
            before = tm.scrape(G["port"])

            def one(_):
                r, doc = call("GET", path, key)
                return r.status, json.dumps(doc, sort_keys=True), r.getheader("X-Cache")
            got = tm.concurrently(8, one)
            after = tm.scrape(G["port"])
            self.assertEqual([s for s, _, _ in got], [200] * 8, got)
            self.assertEqual(len({b for _, b, _ in got}), 1, "bodies differ")
            self.assertEqual(self.delta(before, after, "floatcast_insight_computations_total"), 1)
            shared = self.delta(before, after, 'floatcast_insight_coalesced_total{outcome="shared"}')
            hits = self.delta(before, after, "floatcast_cache_hits_total")
            self.assertEqual(shared + hits, 7, (shared, hits))
            self.assertEqual(sorted(x for _, _, x in got if x),
                             sorted(["coalesced"] * int(shared) + ["hit"] * int(hits)))
            self.assertEqual(self.delta(before, after, 'floatcast_compute_refused_total'
                                                       '{reason="too_many_concurrent"}'), 0)
            self.assertEqual(after["floatcast_insight_flights"], 0)
        # Every call was metered, the followers too.
        calls = gwdb.sql(G["db"], "SELECT coalesce(sum(calls), 0) FROM usage WHERE tenant_id = 'demo'"
                                  " AND endpoint = 'projection' AND status_class = 2")[0][0]
        self.assertGreaterEqual(calls, 8)

    def test_a_follower_waits_at_most_the_request_timeout(self):
        """--request-timeout 5 ms: a follower whose leader's model fit takes
        longer gets 503 overloaded with Retry-After: 1, counted as a
        timeout; the leader is answered 200. The calls go on keep-alive
        connections opened beforehand: a new connection's request head has
        the same 5 ms, which a busy machine can miss."""
        db = os.path.join(G["tmp"], "flight-timeout.db")
        proc, port, demo = tm.spawn(db, ["--anon-rate", "100000", "--anon-burst", "100000",
                                         "--request-timeout", "5"], seed=True, env=ENV)

        def warm():
            end = time.monotonic() + 300
            while True:  # until one connection got its head in within 5 ms
                # A gateway that died refuses every connection: fail now,
                # not after spinning on refusals.
                self.assertIsNone(proc.poll(), "the gateway exited")
                self.assertLess(time.monotonic(), end, "no connection got its head in within 5 ms in 300 s")
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                try:
                    c.request("GET", "/healthz")
                    r = c.getresponse()
                    r.read()
                    if r.status == 200 and not r.will_close:
                        return c
                except OSError:
                    pass
                c.close()

        def scrape():  # tm.scrape's, on a connection past its head timer
            c = warm()
            c.request("GET", "/metrics")
            text = c.getresponse().read().decode()
            c.close()
            return {l.rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1])
                    for l in text.splitlines() if l and not l.startswith("#")}
        try:
            timeouts = 0
            end = time.monotonic() + 300
            while timeouts == 0:  # a round whose calls all missed the fit: another
                self.assertLess(time.monotonic(), end, "no follower timed out after 300 s of rounds")
                path = heavy_path()
                conns = [warm() for _ in range(4)]
                before = scrape()

                def one(i):
                    conns[i].request("GET", path, headers={"Authorization": "Bearer " + demo})
                    r = conns[i].getresponse()
                    doc = json.loads(r.read())
                    conns[i].close()
                    return r.status, doc.get("error", {}).get("code"), r.getheader("Retry-After")
                got = tm.concurrently(4, one)
                after = scrape()
                for status, code, retry in got:
                    self.assertIn((status, code), [(200, None), (503, "overloaded")], got)
                    if status == 503:
                        self.assertEqual(retry, "1")
                self.assertIn((200, None, None), got)  # the leader
                timeouts = self.delta(before, after, 'floatcast_insight_coalesced_total{outcome="timeout"}')
                self.assertEqual(timeouts, sum(1 for s, _, _ in got if s == 503))
                self.assertEqual(after["floatcast_insight_flights"], 0)
        finally:
            self.assertEqual(tm.stop(proc), 0)

    def test_an_error_is_neither_shared_nor_cached(self):
        """A leader's error answer: each follower computes for itself (and
        is answered the same 4xx here), and the next call is no hit."""
        # Three at once: followers computing alone fit the tenant's cap
        # (pool - 1 = 3 heavy calls), so none is refused 429.
        key = tier("flighterr", 8)
        path = "/v1/reports/treasury/projection?method=ml&horizon=100000"
        got = tm.concurrently(3, lambda _: call("GET", path, key))
        statuses = {r.status for r, _ in got}
        self.assertEqual(len(statuses), 1, statuses)
        self.assertGreaterEqual(statuses.pop(), 400)
        self.assertNotIn("coalesced", [r.getheader("X-Cache") for r, _ in got])
        r, doc = call("GET", path, key)
        self.assertGreaterEqual(r.status, 400, doc)
        self.assertIsNone(r.getheader("X-Cache"))


class TierField(unittest.TestCase):
    def test_max_concurrent_validated_and_defaulted(self):
        base = {"rate_per_second": 1, "burst": 1, "monthly_quota": 0, "max_horizon_hours": 24,
                "max_history_days": 30, "granularities": ["day"]}
        for bad in (0, 1025, "2", 1.5):
            r, doc = call("PUT", "/v1/admin/tiers/badmc", tm.ADMIN, dict(base, max_concurrent=bad))
            self.assertEqual((r.status, doc["error"]["code"]), (400, "invalid_field"), bad)
            self.assertIn("max_concurrent", doc["error"]["message"])
        r, doc = call("PUT", "/v1/admin/tiers/nomc", tm.ADMIN, base)
        self.assertEqual((r.status, doc["max_concurrent"]), (200, 2))


class Migration(unittest.TestCase):
    @gwdb.sqlite_only("a version 5 SQLite file")
    def test_version5_file_gains_max_concurrent(self):
        db = os.path.join(G["tmp"], "v5.db")
        con = sqlite3.connect(db)
        con.executescript(
            "CREATE TABLE tiers (name TEXT PRIMARY KEY, rate_milli INTEGER NOT NULL,"
            " burst INTEGER NOT NULL, monthly_quota INTEGER NOT NULL,"
            " max_horizon_hours INTEGER NOT NULL, max_history_days INTEGER NOT NULL,"
            " granularities INTEGER NOT NULL);"
            "INSERT INTO tiers VALUES ('free', 5000, 10, 10000, 720, 90, 2);"
            "INSERT INTO tiers VALUES ('enterprise', 1000000, 2000, 0, 8760, 3650, 3);"
            "INSERT INTO tiers VALUES ('custom', 1000, 10, 0, 720, 90, 2);"
            "PRAGMA user_version = 5;")
        con.close()
        proc, port, _ = tm.spawn(db, env=ENV)
        self.assertEqual(tm.stop(proc), 0)
        con = sqlite3.connect(db)
        try:
            self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 6)
            self.assertEqual(dict(con.execute("SELECT name, max_concurrent FROM tiers")),
                             {"free": 1, "pro": 2, "enterprise": 4, "custom": 2})
        finally:
            con.close()

    @gwdb.sqlite_only("a SQLite file whose schema cannot be created")
    def test_schema_failure_names_its_part_and_leaves_the_file(self):
        """A file the schema cannot be created in (a view where a rollup
        table goes) stops the gateway at start with SQLite's reason and the
        part that failed, and the schema's transaction leaves nothing."""
        db = os.path.join(G["tmp"], "view.db")
        con = sqlite3.connect(db)
        con.execute("CREATE VIEW txn_daily AS SELECT 1 AS x")
        con.close()
        p = subprocess.run([tm.ARGS.gateway, "--listen", "127.0.0.1:0", "--db", db, "--quiet"],
                           capture_output=True, text=True, timeout=600, env=ENV)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("sqlite: rollups schema: view txn_daily already exists", p.stderr)
        con = sqlite3.connect(db)
        try:
            names = [n for (n,) in con.execute("SELECT name FROM sqlite_master")]
        finally:
            con.close()
        self.assertEqual(names, ["txn_daily"])


if __name__ == "__main__":
    tm.main()
