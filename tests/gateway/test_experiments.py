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
the box and its report shows both arms. Revenue and cash flow: the served
model against its seasonal-naive baseline, in shadow (both arms recorded,
realized by the actuals that follow, paired in the report; the baseline's
error is the test's own seasonal-naive figure) and in split (each key's arm
from the hash; the baseline answers the challenger's keys), and their
bodies' fixed arms. Deadlines of minutes, polled.

Usage: test_experiments.py --gateway PATH [unittest args]. Stdlib only.
"""
import argparse
import datetime
import hashlib
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_metered as tm  # noqa: E402
from test_metered import G, call, make_key, make_tier, transactions  # noqa: E402
from test_performance import ingest, ingest_kind, wait_job  # noqa: E402


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
        for body in ("{", "[]", dict(good, extra=1), dict(good, kind="sales"), {"kind": "treasury", "mode": "shadow"},
                     dict(good, kind="revenue"), {"kind": "revenue", "champion": "ml", "mode": "shadow"},
                     {"kind": "cash_flow", "challenger": "snaive", "mode": "shadow"},
                     {"kind": "cash_flow", "mode": "split", "share": 1.5}, {"kind": "revenue", "share": 0.5},
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
        # Revenue and cash flow run beside treasury, each with its fixed arms.
        r, doc = call("POST", "/v1/experiments", key, {"kind": "revenue", "mode": "shadow"})
        self.assertEqual(r.status, 201, doc)
        self.assertEqual((doc["kind"], doc["champion"], doc["challenger"]), ("revenue", "registry", "snaive"))
        r, doc = call("POST", "/v1/experiments", key, {"kind": "revenue", "currency": "EUR", "mode": "shadow"})
        self.assertEqual(r.status, 409, doc)
        r, doc = call("POST", "/v1/experiments", key, {"kind": "cash_flow", "champion": "gbdt",
                                                       "challenger": "seasonal", "mode": "split", "share": 0.3})
        self.assertEqual(r.status, 201, doc)
        self.assertEqual((doc["kind"], doc["champion"], doc["challenger"], doc["share"]),
                         ("cash_flow", "gbdt", "seasonal", 0.3))
        r, doc = call("GET", "/v1/experiments", key)
        self.assertEqual(doc["count"], 4)
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


DAY0 = datetime.date(2025, 6, 1)


def daily_revenue(rows):
    out = {}
    for t in rows:
        out[t["action_date"]] = out.get(t["action_date"], 0.0) + float(t["amount"])
    return out


def purchases(tag, amounts):
    return [{"id": "%s-%s-%d" % (tag, day, i), "partner_id": "p1", "user_id": "u1", "action_date": day,
             "amount": "%.2f" % v, "currency": "USD", "transaction_type": "purchase", "category": "food"}
            for day, vals in amounts.items() for i, v in enumerate(vals)]


# Actuals after a 120-day history ending 2025-09-28: 10-04 closes 10-03
# (five realized days, 10-01 at 0) and stays open itself.
ACTUALS = {"2025-09-29": [120.5, 30.25], "2025-09-30": [999.99], "2025-10-02": [10.0, 20.0, 5.5],
           "2025-10-03": [400.0], "2025-10-04": [77.0]}


def flows(name, key):
    """A USD account and 42 daily completed transfers to 2025-11-30T10:30,
    enough for the cash-flow trees at daily steps (28 needed)."""
    def tr(tid, at, amount, inflow=False):
        return {"tenant_id": name, "id": tid, "currency": "USD", "amount": "%.2f" % amount,
                "status": "completed", "created_at": at, "from_account_id": "ext" if inflow else "usd-main",
                "to_account_id": "usd-main" if inflow else "ext"}
    r, doc = call("POST", "/v1/accounts", key, [{"tenant_id": name, "id": "usd-main", "currency": "USD",
                                                 "balance_available": "50000.00"}])
    assert r.status == 200, doc
    start = datetime.datetime(2025, 10, 20, 10, 30)
    hist = [tr("h-%d" % d, (start + datetime.timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ"),
               100 + (d * 37) % 90, inflow=d % 5 == 0) for d in range(42)]
    wait_job(key, ingest_kind(key, "transfers", hist)["retrain_job"])
    return tr


class RevenueAndCashFlow(unittest.TestCase):
    def test_revenue_shadow_pairs_the_served_model_with_seasonal_naive(self):
        name, k = tenant()
        key = k["key"]
        history = transactions(21, days=120)
        wait_job(key, ingest(key, history)["retrain_job"])
        r, exp = call("POST", "/v1/experiments", key, {"kind": "revenue", "currency": "USD", "mode": "shadow"})
        self.assertEqual(r.status, 201, exp)
        url = "/v1/insights/revenue-forecast?horizon=7&granularity=day&currency=USD"
        r, fc = call("GET", url, key)
        self.assertEqual(r.status, 200, fc)
        self.assertEqual(r.getheader("X-Experiment"), "%s; arm=champion; mode=shadow" % exp["id"])
        self.assertEqual(fc["method"], "registry" if fc["model"]["source"] == "champion" else "ensemble")
        # A partner's share is not recorded, so it is outside the experiment.
        r, other = call("GET", url + "&partner=p1", key)
        self.assertEqual(r.status, 200, other)
        self.assertIsNone(r.getheader("X-Experiment"))
        last = wait_job(key, ingest(key, purchases("act", ACTUALS))["retrain_job"])
        self.assertEqual(last["performance"]["realized"], 10, last)  # 5 days, both arms
        r, rep = call("GET", "/v1/experiments/" + exp["id"], key)
        self.assertEqual(r.status, 200, rep)
        champ, chall = rep["arms"]["champion"], rep["arms"]["challenger"]
        self.assertEqual((champ["method"], chall["method"]), ("registry", "snaive"))
        self.assertEqual((champ["predictions"], chall["predictions"]), (1, 1))
        self.assertEqual((champ["realized_hours"], chall["realized_hours"]), (5, 5))
        self.assertEqual((champ["brier_48h_n"], chall["brier_48h_n"]), (0, 0))
        # The served arm's error is the test's own from the answer.
        ae = [abs(sum(ACTUALS.get(p["at"][:10], [])) - p["mean"]) for p in fc["forecast"][:5]]
        self.assertAlmostEqual(champ["mae"], sum(ae) / 5, delta=1e-3)
        # The baseline is seasonal naive: each day's forecast is the same
        # weekday of the history's last week.
        daily = daily_revenue(history)
        last_week = [daily.get((DAY0 + datetime.timedelta(days=113 + i)).isoformat(), 0.0) for i in range(7)]
        days = [(datetime.date(2025, 9, 29) + datetime.timedelta(days=i)).isoformat() for i in range(5)]
        base = [abs(sum(ACTUALS.get(d, [])) - last_week[i]) for i, d in enumerate(days)]
        self.assertAlmostEqual(chall["mae"], sum(base) / 5, delta=1e-6)
        d = rep["difference"]
        self.assertEqual(d["pairs"], 1)
        self.assertAlmostEqual(d["mean"], champ["mae"] - chall["mae"], delta=1e-9)
        self.assertIsNone(d["ci95"])
        # The baseline's record is the performance endpoint's too.
        r, perf = call("GET", "/v1/models/performance?kind=revenue&currency=USD&granularity=day", key)
        rows = [x for x in perf["performance"] if x["model_source"] == "snaive"]
        self.assertEqual(sum(x["n"] for x in rows), 5)

    def test_revenue_split_serves_the_baseline_to_the_challengers_keys(self):
        name, first = tenant()
        keys = [first] + [make_key(name, "wide") for _ in range(5)]
        wait_job(first["key"], ingest(first["key"], transactions(22, days=60))["retrain_job"])
        r, exp = call("POST", "/v1/experiments", first["key"],
                      {"kind": "revenue", "mode": "split", "share": 0.5})
        self.assertEqual(r.status, 201, exp)
        arms = set()
        for k in keys:
            want = arm_of(exp["id"], name, k["id"], 0.5)
            arms.add(want)
            for _ in range(2):
                r, fc = call("GET", "/v1/insights/revenue-forecast?horizon=7&granularity=day&currency=USD", k["key"])
                self.assertEqual(r.status, 200, fc)
                self.assertEqual(r.getheader("X-Experiment"), "%s; arm=%s; mode=split" % (exp["id"], want))
                self.assertIsNone(r.getheader("X-Cache"))
                if want == "challenger":
                    self.assertEqual(fc["model"]["source"], "refit")
                    self.assertEqual([m["name"] for m in fc["model"]["validation"]["members"]], ["snaive"])
                    self.assertIn(exp["id"], fc["model"]["reason"])
                else:
                    self.assertNotIn(exp["id"], fc["model"].get("reason", ""))
        r, rep = call("GET", "/v1/experiments/" + exp["id"], first["key"])
        self.assertEqual((rep["difference"]["pairs"], rep["difference"]["verdict"]),
                         (0, "no paired realized predictions yet"))

    def test_cash_flow_shadow_pairs_the_trees_with_seasonal_quantiles(self):
        name, k = tenant()
        key = k["key"]
        tr = flows(name, key)
        r, exp = call("POST", "/v1/experiments", key, {"kind": "cash_flow", "mode": "shadow"})
        self.assertEqual(r.status, 201, exp)
        r, cf = call("GET", "/v1/insights/cash-flow?granularity=day&horizon=7&currency=USD", key)
        self.assertEqual(r.status, 200, cf)
        self.assertEqual(r.getheader("X-Experiment"), "%s; arm=champion; mode=shadow" % exp["id"])
        self.assertEqual(cf["currencies"][0]["method"], "gbdt")
        new = [("n-1", "2025-11-30T15:00:00Z", 100.0, False), ("n-2", "2025-12-01T12:00:00Z", 250.0, False),
               ("n-3", "2025-12-02T09:00:00Z", 400.0, True), ("n-4", "2025-12-05T20:00:00Z", 60.0, False)]
        last = wait_job(key, ingest_kind(key, "transfers", [tr(*x) for x in new])["retrain_job"])
        self.assertEqual(last["cash_flow_performance"]["realized"], 20, last)  # 5 days x 2 directions x 2 arms
        r, rep = call("GET", "/v1/experiments/" + exp["id"], key)
        self.assertEqual(r.status, 200, rep)
        champ, chall = rep["arms"]["champion"], rep["arms"]["challenger"]
        self.assertEqual((champ["method"], chall["method"]), ("gbdt", "seasonal"))
        self.assertEqual((champ["predictions"], chall["predictions"]), (2, 2))  # out and in
        self.assertEqual((champ["realized_hours"], chall["realized_hours"]), (10, 10))
        self.assertEqual(rep["difference"]["pairs"], 2)
        self.assertIsNotNone(rep["difference"]["ci95"])
        lo, hi = rep["difference"]["ci95"]
        self.assertLessEqual(lo, rep["difference"]["mean"])
        self.assertLessEqual(rep["difference"]["mean"], hi)
        # The trees' arm is what the answer showed: its error from the answer.
        fc = cf["currencies"][0]
        ae = []
        for s in fc["steps"][:5]:
            b = s["start"]
            e = (datetime.datetime.strptime(b, "%Y-%m-%dT%H:%M:%SZ") + datetime.timedelta(days=1)).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
            for field, inflow in (("outflow", False), ("inflow", True)):
                y = sum(a for _, at, a, i in new if i == inflow and b <= at < e)
                ae.append(abs(y - s[field]["p50"]))
        # mean over the two predictions of their 5-step MAE
        out_mae, in_mae = sum(ae[0::2]) / 5, sum(ae[1::2]) / 5
        self.assertAlmostEqual(champ["mae"], (out_mae + in_mae) / 2, delta=0.01)
        r, perf = call("GET", "/v1/models/performance?currency=USD&granularity=day", key)
        self.assertEqual(sum(x["n"] for x in perf["performance"] if x["model_source"] == "seasonal"), 10)


    def test_cash_flow_split_serves_the_seasonal_quantiles_to_the_challengers_keys(self):
        name, first = tenant()
        keys = [first] + [make_key(name, "wide") for _ in range(5)]
        flows(name, first["key"])
        r, exp = call("POST", "/v1/experiments", first["key"],
                      {"kind": "cash_flow", "currency": "USD", "mode": "split", "share": 0.5})
        self.assertEqual(r.status, 201, exp)
        for k in keys:
            want = arm_of(exp["id"], name, k["id"], 0.5)
            for _ in range(2):
                r, cf = call("GET", "/v1/insights/cash-flow?granularity=day&horizon=7", k["key"])
                self.assertEqual(r.status, 200, cf)
                self.assertEqual(r.getheader("X-Experiment"), "%s; arm=%s; mode=split" % (exp["id"], want))
                self.assertIsNone(r.getheader("X-Cache"))
                fc = cf["currencies"][0]
                self.assertEqual(fc["method"], "seasonal" if want == "challenger" else "gbdt")
                self.assertEqual(exp["id"] in fc["message"], want == "challenger")


# Last (classes run by name): SIGTERM, exit 0, no sanitizer report.
ZShutdown = tm.ZShutdown


if __name__ == "__main__":
    tm.main()
