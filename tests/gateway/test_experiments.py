#!/usr/bin/python3
"""A/B experiments between treasury projection methods, over loopback
(gateway/experiments.h, handlers_experiments.c).

Checked: every bad experiment body is a 400 and a second experiment on the
same projections a 409; in shadow mode the champion answers (X-Experiment
names the arm) while the challenger's projection is recorded, so once
transfers arrive the report shows both arms realized over the same hours
and the pair's difference; in split mode each key's arm is the one the
test derives from SHA-256(experiment/tenant/key) and share, stable across
calls and never cached across keys; a request that names its method is
outside the experiment; the demo tenant runs rule vs ml in shadow out of
the box and its report shows both arms. Deadlines of minutes, polled.

Usage: test_experiments.py --gateway PATH [unittest args]. Stdlib only.
"""
import argparse
import hashlib
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_metered as tm  # noqa: E402
from test_metered import G, call, make_key, make_tier  # noqa: E402
from test_performance import ingest_kind, wait_job  # noqa: E402


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-exp-")
    G["db"] = os.path.join(G["tmp"], "gw.db")
    G["proc"], G["port"], G["demo"] = tm.spawn(G["db"], seed=True)
    make_tier("wide", 100000, 100000)
    G["n"] = 0


def tearDownModule():
    tm.tearDownModule()


def tenant():
    G["n"] += 1
    name = "ex%d" % G["n"]
    r, doc = call("POST", "/v1/admin/tenants", tm.ADMIN, {"id": name, "name": name})
    assert r.status == 201, doc
    return name, make_key(name, "wide")


def treasury(name, key):
    """One USD account, a settled transfer (now = 2025-12-01T12:00) and a
    pending payment that breaks the 0 floor at 24 h."""
    def tr(tid, at, amount, inflow=False, status="completed", scheduled=None):
        row = {"tenant_id": name, "id": tid, "currency": "USD", "amount": "%.2f" % amount, "status": status,
               "created_at": at, "from_account_id": "ext" if inflow else "usd-main",
               "to_account_id": "usd-main" if inflow else "ext"}
        if scheduled:
            row["scheduled_for"] = scheduled
        return row
    r, doc = call("POST", "/v1/accounts", key, [{"tenant_id": name, "id": "usd-main", "currency": "USD",
                                                 "balance_available": "100000.00"}])
    assert r.status == 200, doc
    doc = ingest_kind(key, "transfers", [
        tr("s-0", "2025-12-01T11:30:00Z", 10, inflow=True),
        tr("big", "2025-12-01T11:00:00Z", 120000, status="pending", scheduled="2025-12-02T12:00:00Z")])
    wait_job(key, doc["retrain_job"])
    return tr


def arm_of(exp_id, tenant_id, key_id, share):
    d = hashlib.sha256(("%s/%s/%s" % (exp_id, tenant_id, key_id)).encode()).digest()
    return "challenger" if (int.from_bytes(d[:8], "big") >> 11) / 2.0 ** 53 < share else "champion"


class Experiments(unittest.TestCase):
    def test_bad_bodies_and_conflicts(self):
        _, k = tenant()
        key = k["key"]
        good = {"kind": "treasury", "challenger": "ml", "mode": "shadow"}
        for body in ("{", "[]", dict(good, extra=1), dict(good, kind="revenue"), {"kind": "treasury", "mode": "shadow"},
                     dict(good, challenger="arima"), dict(good, champion="ml"), dict(good, mode="canary"),
                     dict(good, mode="split"), dict(good, mode="split", share=1), dict(good, mode="split", share=0),
                     dict(good, mode="split", share="0.5"), dict(good, share=0.5), dict(good, currency="usd"),
                     dict(good, currency=5)):
            r, doc = call("POST", "/v1/experiments", key, body)
            self.assertEqual(r.status, 400, (body, doc))
        r, doc = call("GET", "/v1/experiments", key)
        self.assertEqual(doc["count"], 0)
        r, doc = call("POST", "/v1/experiments", key, dict(good, currency="EUR"))
        self.assertEqual(r.status, 201, doc)
        self.assertRegex(doc["id"], r"^exp_[0-9a-f]{24}$")
        for body in (dict(good, currency="EUR"), good):  # EUR again; all currencies overlaps EUR
            r, doc = call("POST", "/v1/experiments", key, body)
            self.assertEqual(r.status, 409, (body, doc))
        r, doc = call("POST", "/v1/experiments", key, dict(good, currency="USD", mode="split", share=0.2))
        self.assertEqual(r.status, 201, doc)
        r, doc = call("GET", "/v1/experiments/exp_nope", key)
        self.assertEqual(r.status, 404, doc)
        r, doc = call("GET", "/v1/experiments")
        self.assertEqual(r.status, 401)

    def test_shadow_records_the_challenger_and_reports_both_arms(self):
        name, k = tenant()
        key = k["key"]
        tr = treasury(name, key)
        r, exp = call("POST", "/v1/experiments", key,
                      {"kind": "treasury", "champion": "rule", "challenger": "ml", "mode": "shadow"})
        self.assertEqual(r.status, 201, exp)
        r, pj = call("GET", "/v1/reports/treasury/projection?currency=USD&horizon=48", key)
        self.assertEqual(r.status, 200, pj)
        self.assertEqual(pj["method"], "rule")  # the champion answers
        self.assertEqual(r.getheader("X-Experiment"), "%s; arm=champion; mode=shadow" % exp["id"])
        r, other = call("GET", "/v1/reports/treasury/projection?currency=USD&horizon=48&method=gbdt", key)
        self.assertIsNone(r.getheader("X-Experiment"))  # a named method is outside the experiment
        doc = ingest_kind(key, "transfers", [tr("c-1", "2025-12-01T15:00:00Z", 3000),
                                             tr("c-2", "2025-12-03T12:30:00Z", 100)])
        wait_job(key, doc["retrain_job"])
        r, rep = call("GET", "/v1/experiments/" + exp["id"], key)
        self.assertEqual(r.status, 200, rep)
        self.assertEqual(rep["experiment"]["id"], exp["id"])
        champ, chall = rep["arms"]["champion"], rep["arms"]["challenger"]
        self.assertEqual((champ["method"], chall["method"]), ("rule", "ml"))
        self.assertEqual((champ["predictions"], chall["predictions"]), (1, 1))   # ml recorded in the shadow
        self.assertEqual((champ["realized_hours"], chall["realized_hours"]), (48, 48))
        self.assertEqual(rep["difference"]["pairs"], 1)
        self.assertAlmostEqual(rep["difference"]["mean"], champ["mae"] - chall["mae"], delta=1e-6)
        self.assertFalse(rep["difference"]["significant"])  # one pair: no interval
        # The rule's and ml's own figures agree with the performance endpoint.
        r, perf = call("GET", "/v1/models/performance?kind=treasury_ml&currency=USD", key)
        rows = perf["performance"]
        n = sum(x["n"] for x in rows)
        self.assertEqual(n, 48)
        mae = sum(x["mae"] * x["n"] for x in rows) / n
        self.assertAlmostEqual(mae, chall["mae"], delta=1e-6)
        self.assertEqual(champ["brier_48h_n"], 1)

    def test_split_arm_is_the_stable_hash_of_the_key(self):
        name, first = tenant()
        keys = [first] + [make_key(name, "wide") for _ in range(5)]
        treasury(name, first["key"])
        r, exp = call("POST", "/v1/experiments", first["key"],
                      {"kind": "treasury", "champion": "rule", "challenger": "ml", "mode": "split", "share": 0.5})
        self.assertEqual(r.status, 201, exp)
        arms = set()
        for k in keys:
            want = arm_of(exp["id"], name, k["id"], 0.5)
            arms.add(want)
            for _ in range(2):  # stable, and never a cached answer of another key's arm
                r, pj = call("GET", "/v1/reports/treasury/projection?currency=USD&horizon=24", k["key"])
                self.assertEqual(r.status, 200, pj)
                self.assertEqual(r.getheader("X-Experiment"), "%s; arm=%s; mode=split" % (exp["id"], want))
                self.assertEqual(pj["method"], "ml" if want == "challenger" else "rule")
                self.assertIsNone(r.getheader("X-Cache"))

    def test_demo_runs_rule_vs_ml_out_of_the_box(self):
        r, doc = call("GET", "/v1/experiments", G["demo"])
        self.assertEqual(r.status, 200, doc)
        self.assertEqual(doc["count"], 1)
        exp = doc["experiments"][0]
        self.assertEqual((exp["kind"], exp["champion"], exp["challenger"], exp["mode"], exp["currency"]),
                         ("treasury", "rule", "ml", "shadow", None))
        r, pj = call("GET", "/v1/reports/treasury/projection", G["demo"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("X-Experiment"), "%s; arm=champion; mode=shadow" % exp["id"])
        r, rep = call("GET", "/v1/experiments/" + exp["id"], G["demo"])
        self.assertEqual(r.status, 200, rep)
        self.assertEqual(sorted(rep["arms"]), ["challenger", "champion"])
        self.assertEqual(rep["arms"]["champion"]["method"], "rule")
        self.assertEqual(rep["arms"]["challenger"]["method"], "ml")
        self.assertIn("verdict", rep["difference"])


class ZShutdown(unittest.TestCase):
    def test_zz_clean_exit(self):
        self.assertEqual(tm.stop(G["proc"]), 0)
        with open(G["db"] + ".stderr", errors="replace") as f:
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
