#!/usr/bin/python3
"""Partner insights over loopback: trends, and from/to/partner filters.

Starts floatcast-gateway with an admin key and a temporary SQLite file,
ingests two partners' transactions (a weekly pattern, a holiday spike, two
currencies) and checks: GET /v1/insights/trends reports the weekday peak and
the spike as an anomaly; its "result" equals `floatcast trends --json` on the
same rows under the same filters (from/to as local dates at utc_offset, a
partner, week and month buckets on their calendar grid); segments under
from/to/partner equal `floatcast segment --json` on the same rows; the
revenue forecast's history stays inside the range; bad dates, from after
to, a range beyond the tier's history, an unknown granularity or offset get
a clear 4xx; a tier without "month" gets a 403 naming it.

Usage: test_insights.py --gateway PATH --cli PATH [unittest args]. Stdlib only.
"""
import argparse
import csv
import datetime
import json
import os
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwdb  # noqa: E402
import test_metered as tm  # noqa: E402
import unittest
import urllib.parse

ARGS = None
ADMIN = "test-admin-key-insights-0123"
ENV = dict(os.environ, FLOATCAST_ADMIN_KEY=ADMIN)
G = {}
FIELDS = ["id", "partner_id", "user_id", "action_date", "amount", "transaction_type", "category",
          "currency"]
START = datetime.date(2024, 1, 1)
DAYS = 140


def spawn(db, *flags):
    err = open(db + ".stderr", "ab")
    proc = subprocess.Popen([ARGS.gateway, "--listen", "127.0.0.1:0", "--db", gwdb.arg(db), "--quiet",
                             *flags],
                            stdout=subprocess.PIPE, stderr=err, env=ENV)
    err.close()
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline().decode() if ready else ""
    if not line.startswith("listening on http://127.0.0.1:"):
        proc.kill()
        raise RuntimeError("gateway did not start: %r %s" % (line, open(db + ".stderr").read()))
    return proc, int(line.rsplit(":", 1)[1].strip("/\n"))


def call(method, path, key=None, body=None):
    """test_metered's call (which records the exchange under FC_API_RECORD),
    any body sent as JSON."""
    return tm.call(method, path, key, json.dumps(body) if body is not None else None,
                   port=G["port"], timeout=300)


def rows():
    """Partner p1: twice the purchases on Fridays and six times on Tuesday
    2024-04-02 (the holiday spike), from 09:00 to 22:59 UTC (late ones fall
    on the next local day east of UTC). Partner p2: a small purchase every
    third day. A few EUR rows that currency=USD must leave out."""
    rng = random.Random(17)
    out = []
    for d in range(DAYS):
        day = START + datetime.timedelta(days=d)
        n = 14 if day.weekday() == 4 else 7
        if day == datetime.date(2024, 4, 2):
            n = 42
        for k in range(n):
            hour = 9 + (k * 5) % 14
            out.append({"id": "a%d-%d" % (d, k), "partner_id": "p1", "user_id": "u%d" % rng.randrange(60),
                        "action_date": "%sT%02d:%02d:00Z" % (day.isoformat(), hour, rng.randrange(60)),
                        "amount": "%.2f" % rng.uniform(20, 40), "transaction_type": "purchase",
                        "category": rng.choice(["shop", "food", "travel"]), "currency": "USD"})
        if d % 3 == 0:
            out.append({"id": "b%d" % d, "partner_id": "p2", "user_id": "v%d" % (d % 7),
                        "action_date": day.isoformat() + "T12:00:00Z", "amount": "%.2f" % (10 + d % 5),
                        "transaction_type": "purchase", "category": "shop", "currency": "USD"})
        if d % 10 == 0:
            out.append({"id": "e%d" % d, "partner_id": "p1", "user_id": "u1",
                        "action_date": day.isoformat() + "T12:00:00Z", "amount": "99.00",
                        "transaction_type": "purchase", "category": "shop", "currency": "EUR"})
    return out


def long_day(d):
    """Tenant long: 1000 days from 2023-01-01, two purchases a day, a
    December lift."""
    day = datetime.date(2023, 1, 1) + datetime.timedelta(days=d)
    amount = (30 + d % 7) * (1.5 if day.month == 12 else 1) + d / 100
    return [{"id": "l%d-%d" % (d, k), "partner_id": "p", "user_id": "u%d" % (d % 50),
             "action_date": day.isoformat() + "T%02d:00:00Z" % (8 + 10 * k), "amount": "%.2f" % amount,
             "transaction_type": "purchase", "category": "shop", "currency": "USD"} for k in range(2)]


def cli(*args):
    p = subprocess.run([ARGS.cli, *args], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-insights-")
    G["db"] = os.path.join(G["tmp"], "gw.db")
    G["proc"], G["port"] = spawn(G["db"])
    for t, tier in (("acme", "pro"), ("small", "free"), ("long", "enterprise")):
        r, doc = call("POST", "/v1/admin/tenants", ADMIN, {"id": t, "name": t.title()})
        assert r.status == 201, doc
        r, doc = call("POST", "/v1/admin/keys", ADMIN, {"tenant_id": t, "tier": tier})
        assert r.status == 201, doc
        G[t] = doc["key"]
    data = rows()
    for key in (G["acme"], G["small"]):
        for i in range(0, len(data), 2000):
            r, doc = call("POST", "/v1/transactions", key, data[i:i + 2000])
            assert r.status == 200, doc
    long_rows = [r for d in range(1000) for r in long_day(d)]
    for i in range(0, len(long_rows), 2000):
        r, doc = call("POST", "/v1/transactions", G["long"], long_rows[i:i + 2000])
        assert r.status == 200, doc
    # The same rows as the CLI reads them; its segment command takes one
    # currency, so it gets the USD rows.
    G["csv"] = os.path.join(G["tmp"], "tx.csv")
    G["usd"] = os.path.join(G["tmp"], "usd.csv")
    for path, keep in ((G["csv"], lambda r: True), (G["usd"], lambda r: r["currency"] == "USD")):
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, FIELDS)
            w.writeheader()
            w.writerows(r for r in data if keep(r))


def tearDownModule():
    if G.get("proc") and G["proc"].poll() is None:
        G["proc"].send_signal(signal.SIGTERM)
        G["proc"].wait(timeout=120)
        G["proc"].stdout.close()
    shutil.rmtree(G["tmp"], ignore_errors=True)


def get(path, key=None, status=200):
    r, doc = call("GET", path, key or G["acme"])
    assert r.status == status, (path, r.status, doc)
    return doc


def q(path, **params):
    return path + "?" + urllib.parse.urlencode(params)


class Trends(unittest.TestCase):
    def test_weekday_peak_and_spike(self):
        doc = get(q("/v1/insights/trends", currency="USD", partner="p1"))
        res = doc["result"]
        self.assertEqual(res["seasonality"]["day_of_week"]["peak"], "Friday")
        self.assertIn("2024-04-02", [a["date"] for a in res["anomalies"] if a["direction"] == "above"])
        kinds = [h["kind"] for h in res["highlights"]]
        self.assertIn("weekday_peak", kinds)
        peak = next(h for h in res["highlights"] if h["kind"] == "weekday_peak")
        self.assertEqual(peak["weekday"], "Friday")
        self.assertTrue(peak["text"].startswith("peak on Fridays, +"), peak["text"])
        self.assertEqual(doc["partner"], "p1")

    def test_equals_cli_on_same_rows(self):
        cases = [
            dict(granularity="day", partner="p1", currency="USD", **{"from": "2024-02-01", "to": "2024-04-30"}),
            dict(granularity="week", currency="USD", utc_offset="+09:00", **{"from": "2024-01-10"}),
            dict(granularity="month", currency="USD", utc_offset="-05:00"),
            dict(granularity="day", partner="p1", currency="USD", utc_offset="+05:30",
                 **{"from": "2024-03-01T00:00:00Z", "to": "2024-04-15"}),
        ]
        for params in cases:
            with self.subTest(params=params):
                doc = get(q("/v1/insights/trends", **params))
                args = ["trends", "--input", G["csv"], "--json"]
                for k, v in params.items():
                    args += ["--" + k.replace("_", "-"), v]
                self.assertEqual(doc["result"], cli(*args))

    def test_calendar_grid(self):
        for gran, off in (("week", "+14:00"), ("month", "-11:00"), ("month", "Z")):
            res = get(q("/v1/insights/trends", granularity=gran, currency="USD", utc_offset=off))["result"]
            starts = [datetime.date.fromisoformat(s) for s in res["buckets"]["start"]]
            for a, b in zip(starts, starts[1:]):
                if gran == "week":
                    self.assertEqual((b - a).days, 7)
                    self.assertEqual(a.weekday(), 0)
                else:
                    self.assertEqual(a.day, 1)
                    self.assertEqual((a.month % 12) + 1, b.month)
            self.assertEqual(res["utc_offset_minutes"],
                             0 if off == "Z" else int(off[:3]) * 60 + (1 if off[0] == "+" else -1) * int(off[4:]))

    def test_tier_without_month(self):
        r, doc = call("GET", q("/v1/insights/trends", granularity="month", currency="USD"), G["small"])
        self.assertEqual(r.status, 403, doc)
        self.assertIn("granularity 'month'", doc["error"]["message"])
        self.assertIn("granularities of tier 'free'", doc["error"]["message"])
        get(q("/v1/insights/trends", granularity="week", currency="USD"), G["small"])

    def test_bad_requests(self):
        bad = [
            (dict(granularity="hour"), 400, "granularity: bad value 'hour' (want day, week, month)"),
            (dict(granularity="quarter"), 400, "want day, week, month"),
            ({"from": "2024-02-30"}, 400, "from:"),
            ({"to": "yesterday"}, 400, "to:"),
            ({"from": "2024-03-01", "to": "2024-02-01"}, 400, "from must be before to"),
            ({"from": "2024-03-01", "to": "2024-03-01T00:00:00Z"}, 400, "from must be before to"),
            ({"from": "2020-01-01", "to": "2024-03-01"}, 403, "max_history_days"),
            (dict(utc_offset="+15:00"), 400, "utc_offset"),
            (dict(utc_offset="0100"), 400, "utc_offset"),
            (dict(partner="nobody"), 404, "partner nobody"),
            (dict(history_days="30"), 400, "unknown or repeated parameter 'history_days'"),
            ({"currency": "USD", "from": "2024-01-01", "to": "2024-01-03"}, 422, "complete day buckets"),
        ]
        for params, status, msg in bad:
            with self.subTest(params=params):
                params.setdefault("currency", "USD")
                r, doc = call("GET", q("/v1/insights/trends", **params), G["acme"])
                self.assertEqual(r.status, status, doc)
                self.assertIn(msg, doc["error"]["message"])
        r, doc = call("GET", "/v1/insights/trends", G["acme"])
        self.assertEqual(r.status, 400, doc)
        self.assertIn("several currencies", doc["error"]["message"])
        r, doc = call("GET", q("/v1/insights/trends", currency="USD", **{"from": "2024-01-01"}), G["small"])
        self.assertEqual(r.status, 403, doc)  # 140 days > the free tier's 90
        self.assertIn("range of 140 days exceeds max_history_days", doc["error"]["message"])


class Filters(unittest.TestCase):
    def test_segments_equal_cli(self):
        for params in (dict(partner="p1", **{"from": "2024-02-01", "to": "2024-04-30"}),
                       {"from": "2024-03-15"}):
            with self.subTest(params=params):
                doc = get(q("/v1/insights/segments", currency="USD", include_users=1, **params))
                args = ["segment", "--input", G["usd"], "--json"]
                for k, v in params.items():
                    args += ["--" + k, v]
                self.assertEqual(doc["result"], cli(*args))
                self.assertEqual(doc["partner"], params.get("partner"))
                self.assertEqual(doc["from"], params["from"] + "T00:00:00Z")

    def test_segments_bad_range(self):
        for params, status, msg in (({"from": "2024-13-01"}, 400, "from:"),
                                    ({"from": "2024-03-01", "history_days": "30"}, 400, "pass one"),
                                    ({"from": "2024-04-01", "to": "2024-03-01"}, 400, "before to"),
                                    ({"from": "2023-01-01", "to": "2024-03-01"}, 403, "max_history_days")):
            with self.subTest(params=params):
                r, doc = call("GET", q("/v1/insights/segments", currency="USD", **params), G["acme"])
                self.assertEqual(r.status, status, doc)
                self.assertIn(msg, doc["error"]["message"])

    def test_query_values_from_one_table(self):
        # Every insights route reads its query through one option table
        # (insight_query.c): each kind of bad value is a 400 naming the
        # parameter and what it wants, before any data is read.
        rf, tr, sg = "/v1/insights/revenue-forecast", "/v1/insights/trends", "/v1/insights/segments"
        long_partner = "p" * 256
        bad = [
            (rf, dict(horizon="1e2"), "horizon: want whole steps in 1..100000"),
            (rf, dict(horizon="+5"), "horizon: want whole steps"),
            (rf, dict(horizon="0"), "horizon: want whole steps"),
            (rf, dict(horizon="100001"), "horizon: want whole steps"),
            (rf, dict(history_days="x"), "history_days: want whole days in 1..100000"),
            (sg, dict(include_users="2"), "include_users: want 0 or 1"),
            (tr, dict(currency=""), "currency: want 1..11 characters"),
            (tr, dict(currency="ABCDEFGHIJKLM"), "currency: want 1..11 characters"),
            (tr, dict(partner=long_partner + "x"), "partner: want 1..256 characters"),
            (tr, {"from": ""}, "from: want an ISO 8601 time or a date"),
            (tr, dict(utc_offset="+15:00"), "utc_offset:"),
            (tr, dict(bogus="1"), "unknown or repeated parameter 'bogus'"),
            (tr, dict(horizon="3"), "unknown or repeated parameter 'horizon'"),
        ]
        for path, params, msg in bad:
            with self.subTest(path=path, params=params):
                r, doc = call("GET", q(path, **params), G["acme"])
                self.assertEqual(r.status, 400, doc)
                self.assertIn(msg, doc["error"]["message"])
        r, doc = call("GET", tr + "?currency=USD&currency=EUR", G["acme"])
        self.assertEqual(r.status, 400, doc)
        self.assertIn("unknown or repeated parameter 'currency'", doc["error"]["message"])
        # The longest partner id the core stores is a query value too.
        r, doc = call("GET", q(tr, currency="USD", partner=long_partner), G["acme"])
        self.assertEqual(r.status, 404, doc)
        self.assertIn("partner " + long_partner, doc["error"]["message"])

    def test_revenue_history_inside_range(self):
        doc = get(q("/v1/insights/revenue-forecast", currency="USD", partner="p2", horizon=7,
                    **{"from": "2024-02-01", "to": "2024-04-01"}))
        p2 = sorted(r["action_date"][:10] for r in rows()
                    if r["partner_id"] == "p2" and "2024-02-01" <= r["action_date"][:10] <= "2024-04-01")
        self.assertEqual(doc["history"]["start"], p2[0] + "T00:00:00Z")
        self.assertEqual(doc["history"]["end"], p2[-1] + "T00:00:00Z")
        self.assertEqual(doc["model"]["source"], "refit")
        # a date alone as `to` takes in that whole day
        self.assertEqual((doc["from"], doc["to"]), ("2024-02-01T00:00:00Z", "2024-04-02T00:00:00Z"))
        r, doc = call("GET", q("/v1/insights/revenue-forecast", currency="USD", **{"from": "x"}), G["acme"])
        self.assertEqual(r.status, 400, doc)


def month_days(d):
    nxt = datetime.date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return (nxt - d).days


def parse_at(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


class Revenue(unittest.TestCase):
    def grid(self, doc, gran, offset_min):
        """Every step's local start is on gran's calendar grid, one step
        apart, and its instant is local midnight at the offset."""
        starts = [datetime.date.fromisoformat(p["start"]) for p in doc["forecast"]]
        for p, st in zip(doc["forecast"], starts):
            local_midnight = datetime.datetime(st.year, st.month, st.day, tzinfo=datetime.timezone.utc)
            self.assertEqual(parse_at(p["at"]), local_midnight - datetime.timedelta(minutes=offset_min))
            if gran == "week":
                self.assertEqual(st.weekday(), 0)
            else:
                self.assertEqual(st.day, 1)
                if gran == "quarter":
                    self.assertIn(st.month, (1, 4, 7, 10))
        for a, b in zip(starts, starts[1:]):
            want = 7 if gran == "week" else month_days(a) if gran == "month" else \
                sum(month_days(datetime.date(a.year, a.month + k, 1)) for k in range(3))
            self.assertEqual((b - a).days, want)
        # the history's last bucket is one step before the first forecast
        last = parse_at(doc["history"]["end"]) + datetime.timedelta(minutes=offset_min)
        first = starts[0]
        if gran == "week":
            self.assertEqual((first - last.date()).days, 7)
        else:
            self.assertEqual(first.day, 1)
            self.assertLess(last.date(), first)
        return starts

    def test_calendar_grids(self):
        for gran, h in (("week", 10), ("month", 12), ("quarter", 4)):
            for off in ("Z", "+05:30", "-08:00"):
                with self.subTest(gran=gran, off=off):
                    doc = get(q("/v1/insights/revenue-forecast", granularity=gran, horizon=h, utc_offset=off),
                              G["long"])
                    minutes = 0 if off == "Z" else (1 if off[0] == "+" else -1) * (int(off[1:3]) * 60 + int(off[4:]))
                    self.assertEqual(len(doc["forecast"]), h)
                    self.assertEqual(doc["utc_offset_minutes"], minutes)
                    self.grid(doc, gran, minutes)
                    for p in doc["forecast"]:
                        self.assertTrue(p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"], p)

    def test_local_hour_and_day_buckets(self):
        # Tenant long buys at 08:00Z and 18:00Z every day from 2023-01-01
        # (1000 days). At +09:00 the 18:00Z purchase falls on the next local
        # day: 1001 local days, the first starting 2022-12-31T15:00Z; at
        # -05:00 both fall on their UTC day. Forecast steps are local midnights.
        for off, minutes, start, points in (("+09:00", 540, "2022-12-31T15:00:00Z", 1001),
                                            ("-05:00", -300, "2023-01-01T05:00:00Z", 1000),
                                            ("Z", 0, "2023-01-01T00:00:00Z", 1000)):
            with self.subTest(off=off):
                doc = get(q("/v1/insights/revenue-forecast", granularity="day", horizon=3, utc_offset=off),
                          G["long"])
                self.assertEqual(doc["utc_offset_minutes"], minutes)
                self.assertEqual((doc["history"]["start"], doc["history"]["points"]), (start, points))
                end = parse_at(doc["history"]["end"])
                for i, p in enumerate(doc["forecast"]):
                    at = parse_at(p["at"])
                    self.assertEqual(at - end, datetime.timedelta(days=i + 1))
                    local = at + datetime.timedelta(minutes=minutes)
                    self.assertEqual((local.hour, local.minute), (0, 0))
                if minutes:  # the registry's UTC series is not this one
                    self.assertEqual(doc["model"]["source"], "refit")
        # Hours at +05:30 start at half past the UTC hour.
        doc = get(q("/v1/insights/revenue-forecast", granularity="hour", horizon=5, utc_offset="+05:30",
                    **{"from": "2025-09-01", "to": "2025-09-20"}), G["long"])
        self.assertEqual(doc["history"]["start"], "2025-09-01T07:30:00Z")
        self.assertTrue(all(p["at"].endswith(":30:00Z") for p in doc["forecast"]), doc["forecast"])

    def test_leap_february_and_quarter_ends(self):
        # History through January 2024: the forecast starts on Feb 1 of a
        # leap year, whose month has 29 days.
        doc = get(q("/v1/insights/revenue-forecast", granularity="month", horizon=3,
                    **{"from": "2023-01-01", "to": "2024-02-10"}), G["long"])
        starts = self.grid(doc, "month", 0)
        self.assertEqual(starts[0], datetime.date(2024, 2, 1))
        self.assertEqual((starts[1] - starts[0]).days, 29)
        self.assertEqual(doc["history"]["end"], "2024-01-01T00:00:00Z")
        self.assertEqual(doc["history"]["points"], 13)
        # Through the quarter end 2023-12-31 (a date alone includes the day).
        doc = get(q("/v1/insights/revenue-forecast", granularity="quarter", horizon=4,
                    **{"from": "2023-01-01", "to": "2023-12-31"}), G["long"])
        starts = self.grid(doc, "quarter", 0)
        self.assertEqual(starts, [datetime.date(2024, 1, 1), datetime.date(2024, 4, 1),
                                  datetime.date(2024, 7, 1), datetime.date(2024, 10, 1)])
        self.assertEqual(doc["history"]["points"], 4)
        # A month cut by `from` is left out of the history.
        doc = get(q("/v1/insights/revenue-forecast", granularity="month", horizon=1,
                    **{"from": "2023-01-15", "to": "2023-12-31"}), G["long"])
        self.assertEqual((doc["history"]["start"], doc["history"]["points"]), ("2023-02-01T00:00:00Z", 11))

    def test_model_and_validation(self):
        doc = get(q("/v1/insights/revenue-forecast", granularity="week", horizon=4), G["long"])
        self.assertEqual(doc["levels"], [80, 95])
        self.assertEqual(doc["model"]["source"], "refit")
        members = doc["model"]["validation"]["members"]
        self.assertTrue(members and all("mase" in m and "weight" in m for m in members), members)
        self.assertAlmostEqual(sum(m["weight"] for m in members), 1.0, places=3)

    def test_tier_limits(self):
        for gran in ("month", "quarter"):
            r, doc = call("GET", q("/v1/insights/revenue-forecast", granularity=gran, currency="USD"), G["small"])
            self.assertEqual(r.status, 403, doc)
            self.assertIn("granularity '%s' exceeds granularities of tier 'free'" % gran, doc["error"]["message"])
        r, doc = call("GET", q("/v1/insights/revenue-forecast", granularity="month", horizon=4, currency="USD"),
                      G["acme"])
        self.assertEqual(r.status, 403, doc)
        self.assertIn("horizon of 4 months (2880 hours) exceeds max_horizon_hours of tier 'pro'",
                      doc["error"]["message"])
        for gran, h, msg in (("month", 13, "at most 12 months"), ("quarter", 5, "at most 4 quarters"),
                             ("week", 54, "at most 53 weeks"), ("fortnight", 1, "granularity: bad value")):
            r, doc = call("GET", q("/v1/insights/revenue-forecast", granularity=gran, horizon=h), G["long"])
            self.assertEqual(r.status, 400, doc)
            self.assertIn(msg, doc["error"]["message"])
        r, doc = call("GET", q("/v1/insights/revenue-forecast", granularity="quarter",
                               **{"from": "2024-01-01", "to": "2024-06-01"}), G["long"])
        self.assertEqual(r.status, 422, doc)
        self.assertIn("complete quarter buckets", doc["error"]["message"])

    def test_registry_champion_per_granularity(self):
        r, doc = call("POST", "/v1/models/retrain", G["long"], {"granularity": "month"})
        self.assertEqual(r.status, 202, doc)
        job = doc["job_id"]
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=600)
        while datetime.datetime.now() < deadline:
            r, doc = call("GET", "/v1/models?granularity=month", G["long"])
            last = doc["retraining"]["last"]
            if last and last["job_id"] >= job:
                break
            select.select([], [], [], 0.1)
        series = [x for x in doc["retraining"]["last"]["series"] if x["granularity"] == "month"]
        # ingestion trained the month series already: the retraining keeps
        # or replaces that champion
        self.assertIn(series[0]["outcome"], ("promoted", "kept"), series)
        self.assertTrue(doc["versions"] and all(v["granularity"] == "month" for v in doc["versions"]))
        # The champion covers the endpoint's series of the registry's year.
        f = get(q("/v1/insights/revenue-forecast", granularity="month", horizon=2, history_days=365),
                G["long"])
        self.assertEqual(f["method"], "registry", f["model"])
        self.assertEqual(f["model"]["source"], "champion")
        self.assertIn("mase", f["model"]["metrics"])
        self.grid(f, "month", 0)
        # Another offset is another series: refitted, saying why.
        f = get(q("/v1/insights/revenue-forecast", granularity="month", horizon=2, history_days=365,
                  utc_offset="+03:00"), G["long"])
        self.assertEqual(f["method"], "ensemble")


ROLL_SQL = ("SELECT partner_id, currency, day, transaction_type, n, amount FROM txn_daily"
            " WHERE tenant_id = ? ORDER BY 1, 2, 3, 4")
RAW_SQL = ("SELECT partner_id, currency, (action_date - (((action_date % 86400) + 86400) % 86400)) / 86400"
           " AS day, transaction_type, count(*), sum(amount) FROM transactions WHERE tenant_id = ?"
           " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4")

USER_ROLL_SQL = ("SELECT currency, partner_id, user_id, day, transaction_type, category, n, purchases,"
                 " spend, refund FROM txn_user_daily WHERE tenant_id = ? ORDER BY 1, 2, 3, 4, 5, 6")
BOUGHT = "(amount > 0 AND transaction_type <> 'refund')"
USER_RAW_SQL = ("SELECT currency, partner_id, user_id,"
                " (action_date - (((action_date % 86400) + 86400) % 86400)) / 86400 AS day,"
                " transaction_type, category, count(*),"
                " sum(CASE WHEN " + BOUGHT + " THEN 1 ELSE 0 END),"
                " sum(CASE WHEN " + BOUGHT + " THEN amount ELSE 0 END),"
                " sum(CASE WHEN amount < 0 OR transaction_type = 'refund' THEN abs(amount) ELSE 0 END)"
                " FROM transactions WHERE tenant_id = ? GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6")


def db_query(path, sql, args=()):
    return gwdb.sql(path, sql, args)


def before_rollups(path):
    """A copy of the database a test calls path as it was before the
    rollups' table (its name: the copy's path); PostgreSQL: the database
    itself back at version 2 (migration 3, the rollups, and those after it
    undone: a node applies what is above the highest version), so the next
    start applies them again."""
    if gwdb.is_pg():
        gwdb.sql(path, "DROP TRIGGER txn_rollups_inserted ON transactions;"
                       " DROP TRIGGER txn_rollups_updated ON transactions; DROP FUNCTION txn_rollups_keep();"
                       " DROP FUNCTION txn_local_day(bigint, text); DROP TABLE tenant_time_zones, txn_local_daily;"
                       " DROP FUNCTION txn_bought(bigint, text); DROP FUNCTION txn_refund(bigint, text);"
                       " DROP TABLE txn_user_daily;"
                       " DROP FUNCTION txn_day(bigint); DROP TABLE txn_daily;"
                       " DROP TABLE predictions, prediction_realized, prediction_brier, experiments,"
                       " treasury_scenarios;"
                       " DROP TABLE treasury_settings, webhooks, alerts, webhook_outbox,"
                       " webhook_deliveries;"
                       " DROP TABLE alert_watermarks; DROP SEQUENCE alert_evaluation_tickets;"
                       " DROP TABLE txn_user_daily_versions, txn_user_local_daily;"
                       " DELETE FROM schema_migrations WHERE version >= 3")
        return path
    copy = os.path.join(G["tmp"], "copy.db")
    src, dst = sqlite3.connect(path), sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.execute("DROP TABLE txn_daily")
    dst.execute("DROP TABLE txn_user_daily")
    dst.execute("DROP TABLE txn_user_packs")
    dst.execute("DROP TABLE txn_user_names")
    dst.commit()
    dst.close()
    return copy


class Rollups(unittest.TestCase):
    """txn_daily equals a recomputation from the raw rows after inserts,
    re-sends and updates (amount, day, partner, type, currency), and a file
    from before the table is back-filled."""

    def expect(self, sent):
        """The rollup recomputed in Python from the rows as last sent."""
        agg = {}
        for r in sent.values():
            ts = datetime.datetime.fromisoformat(r["action_date"].replace("Z", "+00:00"))
            day = (ts.date() - datetime.date(1970, 1, 1)).days
            key = (r["partner_id"], r["currency"], day, r["transaction_type"])
            n, a = agg.get(key, (0, 0))
            cents = int(round(float(r["amount"]) * 100))
            agg[key] = (n + 1, a + cents)
        return sorted(k + v for k, v in agg.items())

    def expect_users(self, sent):
        """The per-customer rollup recomputed in Python: count, purchases,
        their sum, refunds' |amount| sum (core/segments' reading)."""
        agg = {}
        for r in sent.values():
            ts = datetime.datetime.fromisoformat(r["action_date"].replace("Z", "+00:00"))
            day = (ts.date() - datetime.date(1970, 1, 1)).days
            key = (r["currency"], r["partner_id"], r["user_id"], day, r["transaction_type"], r["category"])
            cents = int(round(float(r["amount"]) * 100))
            refund = cents < 0 or r["transaction_type"] == "refund"
            bought = not refund and cents > 0
            n, p, sp, rf = agg.get(key, (0, 0, 0, 0))
            agg[key] = (n + 1, p + bought, sp + (cents if bought else 0), rf + (abs(cents) if refund else 0))
        return sorted(k + v for k, v in agg.items())

    def check(self, sent):
        roll = db_query(G["db"], ROLL_SQL, ("roll",))
        self.assertEqual(roll, db_query(G["db"], RAW_SQL, ("roll",)))
        self.assertEqual(roll, self.expect(sent))
        users = db_query(G["db"], USER_ROLL_SQL, ("roll",))
        self.assertEqual(users, db_query(G["db"], USER_RAW_SQL, ("roll",)))
        self.assertEqual(users, self.expect_users(sent))
        if not gwdb.is_pg():  # the day packs segments read (db_user_packs.c): the same rows
            packed = [(c, p, u, d, t, k) + tuple(v) for c, d, p, u, t, k, *v in gwdb.user_packs(G["db"], "roll", 0)]
            self.assertEqual(sorted(packed), users)

    def post(self, rows):
        r, doc = call("POST", "/v1/transactions", G["roll"], rows)
        self.assertEqual(r.status, 200, doc)
        return doc

    def test_rollups_follow_every_change(self):
        r, doc = call("POST", "/v1/admin/tenants", ADMIN, {"id": "roll", "name": "Roll"})
        self.assertEqual(r.status, 201, doc)
        r, doc = call("POST", "/v1/admin/keys", ADMIN, {"tenant_id": "roll", "tier": "pro"})
        G["roll"] = doc["key"]
        rng = random.Random(5)
        sent = {}
        rows = []
        for i in range(3000):
            day = datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(90))
            rows.append({"id": "r%d" % i, "partner_id": rng.choice(["p1", "p2", "p3"]),
                         "user_id": "u%d" % rng.randrange(100),
                         "action_date": "%sT%02d:%02d:00Z" % (day, rng.randrange(24), rng.randrange(60)),
                         "amount": "%.2f" % (rng.uniform(-20, 80)),
                         "transaction_type": rng.choice(["purchase", "refund"]), "category": "c",
                         "currency": rng.choice(["USD", "USD", "EUR"])})
        self.post(rows)
        sent.update((r["id"], r) for r in rows)
        self.check(sent)
        # Re-sent unchanged: nothing moves.
        before = db_query(G["db"], ROLL_SQL, ("roll",))
        doc = self.post(rows[:500])
        self.assertEqual(doc.get("unchanged", 500), 500)
        self.assertEqual(db_query(G["db"], ROLL_SQL, ("roll",)), before)
        # Updates of every kind, some twice in one batch, with new rows among them.
        upd = []
        for i in range(0, 1200, 3):
            r = dict(rows[i])
            k = i % 5
            if k == 0:
                r["amount"] = "%.2f" % (float(r["amount"]) + 1.25)
            elif k == 1:
                r["action_date"] = "2024-06-%02dT08:00:00Z" % (1 + i % 28)
            elif k == 2:
                r["partner_id"] = "p9"
            elif k == 3:
                r["transaction_type"] = "refund" if r["transaction_type"] == "purchase" else "purchase"
            else:
                r["currency"] = "GBP"
            upd.append(r)
        upd.append({**rows[0], "id": "new-1", "action_date": "1969-12-31T23:00:00Z"})  # before 1970
        self.post(upd)
        again = [{**upd[0], "amount": "1.00"}, {**upd[1], "amount": "-3.50", "partner_id": "p1"}]
        self.post(again)  # updated a second time
        for r in upd + again:
            sent[r["id"]] = r
        self.check(sent)
        # One id twice in one batch is refused whole (nothing stored: the
        # PostgreSQL store's one statement per batch relies on it); the same
        # changes as two batches: a new row and its update, an old row
        # updated twice, one sent unchanged twice; the last wins.
        x = {**rows[0], "id": "dup-1", "amount": "2.00"}
        y, z = rows[1500], rows[1501]
        first = [x, {**y, "amount": "11.00"}, z]
        second = [{**x, "amount": "3.00", "user_id": "u7"}, {**y, "amount": "12.00", "category": "d"}, dict(z)]
        r, doc = call("POST", "/v1/transactions", G["roll"], first + second)
        self.assertEqual(r.status, 422, doc)
        self.check(sent)
        doc = self.post(first)
        self.assertEqual((doc["created"], doc["updated"], doc["unchanged"]), (1, 1, 1), doc)
        doc = self.post(second)
        self.assertEqual((doc["created"], doc["updated"], doc["unchanged"]), (0, 2, 1), doc)
        for r in first + second:
            sent[r["id"]] = r
        self.check(sent)
        # A file from before the table: dropped on a copy, back-filled at start.
        copy = before_rollups(G["db"])
        proc, port = spawn(copy, "--no-rollup-reads")
        try:
            self.assertEqual(db_query(copy, ROLL_SQL, ("roll",)), self.expect(sent))
            self.assertEqual(db_query(copy, USER_ROLL_SQL, ("roll",)), self.expect_users(sent))
            if not gwdb.is_pg():
                packed = [(c, p, u, d, t, k) + tuple(v) for c, d, p, u, t, k, *v in gwdb.user_packs(copy, "roll", 0)]
                self.assertEqual(sorted(packed), self.expect_users(sent))
            # Answers from the rollups equal those from the raw rows.
            paths = [q("/v1/insights/trends", granularity=g, currency="USD", **rng_range)
                     for g in ("day", "week") for rng_range in ({}, {"from": "2024-01-10", "to": "2024-03-01"})]
            paths += [q("/v1/insights/revenue-forecast", granularity=g, currency="USD", horizon=2)
                      for g in ("day", "week", "month")]
            # Segments from the per-customer rollups: byte for byte the raw rows' answer.
            paths += [q("/v1/insights/segments", currency=c, include_users=1, **extra)
                      for c, extra in (("USD", {}), ("USD", {"from": "2024-01-10", "to": "2024-03-01"}),
                                       ("USD", {"partner": "p1"}), ("GBP", {}),
                                       ("EUR", {"partner": "p2", "to": "2024-02-15"}))]
            for path in paths:
                with self.subTest(path=path):
                    a = get(path, G["roll"])
                    G["port"], saved = port, G["port"]
                    try:
                        b = get(path, G["roll"])
                    finally:
                        G["port"] = saved
                    if "revenue" in path:
                        # which model answers depends on the retraining
                        # jobs' timing in each gateway; the series may not
                        self.assertEqual((a["history"], a["from"], a["to"]), (b["history"], b["from"], b["to"]))
                        if a["method"] == b["method"] == "ensemble":
                            self.assertEqual(a["forecast"], b["forecast"])
                    else:
                        self.assertEqual(a, b)
            # The rollup answer is read from txn_user_daily (SQLite: its day
            # packs): a change there changes it (a query not asked before,
            # so not cached).
            path = q("/v1/insights/segments", currency="USD", include_users=1, history_days=300)
            a = get(path, G["roll"])
            if gwdb.is_pg():
                db_query(G["db"], "UPDATE txn_user_daily SET spend = spend + 5000000 WHERE tenant_id = 'roll'"
                                  " AND currency = 'USD' AND spend > 0")
            else:  # every other day's pack left out
                con = sqlite3.connect(G["db"], timeout=30)
                kept = con.execute("SELECT * FROM txn_user_packs WHERE tenant_id = 'roll' AND currency = 'USD'"
                                   " AND day % 2 = 0").fetchall()
                con.execute("DELETE FROM txn_user_packs WHERE tenant_id = 'roll' AND currency = 'USD' AND day % 2 = 0")
                con.commit()
            b = get(q("/v1/insights/segments", currency="USD", include_users=1, history_days=299), G["roll"])
            self.assertNotEqual(a["result"]["segments"], b["result"]["segments"])
            if gwdb.is_pg():
                db_query(G["db"], "UPDATE txn_user_daily SET spend = spend - 5000000 WHERE tenant_id = 'roll'"
                                  " AND currency = 'USD' AND spend > 0")
            else:
                con.executemany("INSERT INTO txn_user_packs VALUES (?, ?, ?, ?, ?)", kept)
                con.commit()
                con.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=120), 0)
            proc.stdout.close()


def wait_job(key, job, port, timeout=600):
    """Polls until the key's tenant's registry job `job` has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, doc = tm.call("GET", "/v1/models", key, port=port, timeout=300)
        assert r.status == 200, doc
        if (doc["retraining"]["last"] or {}).get("job_id", 0) >= job:
            return
        time.sleep(0.2)
    raise AssertionError("retraining job %d did not finish in %d s" % (job, timeout))


class KeptSegments(unittest.TestCase):
    """Segments answers kept until the tenant's customer days change
    (gateway/segmemo.h), on two nodes of one database without the answer
    cache: A keeps answers, B keeps none. A kept answer is byte for byte a
    cold one; an ingestion that changes the rows, through A or through B
    (which A cannot hear of), is never answered from the old one; A's
    registry job after its ingestion recomputes the kept answer; re-sent
    unchanged rows keep it. On both engines."""

    def seg(self, path, port):
        r, doc = tm.call("GET", path, G["kept"], port=port, timeout=300)
        self.assertEqual(r.status, 200, doc)
        return doc, r.getheader("X-Segments-Answer")

    def post(self, rows, port):
        r, doc = tm.call("POST", "/v1/transactions", G["kept"], json.dumps(rows), port=port, timeout=300)
        self.assertEqual(r.status, 200, doc)
        return doc

    def test_kept_until_rows_change(self):
        r, doc = call("POST", "/v1/admin/tenants", ADMIN, {"id": "kept", "name": "Kept"})
        self.assertEqual(r.status, 201, doc)
        r, doc = call("POST", "/v1/admin/keys", ADMIN, {"tenant_id": "kept", "tier": "pro"})
        G["kept"] = doc["key"]
        conf = os.path.join(G["tmp"], "nocache.json")
        with open(conf, "w") as f:
            json.dump({"cache_ttl_seconds": 0}, f)
        a, pa = spawn(G["db"], "--config", conf)
        b, pb = spawn(G["db"], "--config", conf, "--segments-memo", "0")
        try:
            self.check(pa, pb)
        finally:
            for proc in (a, b):
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=120), 0)
                proc.stdout.close()

    def check(self, pa, pb):
        rng = random.Random(23)
        rows = [{"id": "k%d" % i, "partner_id": rng.choice(["p1", "p2"]), "user_id": "u%d" % rng.randrange(40),
                 "action_date": "%sT10:00:00Z" % (START + datetime.timedelta(days=rng.randrange(120))),
                 "amount": "%.2f" % rng.uniform(5, 90), "transaction_type": "purchase",
                 "category": rng.choice(["a", "b"]), "currency": "USD"} for i in range(1500)]
        wait_job(G["kept"], self.post(rows, pa)["retrain_job"], pa)
        path = q("/v1/insights/segments", include_users=1)
        first, how = self.seg(path, pa)
        self.assertEqual(how, "computed")
        self.assertEqual(self.seg(path, pa), (first, "kept"))
        self.assertEqual(self.seg(path, pb), (first, "computed"))  # the cold answer
        self.assertEqual(self.seg(q("/v1/insights/segments", include_users=1, partner="p1"), pa)[1], "computed")
        # Re-sent unchanged rows change nothing: still kept.
        self.assertEqual(self.post(rows[:100], pa)["unchanged"], 100)
        self.assertEqual(self.seg(path, pa), (first, "kept"))
        # Changed through B: A does not answer from its kept answer.
        self.assertEqual(self.post([dict(rows[0], amount="900.00"), dict(rows[1], user_id="u-new")], pb)["updated"], 2)
        after, how = self.seg(path, pa)
        self.assertEqual(how, "computed")
        self.assertNotEqual(after["result"], first["result"])
        self.assertEqual(self.seg(path, pb)[0], after)
        # Changed through A: its job after the ingestion recomputes the
        # kept answer before the next request.
        doc = self.post([dict(rows[2], amount="1.00"), dict(rows[3], id="k-new", user_id="u-other")], pa)
        wait_job(G["kept"], doc["retrain_job"], pa)
        last, how = self.seg(path, pa)
        self.assertEqual(how, "kept")
        self.assertNotEqual(last["result"], after["result"])
        self.assertEqual(self.seg(path, pb)[0], last)

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--cli", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest)
