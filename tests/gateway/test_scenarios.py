#!/usr/bin/python3
"""Saved what-if scenarios over loopback (gateway/scenarios.h,
handlers_scenarios.c), on SQLite or (FC_TEST_DB=postgresql) PostgreSQL.

Checked: create, list (by name), read, rename, replace and delete round
trip with their times; every kind of bad input is a 400 (409 for a name
taken or the per-tenant cap, 404 for an unknown id) and leaves what was
stored as it was; a scenario is judged against the tenant's data as
POST /v1/what-if judges it (an unknown transfer id, a bad amount, an
unknown member); the size and name caps at their boundaries (in bytes and
in characters) and under concurrent saves (one past the cap, one per name); one tenant never sees, changes or deletes another's; the
page's session cookie may use every endpoint (JSON or X-Requested-With for
changes) and its calls are metered under its key; scenarios survive a
restart of the gateway.

Usage: test_scenarios.py --gateway PATH [unittest args]. Stdlib only.
"""
import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwdb  # noqa: E402
import test_metered as tm  # noqa: E402
from test_metered import G, admin, call, make_key, make_tier  # noqa: E402
from test_sessions import open_session, with_cookie  # noqa: E402

BASE = "/v1/treasury/scenarios"
JSON_H = {"Content-Type": "application/json"}


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-scenarios-")
    G["db"] = os.path.join(G["tmp"], "gw.db")
    G["proc"], G["port"], G["demo"] = tm.spawn(G["db"], seed=True)
    make_tier("wide", 100000, 100000)
    G["n"] = 0
    r, snap = call("GET", "/v1/treasury/snapshot", G["demo"])
    assert r.status == 200, snap
    G["pending"] = [t["id"] for t in snap["transfers"] if t["status"] == "pending"]
    G["streams"] = [s["id"] for s in snap["streams"] if s["status"] == "active"]
    G["usdc"] = next(a["id"] for a in snap["accounts"] if a["currency"] == "USDC")


def tearDownModule():
    tm.tearDownModule()


def tenant():
    """A tenant of its own with one USD account (the cap test fills one)."""
    G["n"] += 1
    name = "sc%d" % G["n"]
    r, doc = admin("POST", "/v1/admin/tenants", {"id": name, "name": name})
    assert r.status == 201, doc
    k = make_key(name, "wide")
    r, doc = call("POST", "/v1/accounts", k["key"], [{"tenant_id": name, "id": "op", "currency": "USD",
                                                      "balance_available": "1000.00"}])
    assert r.status == 200, doc
    return name, k


def payment(account, amount="250.00", currency="USD", tid="wi-1"):
    """A scenario of one pending payment out of account (the page's shape)."""
    return {"transfers": [{"id": tid, "from_account_id": account, "to_account_id": "whatif-payee-1",
                           "currency": currency, "amount": amount, "status": "pending",
                           "created_at": "2025-12-01T12:00:00Z", "scheduled_for": "2025-12-02T09:00:00Z"}]}


def listing(key):
    r, doc = call("GET", BASE, key)
    assert r.status == 200, doc
    return doc


class RoundTrip(unittest.TestCase):
    def test_create_list_read_rename_replace_delete(self):
        key = G["demo"]
        sc = {"cancel_transfers": G["pending"][:1], "pause_streams": G["streams"][:1]}
        r, a = call("POST", BASE, key, {"name": "  Payroll early ", "scenario": sc})
        self.assertEqual(r.status, 201, a)
        self.assertRegex(a["id"], r"^sc_[0-9a-f]{24}$")
        self.assertEqual(r.getheader("Location"), BASE + "/" + a["id"])
        self.assertEqual(a["name"], "Payroll early")  # trimmed
        self.assertEqual(a["scenario"], sc)
        self.assertEqual(a["created_at"], a["updated_at"])
        r, b = call("POST", BASE, key, {"name": "Big USDC payment", "scenario": payment(G["usdc"], "1000.000001", "USDC")})
        self.assertEqual(r.status, 201, b)
        self.assertEqual(b["scenario"]["transfers"][0]["amount"], "1000.000001")  # kept exactly
        doc = listing(key)
        self.assertEqual([s["name"] for s in doc["scenarios"]], ["Big USDC payment", "Payroll early"])
        self.assertEqual((doc["count"], doc["limit"]), (2, 100))
        r, got = call("GET", BASE + "/" + a["id"], key)
        self.assertEqual((r.status, got), (200, a))
        self.assertEqual(r.getheader("Cache-Control"), "no-store")
        # Rename: the scenario stays, the name and updated_at change.
        r, ren = call("PUT", BASE + "/" + a["id"], key, {"name": "Payroll a day early"})
        self.assertEqual(r.status, 200, ren)
        self.assertEqual((ren["name"], ren["scenario"], ren["created_at"]), ("Payroll a day early", sc, a["created_at"]))
        self.assertGreaterEqual(ren["updated_at"], a["updated_at"])
        # Replace the scenario only; then both at once.
        r, rep = call("PUT", BASE + "/" + a["id"], key, {"scenario": {"pause_streams": G["streams"][:2]}})
        self.assertEqual(r.status, 200, rep)
        self.assertEqual((rep["name"], rep["scenario"]), ("Payroll a day early", {"pause_streams": G["streams"][:2]}))
        r, both = call("PUT", BASE + "/" + a["id"], key, {"name": "Both", "scenario": sc})
        self.assertEqual((r.status, both["name"], both["scenario"]), (200, "Both", sc))
        # Renaming to its own name is no clash.
        self.assertEqual(call("PUT", BASE + "/" + a["id"], key, {"name": "Both"})[0].status, 200)
        for s in (a, b):
            r, d = call("DELETE", BASE + "/" + s["id"], key)
            self.assertEqual((r.status, d), (200, {"id": s["id"], "deleted": True}))
            for method, body in (("GET", None), ("DELETE", None), ("PUT", {"name": "x"})):
                r, d = call(method, BASE + "/" + s["id"], key, body)
                self.assertEqual((r.status, d["error"]["code"]), (404, "not_found"), (method, d))
        self.assertEqual(listing(key)["count"], 0)

    def test_the_what_if_endpoint_takes_what_was_saved(self):
        """What is stored is a scenario POST /v1/what-if accepts as it is."""
        r, a = call("POST", BASE, G["demo"], {"name": "For what-if", "scenario": payment(G["usdc"], "5.000000", "USDC")})
        self.assertEqual(r.status, 201, a)
        body = dict(a["scenario"], currency="USDC", horizon=48)
        r, wi = call("POST", "/v1/what-if", G["demo"], body)
        self.assertEqual(r.status, 200, wi)
        self.assertEqual(wi["scenario"], a["scenario"])
        self.assertEqual(call("DELETE", BASE + "/" + a["id"], G["demo"])[0].status, 200)


class BadInput(unittest.TestCase):
    def test_every_bad_create_is_a_400_and_stores_nothing(self):
        name, k = tenant()
        key = k["key"]
        good = payment("op")
        r, kept = call("POST", BASE, key, {"name": "Kept", "scenario": good})
        self.assertEqual(r.status, 201, kept)
        big = {"cancel_transfers": ["t-%05d" % i for i in range(1800)]}  # > 16384 bytes as JSON
        self.assertGreater(len(json.dumps(big, separators=(",", ":"))), 16384)
        cases = [
            ("{", "invalid_json"), ("[]", "invalid_json"), ('{"name":"a","name":"b","scenario":{}}', "invalid_json"),
            ({"name": "x", "scenario": good, "tenant": "demo"}, "unknown_field"),
            ({"scenario": good}, "missing_field"), ({"name": "x"}, "missing_field"),
            ({"name": "", "scenario": good}, "invalid_field"), ({"name": "   ", "scenario": good}, "invalid_field"),
            ({"name": 5, "scenario": good}, "invalid_field"), ({"name": None, "scenario": good}, "invalid_field"),
            ({"name": "a\nb", "scenario": good}, "invalid_field"), ({"name": "a\u0000b", "scenario": good}, "invalid_json"),
            ({"name": "x" * 61, "scenario": good}, "invalid_field"),
            ({"name": "é" * 61, "scenario": good}, "invalid_field"),
            ({"name": "x", "scenario": []}, "invalid_field"), ({"name": "x", "scenario": {}}, "invalid_field"),
            ({"name": "x", "scenario": "cancel"}, "invalid_field"),
            ({"name": "x", "scenario": big}, "scenario_too_large"),
            ({"name": "x", "scenario": {"cancel_everything": ["a"]}}, "invalid_scenario"),
            ({"name": "x", "scenario": {"cancel_transfers": ["no-such-transfer"]}}, "invalid_scenario"),
            ({"name": "x", "scenario": {"pause_streams": ["no-such-stream"]}}, "invalid_scenario"),
            ({"name": "x", "scenario": payment("op", amount="12,50")}, "invalid_scenario"),
            ({"name": "x", "scenario": payment("op", amount="1.001")}, "invalid_scenario"),  # USD has 2 decimals
            ({"name": "x", "scenario": payment("op", amount="-5.00")}, "invalid_scenario"),
            ({"name": "x", "scenario": {"stream_rates": {"nope": "0.1"}}}, "invalid_scenario"),
        ]
        for body, code in cases:
            r, doc = call("POST", BASE, key, body, headers=JSON_H)
            self.assertEqual((r.status, doc["error"]["code"]), (400, code), (body if len(str(body)) < 200 else "big", doc))
            self.assertTrue(doc["error"]["message"])
        r, doc = call("POST", BASE + "?x=1", key, {"name": "x", "scenario": good})
        self.assertEqual((r.status, doc["error"]["code"]), (400, "invalid_parameter"))
        self.assertEqual(listing(key)["scenarios"], [kept])  # nothing stored, nothing changed

    def test_boundaries_are_accepted(self):
        _, k = tenant()
        key = k["key"]
        for n in ("x" * 60, "é" * 60, "Zahltag – früh ✓"):  # 60 characters, 120 bytes; other scripts
            r, doc = call("POST", BASE, key, {"name": n, "scenario": payment("op")})
            self.assertEqual((r.status, doc["name"]), (201, n), doc)
        # Rows up to the 16384-byte cap are kept; one row more is refused by size.
        sc = payment("op")
        row = dict(sc["transfers"][0], to_account_id="p")
        sc["transfers"] = [dict(row, id="wi-%d" % i) for i in range(200)]
        while len(json.dumps(sc, separators=(",", ":"))) > 16384:
            sc["transfers"].pop()
        size = len(json.dumps(sc, separators=(",", ":")))
        self.assertGreater(size, 16384 - len(json.dumps(row, separators=(",", ":"))) - 8)
        r, doc = call("POST", BASE, key, {"name": "near the cap", "scenario": sc})
        self.assertEqual(r.status, 201, doc)
        self.assertEqual(doc["scenario"], sc)
        sc["transfers"].append(dict(row, id="wi-999"))
        r, doc = call("POST", BASE, key, {"name": "over the cap", "scenario": sc})
        self.assertEqual((r.status, doc["error"]["code"]), (400, "scenario_too_large"), doc)

    def test_bad_updates_change_nothing(self):
        _, k = tenant()
        key = k["key"]
        r, a = call("POST", BASE, key, {"name": "A", "scenario": payment("op")})
        r, b = call("POST", BASE, key, {"name": "B", "scenario": payment("op", "1.00")})
        self.assertEqual(r.status, 201, b)
        for body, status, code in (({}, 400, "missing_field"), ({"name": ""}, 400, "invalid_field"),
                                   ({"name": "B"}, 409, "name_taken"), ({"name": "C", "scenario": {}}, 400, "invalid_field"),
                                   ({"scenario": {"cancel_transfers": ["nope"]}}, 400, "invalid_scenario"),
                                   ({"name": "C", "extra": 1}, 400, "unknown_field"), ("nope", 400, "invalid_json")):
            r, doc = call("PUT", BASE + "/" + a["id"], key, body)
            self.assertEqual((r.status, doc["error"]["code"]), (status, code), (body, doc))
        r, got = call("GET", BASE + "/" + a["id"], key)
        self.assertEqual(got, a)
        r, doc = call("POST", BASE, key, {"name": "A", "scenario": payment("op")})
        self.assertEqual((r.status, doc["error"]["code"]), (409, "name_taken"))
        r, doc = call("GET", BASE + "?name=A", key)
        self.assertEqual(r.status, 400, doc)
        self.assertEqual(listing(key)["count"], 2)

    def test_per_tenant_cap(self):
        _, k = tenant()
        key = k["key"]
        ids = []
        for i in range(100):
            r, doc = call("POST", BASE, key, {"name": "s%03d" % i, "scenario": payment("op")})
            self.assertEqual(r.status, 201, doc)
            ids.append(doc["id"])
        r, doc = call("POST", BASE, key, {"name": "one too many", "scenario": payment("op")})
        self.assertEqual((r.status, doc["error"]["code"]), (409, "too_many_scenarios"), doc)
        self.assertIn("100", doc["error"]["message"])
        self.assertEqual(listing(key)["count"], 100)
        # Another tenant is not held by this one's cap; a deletion makes room.
        _, other = tenant()
        self.assertEqual(call("POST", BASE, other["key"], {"name": "mine", "scenario": payment("op")})[0].status, 201)
        self.assertEqual(call("DELETE", BASE + "/" + ids[0], key)[0].status, 200)
        self.assertEqual(call("POST", BASE, key, {"name": "now fits", "scenario": payment("op")})[0].status, 201)


    def test_cap_and_names_hold_under_concurrent_saves(self):
        """With 99 kept, 8 saves at once under different names: one fits; 8
        more at once under one free name: one wins (the checks and the write
        are one step: SQLite's writer, PostgreSQL's advisory lock)."""
        _, k = tenant()
        key = k["key"]
        for i in range(98):
            self.assertEqual(call("POST", BASE, key, {"name": "s%03d" % i, "scenario": payment("op")})[0].status, 201)

        def race(names):
            out = []
            ts = [threading.Thread(target=lambda n=n: out.append(
                call("POST", BASE, key, {"name": n, "scenario": payment("op")})[0].status)) for n in names]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            return sorted(out)
        self.assertEqual(race(["same"] * 8), [201] + [409] * 7)
        self.assertEqual(race(["r%d" % i for i in range(8)]), [201] + [409] * 7)
        self.assertEqual(listing(key)["count"], 100)


class Access(unittest.TestCase):
    def test_tenants_are_apart(self):
        _, k1 = tenant()
        _, k2 = tenant()
        r, a = call("POST", BASE, k1["key"], {"name": "Mine", "scenario": payment("op")})
        self.assertEqual(r.status, 201, a)
        for method, body in (("GET", None), ("PUT", {"name": "Theirs"}), ("DELETE", None)):
            r, doc = call(method, BASE + "/" + a["id"], k2["key"], body)
            self.assertEqual(r.status, 404, (method, doc))
        self.assertEqual(listing(k2["key"])["count"], 0)
        # The same name is free in another tenant.
        self.assertEqual(call("POST", BASE, k2["key"], {"name": "Mine", "scenario": payment("op")})[0].status, 201)
        self.assertEqual(listing(k1["key"])["scenarios"], [a])
        self.assertEqual(call("GET", BASE)[0].status, 401)
        self.assertEqual(call("GET", BASE, tm.ADMIN)[0].status, 403)

    def test_session_cookie_uses_every_endpoint_and_is_metered(self):
        name, k = tenant()
        r, _, cookie = open_session(k["key"])
        self.assertEqual(r.status, 201)
        body = {"name": "From the page", "scenario": payment("op")}
        r, doc = with_cookie("POST", BASE, cookie, body)  # no JSON type, no X-Requested-With
        self.assertEqual((r.status, doc["error"]["code"]), (403, "csrf_check"))
        r, a = with_cookie("POST", BASE, cookie, body, JSON_H)
        self.assertEqual(r.status, 201, a)
        r, doc = with_cookie("GET", BASE, cookie)
        self.assertEqual((r.status, doc["scenarios"]), (200, [a]))
        r, doc = with_cookie("GET", BASE + "/" + a["id"], cookie)
        self.assertEqual((r.status, doc), (200, a))
        r, doc = with_cookie("PUT", BASE + "/" + a["id"], cookie, {"name": "Renamed"}, JSON_H)
        self.assertEqual((r.status, doc["name"]), (200, "Renamed"))
        r, doc = with_cookie("DELETE", BASE + "/" + a["id"], cookie)
        self.assertEqual((r.status, doc["error"]["code"]), (403, "csrf_check"))
        r, doc = with_cookie("DELETE", BASE + "/" + a["id"], cookie, headers={"X-Requested-With": "floatcast"})
        self.assertEqual(r.status, 200, doc)
        rows = dict(gwdb.sql(G["db"], "SELECT endpoint || '/' || status_class, sum(calls) FROM usage"
                                      " WHERE key_id = ? GROUP BY 1", (k["id"],)))
        for ep in ("scenario_create", "scenarios_list", "scenario_get", "scenario_update", "scenario_delete"):
            self.assertEqual(rows.get(ep + "/2"), 1, rows)
        # /metrics counts them under their own routes, the table's last ones included
        # (admin_key_create, called by tenant() above, is past the 32 routes once counted).
        # The loop counts a metered answer an instant after the metering
        # writer sent it: poll.
        def text():
            c = http.client.HTTPConnection("127.0.0.1", G["port"], timeout=60)
            c.request("GET", "/metrics")
            t = c.getresponse().read().decode()
            c.close()
            return t
        tm.wait_for("the DELETE counted",
                    lambda: 'floatcast_requests_total{route="scenario_delete",code="2xx"}' in text())
        got = text()
        for route in ("scenario_create", "scenario_delete", "admin_key_create"):
            self.assertIn('floatcast_requests_total{route="%s",code="2xx"}' % route, got)

    def test_z_kept_across_a_restart(self):
        _, k = tenant()
        r, a = call("POST", BASE, k["key"], {"name": "Durable", "scenario": payment("op")})
        self.assertEqual(r.status, 201, a)
        self.assertEqual(tm.stop(G["proc"]), 0)
        G["proc"], G["port"], _ = tm.spawn(G["db"])
        self.assertEqual(listing(k["key"])["scenarios"], [a])
        with open(G["db"] + ".stderr", errors="replace") as f:
            err = f.read()
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)


if __name__ == "__main__":
    tm.main()
