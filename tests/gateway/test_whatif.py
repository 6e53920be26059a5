#!/usr/bin/python3
"""POST /v1/what-if over loopback (gateway/handlers_whatif.c), on SQLite or
(FC_TEST_DB=postgresql) PostgreSQL; and a saved scenario's number.

The body is parsed once, by the core's strict reader: the scenario's
members reach the core as part of that parse and come back in the answer
as they were sent (their order, their numbers' text), the projection's
fields left out. Checked: the answer for a scenario does not depend on the
order of the body's members; every kind of bad body is a 400 whose code
and message name what is wrong (malformed JSON with its byte, not an
object, a key twice at any depth, a NUL, an unknown member, each
projection field of the wrong type or range, a scenario member the core
refuses), a horizon beyond the tier's a 403; and none of them changes
what a good request answers or what the tenant has stored.

Usage: test_whatif.py --gateway PATH [unittest args]. Stdlib only.
"""
import http.client
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_metered as tm  # noqa: E402
from test_metered import G, call, make_key, make_tier  # noqa: E402

BASE = {"now": "2025-12-01T12:00:00Z", "horizon": 24, "currency": "USDC"}


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-whatif-")
    G["db"] = os.path.join(G["tmp"], "gw.db")
    G["proc"], G["port"], G["demo"] = tm.spawn(G["db"], seed=True)
    r, snap = call("GET", "/v1/treasury/snapshot", G["demo"])
    assert r.status == 200, snap
    G["snapshot"] = snap
    G["stream"] = next(s["id"] for s in snap["streams"] if s["status"] == "active")
    G["pending"] = next(t["id"] for t in snap["transfers"] if t["status"] == "pending")


def tearDownModule():
    tm.tearDownModule()


def raw(body, key=None):
    """POSTs body (bytes) as it is; returns (status, answer bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", G["port"], timeout=120)
    c.request("POST", "/v1/what-if", body=body,
              headers={"Authorization": "Bearer " + (key or G["demo"]), "Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    tm.record("POST", "/v1/what-if", r, data)
    return r.status, data


def without_times(doc):
    """The answer less the moment it was computed (the rest is deterministic)."""
    doc = json.loads(json.dumps(doc))
    doc["projection"].pop("generated_at", None)
    return doc


class ReadOnce(unittest.TestCase):
    def test_scenario_comes_back_as_sent(self):
        body = ('{"now":"2025-12-01T12:00:00Z","pause_streams":["%s"],"horizon":24,'
                '"stream_rates":{"%s":"0.000100"},"currency":"USDC","cancel_transfers":["%s"]}'
                % (G["stream"], G["stream"], G["pending"]))
        status, data = raw(body.encode())
        self.assertEqual(status, 200, data)
        want = ('"scenario":{"pause_streams":["%s"],"stream_rates":{"%s":"0.000100"},"cancel_transfers":["%s"]}'
                % (G["stream"], G["stream"], G["pending"]))
        self.assertIn(want.encode(), data)
        doc = json.loads(data)
        self.assertEqual(doc["tenant_id"], "demo")
        self.assertEqual(list(doc["scenario"]), ["pause_streams", "stream_rates", "cancel_transfers"])

    def test_a_number_reaches_the_core_exactly(self):
        # A rate with 18 decimals as a JSON number: printed back from a
        # double it would be 0.12345678901234568; read once, the core and
        # the answer see the digits sent, and the number projects as the
        # same rate sent as a string does.
        body = '{"now":"2025-12-01T12:00:00Z","horizon":24,"stream_rates":{"%s":%s}}'
        status, as_number = raw((body % (G["stream"], "0.123456789012345678")).encode())
        self.assertEqual(status, 200, as_number)
        self.assertIn(b'"stream_rates":{"%s":0.123456789012345678}' % G["stream"].encode(), as_number)
        status, as_text = raw((body % (G["stream"], '"0.123456789012345678"')).encode())
        self.assertEqual(status, 200, as_text)
        self.assertEqual(without_times(json.loads(as_number))["projection"],
                         without_times(json.loads(as_text))["projection"])

    def test_member_order_does_not_change_the_projection(self):
        scenario = {"pause_streams": [G["stream"]], "cancel_transfers": [G["pending"]]}
        r, a = call("POST", "/v1/what-if", G["demo"], dict(BASE, **scenario))
        self.assertEqual(r.status, 200, a)
        flipped = dict(reversed(list(dict(scenario, **BASE).items())))
        r, b = call("POST", "/v1/what-if", G["demo"], flipped)
        self.assertEqual(r.status, 200, b)
        self.assertEqual(without_times(a)["projection"], without_times(b)["projection"])
        self.assertEqual(set(a["scenario"]), set(scenario))

    def test_no_scenario_is_the_plain_projection(self):
        r, doc = call("POST", "/v1/what-if", G["demo"], BASE)
        self.assertEqual(r.status, 200, doc)
        self.assertEqual(doc["scenario"], {})
        r, plain = call("GET", "/v1/reports/treasury/projection?now=2025-12-01T12:00:00Z&horizon=24&currency=USDC",
                        G["demo"])
        self.assertEqual(r.status, 200, plain)
        self.assertEqual(without_times(doc)["projection"]["currencies"], plain["currencies"])

    def test_a_saved_scenario_keeps_the_number_as_sent(self):
        # POST /v1/treasury/scenarios reads its body once too: the stored
        # scenario holds the rate's 18 decimals, not a double's reprint.
        body = ('{"name":"exact rate","scenario":{"stream_rates":{"%s":0.123456789012345678}}}'
                % G["stream"]).encode()
        c = http.client.HTTPConnection("127.0.0.1", G["port"], timeout=120)
        c.request("POST", "/v1/treasury/scenarios", body=body,
                  headers={"Authorization": "Bearer " + G["demo"], "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        tm.record("POST", "/v1/treasury/scenarios", r, data)
        self.assertEqual(r.status, 201, data)
        self.assertIn(b'"scenario":{"stream_rates":{"%s":0.123456789012345678}}' % G["stream"].encode(), data)
        sid = json.loads(data)["id"]
        r, got = call("GET", "/v1/treasury/scenarios/" + sid, G["demo"])
        self.assertEqual(r.status, 200, got)
        self.assertEqual(call("DELETE", "/v1/treasury/scenarios/" + sid, G["demo"])[0].status, 200)


class BadBodies(unittest.TestCase):
    def check(self, body, status, code, *needles):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        got, data = raw(body)
        self.assertEqual(got, status, (body, data))
        err = json.loads(data)["error"]
        self.assertEqual(err["code"], code, (body, err))
        for n in needles:
            self.assertIn(n, err["message"], (body, err))

    def test_every_kind_is_refused_and_named(self):
        r, before = call("POST", "/v1/what-if", G["demo"], dict(BASE, pause_streams=[G["stream"]]))
        self.assertEqual(r.status, 200, before)
        cases = [
            (b"", 400, "invalid_json", "body: "),
            (b'{"horizon": 24,', 400, "invalid_json", "body: "),
            (b'{"horizon": 24 "now": "x"}', 400, "invalid_json", "body: "),
            (b"[1, 2]", 400, "invalid_json", "body: expected a JSON object"),
            (b'{"horizon": 24, "horizon": 48}', 400, "invalid_json", "duplicate object key 'horizon'"),
            (b'{"stream_rates": {"%s": "0.1", "%s": "0.2"}}' % (G["stream"].encode(), G["stream"].encode()),
             400, "invalid_json", "duplicate object key '%s'" % G["stream"]),
            (b'{"transfers": [{"id": "a", "id": "b"}]}', 400, "invalid_json", "duplicate object key 'id'"),
            (b'{"now": "2025-12-01\\u0000"}', 400, "invalid_json", "\\u0000"),
            (b'{"floors": ' + b"[" * 100 + b"]" * 100 + b"}", 400, "invalid_json", "body: "),
            (dict(BASE, colour="red"), 400, "unknown_field", "unknown field 'colour'"),
            (dict(BASE, scenario={"pause_streams": []}), 400, "unknown_field", "unknown field 'scenario'"),
            (dict(BASE, horizon=0), 400, "invalid_field", "horizon: expected whole hours in"),
            (dict(BASE, horizon=100000), 400, "invalid_field", "horizon: "),
            (dict(BASE, horizon="24"), 400, "invalid_field", "horizon: "),
            (dict(BASE, horizon=True), 400, "invalid_field", "horizon: "),
            (b'{"horizon": 24.0}', 400, "invalid_field", "horizon: "),
            (b'{"horizon": 2e1}', 400, "invalid_field", "horizon: "),
            (b'{"horizon": 99999999999999999999999}', 400, "invalid_field", "horizon: "),
            (dict(BASE, now=5), 400, "invalid_field", "now: expected a string"),
            (dict(BASE, currency=["USDC"]), 400, "invalid_field", "currency: expected a string"),
            (dict(BASE, floors={"USDC": "1"}), 400, "invalid_field", "floors: expected a string"),
            (dict(BASE, method="magic"), 400, "invalid_field", "method: expected"),
            (dict(BASE, now="x" * 1025), 400, "invalid_field", "now: expected a string"),
            (dict(BASE, now="yesterday"), 400, "invalid_request"),
            (dict(BASE, pause_streams="st-1"), 400, "invalid_request", "pause_streams"),
            (dict(BASE, cancel_transfers=[7]), 400, "invalid_request", "cancel_transfers"),
            (dict(BASE, stream_rates={G["stream"]: "fast"}), 400, "invalid_request", "stream_rates"),
            (dict(BASE, transfers=[{"id": "t-1"}]), 400, "invalid_request", "transfers"),
            (dict(BASE, cancel_transfers=["nope"]), 404, "not_found", "no transfer 'nope'"),
        ]
        for body, status, code, *needles in cases:
            with self.subTest(body=body):
                self.check(body, status, code, *needles)
        r, after = call("POST", "/v1/what-if", G["demo"], dict(BASE, pause_streams=[G["stream"]]))
        self.assertEqual(r.status, 200, after)
        self.assertEqual(without_times(after), without_times(before))
        r, snap = call("GET", "/v1/treasury/snapshot", G["demo"])
        self.assertEqual(r.status, 200, snap)
        snap.pop("generated_at", None)
        want = dict(G["snapshot"])
        want.pop("generated_at", None)
        self.assertEqual(snap, want)

    def test_horizon_beyond_the_tier(self):
        make_tier("short", 1000, 1000, horizon=24)
        k = make_key("demo", "short")
        got, data = raw(json.dumps(dict(BASE, horizon=48)).encode(), k["key"])
        self.assertEqual(got, 403, data)
        err = json.loads(data)["error"]
        self.assertEqual(err["code"], "tier_limit")
        self.assertIn("horizon of 48 hours exceeds max_horizon_hours of tier 'short'", err["message"])
        got, data = raw(json.dumps(dict(BASE, horizon=24)).encode(), k["key"])
        self.assertEqual(got, 200, data)


class PathsReused(unittest.TestCase):
    """method=ml what-ifs of one model share its simulated paths
    (gateway/flowmodels.h): the second re-reads the paths the first kept,
    /metrics counts it, and its answer is the bytes of a node that
    simulates them afresh."""

    REUSED = 'floatcast_flow_paths_total{outcome="reused"}'

    def test_a_second_whatif_rereads_the_first_ones_paths(self):
        first = dict(BASE, method="ml", horizon=96, pause_streams=[G["stream"]])
        second = dict(BASE, method="ml", horizon=96, cancel_transfers=[G["pending"]])
        reused = 0
        for _ in range(20):  # another projection (an alert's) may hold the kept paths: another round
            r, doc = call("POST", "/v1/what-if", G["demo"], first)
            self.assertEqual(r.status, 200, doc)
            before = tm.scrape(G["port"])
            r, kept = call("POST", "/v1/what-if", G["demo"], second)
            self.assertEqual(r.status, 200, kept)
            reused = tm.scrape(G["port"]).get(self.REUSED, 0) - before.get(self.REUSED, 0)
            if reused:
                break
        self.assertGreaterEqual(reused, 1)
        proc, port, _ = tm.spawn(G["db"])
        try:
            before = tm.scrape(port)
            r, fresh = tm.call("POST", "/v1/what-if", G["demo"], second, port=port)
            self.assertEqual(r.status, 200, fresh)
            self.assertEqual(tm.scrape(port).get(self.REUSED, 0), before.get(self.REUSED, 0))
        finally:
            self.assertEqual(tm.stop(proc), 0)
        self.assertEqual(without_times(kept), without_times(fresh))
        self.assertEqual(kept["projection"]["method"], "ml")


if __name__ == "__main__":
    tm.main()
