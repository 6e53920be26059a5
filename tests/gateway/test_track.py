#!/usr/bin/python3
"""Forecast vs actual for the page's chart over loopback
(GET /v1/treasury/track, gateway/track.h), on SQLite or
(FC_TEST_DB=postgresql) PostgreSQL.

Checked: a served treasury projection (rule and ml) comes back as recorded
(the served path's p10/p50/p90 per hour, its as-of), every hour's actual
null until transfers close it; after transfers arrive, each closed hour's
actual is the balance the test computes itself (start plus the completed
transfers up to the hour's end); newest projection first and the limit;
every bad parameter a 400; another tenant sees none of it; the page's
session cookie may read it.

Usage: test_track.py --gateway PATH [unittest args]. Stdlib only.
"""
import argparse
import datetime
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_metered as tm  # noqa: E402
from test_metered import G, admin, call, make_key, make_tier  # noqa: E402
from test_performance import ingest_kind, wait_job  # noqa: E402
from test_sessions import open_session, with_cookie  # noqa: E402

T0 = "2025-12-01T12:00:00Z"


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-track-")
    G["db"] = os.path.join(G["tmp"], "gw.db")
    G["proc"], G["port"], _ = tm.spawn(G["db"])
    make_tier("wide", 100000, 100000)
    for t in ("tk", "other"):
        r, doc = admin("POST", "/v1/admin/tenants", {"id": t, "name": t})
        assert r.status == 201, doc
    G["k"] = make_key("tk", "wide")
    G["o"] = make_key("other", "wide")


def tearDownModule():
    tm.tearDownModule()


def tr(tid, at, amount, inflow=False, status="completed", scheduled=None):
    row = {"tenant_id": "tk", "id": tid, "currency": "USD", "amount": "%.2f" % amount, "status": status,
           "created_at": at, "from_account_id": "ext" if inflow else "usd-main",
           "to_account_id": "usd-main" if inflow else "ext"}
    if scheduled:
        row["scheduled_for"] = scheduled
    return row


def track(key, q):
    return call("GET", "/v1/treasury/track?" + q, key)


class Track(unittest.TestCase):
    def test_recorded_then_realized(self):
        key = G["k"]["key"]
        r, doc = call("POST", "/v1/accounts", key, [{"tenant_id": "tk", "id": "usd-main", "currency": "USD",
                                                     "balance_available": "100000.00"}])
        self.assertEqual(r.status, 200, doc)
        doc = ingest_kind(key, "transfers", [
            tr("s-0", "2025-12-01T11:30:00Z", 10, inflow=True),
            tr("big", "2025-12-01T11:00:00Z", 120000, status="pending", scheduled="2025-12-02T12:00:00Z")])
        wait_job(key, doc["retrain_job"])
        r, doc = track(key, "currency=USD")
        self.assertEqual((r.status, doc["count"], doc["projections"]), (200, 0, []), doc)
        served = {}
        for method in ("rule", "ml"):
            r, pj = call("GET", "/v1/reports/treasury/projection?currency=USD&horizon=24&method=" + method, key)
            self.assertEqual(r.status, 200, pj)
            self.assertEqual(pj["as_of"], T0)
            served[method] = pj["currencies"][0]["path"]
            r, doc = track(key, "currency=USD&method=" + method)
            self.assertEqual(r.status, 200, doc)
            self.assertEqual((doc["currency"], doc["method"], doc["count"]), ("USD", method, 1))
            p = doc["projections"][0]
            self.assertEqual((p["as_of"], p["horizon"], p["realized_hours"]), (T0, 24, 0))
            self.assertEqual(len(p["path"]), 24)
            for got, want in zip(p["path"], served[method][1:]):
                self.assertEqual(got["at"], want["at"])
                for q in ("p10", "p50", "p90"):
                    self.assertAlmostEqual(got[q], want[q], places=6, msg=(method, got["at"], q))
                self.assertIsNone(got["actual"])
            self.assertIn("floor", p["recorded"])
        # What happened: the big payment cancelled, two small flows; the newest
        # transfer (12-02 14:30) closes the 24 hours.
        new = [("c-1", "2025-12-01T15:00:00Z", -3000.0), ("c-2", "2025-12-02T08:00:00Z", 500.0),
               ("c-3", "2025-12-02T14:30:00Z", -100.0)]
        doc = ingest_kind(key, "transfers", [tr("big", "2025-12-01T11:00:00Z", 120000, status="cancelled",
                                                scheduled="2025-12-02T12:00:00Z")]
                          + [tr(t, at, abs(a), inflow=a > 0) for t, at, a in new])
        wait_job(key, doc["retrain_job"])
        start = datetime.datetime(2025, 12, 1, 12)
        for method in ("rule", "ml"):
            r, doc = track(key, "currency=USD&method=" + method)
            p = doc["projections"][0]
            self.assertEqual(p["realized_hours"], 24, (method, doc))
            for h, pt in enumerate(p["path"], 1):
                end = (start + datetime.timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ")
                want = 100000.0 + sum(a for _, at, a in new if T0 <= at <= end)
                self.assertAlmostEqual(pt["actual"], want, places=2, msg=(method, end))
        # A newer projection (after the new transfers) comes first; limit 2 shows both.
        r, pj = call("GET", "/v1/reports/treasury/projection?currency=USD&horizon=12&method=rule", key)
        self.assertEqual(r.status, 200, pj)
        r, doc = track(key, "currency=USD&limit=2")
        self.assertEqual([(p["as_of"], p["horizon"]) for p in doc["projections"]],
                         [(pj["as_of"], 12), (T0, 24)])
        self.assertTrue(all(pt["actual"] is None for pt in doc["projections"][0]["path"]))
        # Another tenant sees none of it; the page's cookie reads it.
        r, doc = track(G["o"]["key"], "currency=USD")
        self.assertEqual((r.status, doc["count"]), (200, 0))
        _, _, cookie = open_session(key)
        r, doc = with_cookie("GET", "/v1/treasury/track?currency=USD&method=ml", cookie)
        self.assertEqual((r.status, doc["count"]), (200, 1), doc)

    def test_bad_parameters(self):
        key = G["k"]["key"]
        for q in ("", "currency=usd", "currency=US", "currency=USD&method=arima", "currency=USD&limit=0",
                  "currency=USD&limit=21", "currency=USD&limit=two", "currency=USD&limit=1.5", "currency=USD&limit=+5",
                  "currency=USD&limit=%205", "currency=USD&tenant=other",
                  "currency=USD&currency=EUR", "currency=" + "A" * 70):
            r, doc = track(key, q)
            self.assertEqual((r.status, doc["error"]["code"]), (400, "invalid_parameter"), (q, doc))
        self.assertEqual(call("GET", "/v1/treasury/track?currency=USD")[0].status, 401)


if __name__ == "__main__":
    tm.main()
