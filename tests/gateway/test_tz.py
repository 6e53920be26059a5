#!/usr/bin/python3
"""A tenant's time zone over loopback, and quarter models.

Starts floatcast-gateway with an admin key and a temporary database (SQLite,
or PostgreSQL under FC_TEST_DB=postgresql) and checks:
- PUT/GET /v1/admin/tenants/{id}/time-zone: every kind of bad input is a
  clear 4xx and stores nothing;
- Europe/Berlin, a DST-crossing week each way: trends and day forecasts are
  of local days (29 March 2026 has 23 hours of revenue, 25 October 25),
  from/to dates are local midnights, the forecast's instants are local
  midnights; the local-day rollups equal a recomputation in Python
  (zoneinfo) after inserts, re-sends and updates, and after a zone change;
- Asia/Kathmandu (+05:45): rows 5 minutes either side of local midnight
  fall on their local days, hour buckets start at :15 UTC, utc_offset
  overrides the zone, and the retraining job trains the local series (the
  endpoint then serves its champion);
- quarter: ~2.7 years of daily data train a quarter champion that a
  history_days=1096 request is served from.

Usage: test_tz.py --gateway PATH [unittest args]. Stdlib only.
"""
import argparse
import datetime
import http.client
import json
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwdb  # noqa: E402
import test_metered as tm  # noqa: E402

ARGS = None
ADMIN = "test-admin-key-tz-0123456789"
ENV = dict(os.environ, FLOATCAST_ADMIN_KEY=ADMIN)
G = {}
UTC = datetime.timezone.utc


def spawn(db, *flags):
    err = open(db + ".stderr", "ab")
    proc = subprocess.Popen([ARGS.gateway, "--listen", "127.0.0.1:0", "--db", gwdb.arg(db), "--quiet", *flags],
                            stdout=subprocess.PIPE, stderr=err, env=ENV)
    err.close()
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline().decode() if ready else ""
    if not line.startswith("listening on http://127.0.0.1:"):
        proc.kill()
        raise RuntimeError("gateway did not start: %r %s" % (line, open(db + ".stderr").read()))
    return proc, int(line.rsplit(":", 1)[1].strip("/\n"))


def call(method, path, key=None, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    return tm.call(method, path, key, data, port=G["port"], timeout=300)


def q(path, **params):
    return path + "?" + urllib.parse.urlencode(params)


def get(path, key, status=200):
    r, doc = call("GET", path, key)
    assert r.status == status, (path, r.status, doc)
    return doc


def iso(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_midnight(day, zone):
    """The instant local day `day` (a date) begins in zone."""
    return iso(datetime.datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo(zone)))


def tenant(name, tier, zone=None):
    r, doc = call("POST", "/v1/admin/tenants", ADMIN, {"id": name, "name": name.title()})
    assert r.status == 201, doc
    r, doc = call("POST", "/v1/admin/keys", ADMIN, {"tenant_id": name, "tier": tier})
    assert r.status == 201, doc
    G[name] = doc["key"]
    if zone:
        r, doc = call("PUT", "/v1/admin/tenants/%s/time-zone" % name, ADMIN, {"time_zone": zone})
        assert r.status == 200, doc


def post(key, rows):
    job = 0
    for i in range(0, len(rows), 2000):
        r, doc = call("POST", "/v1/transactions", key, rows[i:i + 2000])
        assert r.status == 200, doc
        job = doc["retrain_job"]
    return job


def row(rid, at, amount, partner="p1", ttype="purchase"):
    return {"id": rid, "partner_id": partner, "user_id": "u" + rid[-1], "action_date": iso(at),
            "amount": "%.2f" % amount, "transaction_type": ttype, "category": "c", "currency": "EUR"}


def hourly(prefix, start, days):
    """One 1.00 purchase every UTC hour: a local day's revenue is its hours."""
    t0 = datetime.datetime(start.year, start.month, start.day, tzinfo=UTC)
    return [row("%s%d" % (prefix, h), t0 + datetime.timedelta(hours=h), 1.0) for h in range(days * 24)]


def local_sums(rows, zone):
    """Revenue per local date (ISO string) in cents, as the rows were last sent."""
    z = zoneinfo.ZoneInfo(zone)
    out = {}
    for r in rows:
        t = datetime.datetime.fromisoformat(r["action_date"].replace("Z", "+00:00")).astimezone(z)
        d = t.date().isoformat()
        out[d] = out.get(d, 0) + int(round(float(r["amount"]) * 100))
    return out


def rollup_expected(rows, zone):
    z = zoneinfo.ZoneInfo(zone)
    agg = {}
    for r in rows:
        t = datetime.datetime.fromisoformat(r["action_date"].replace("Z", "+00:00")).astimezone(z)
        day = (t.date() - datetime.date(1970, 1, 1)).days
        k = (r["partner_id"], r["currency"], day, r["transaction_type"])
        n, a = agg.get(k, (0, 0))
        agg[k] = (n + 1, a + int(round(float(r["amount"]) * 100)))
    return sorted(k + v for k, v in agg.items())


def rollup_rows(name):
    return gwdb.sql(G["db"], "SELECT partner_id, currency, day, transaction_type, n, amount FROM txn_local_daily"
                             " WHERE tenant_id = ? ORDER BY partner_id, currency, day, transaction_type", (name,))


def user_rollup_expected(rows, zone):
    """txn_user_local_daily as core/segments folds the rows: per (currency,
    local day, partner, user, type, category) the count, purchases, their
    spend and the refunds' |amount|, in cents."""
    z = zoneinfo.ZoneInfo(zone)
    agg = {}
    for r in rows:
        t = datetime.datetime.fromisoformat(r["action_date"].replace("Z", "+00:00")).astimezone(z)
        day = (t.date() - datetime.date(1970, 1, 1)).days
        k = (r["currency"], day, r["partner_id"], r["user_id"], r["transaction_type"], r["category"])
        a = cents(r["amount"])
        refund = a < 0 or r["transaction_type"] == "refund"
        bought = not refund and a > 0
        n, p, s, f = agg.get(k, (0, 0, 0, 0))
        agg[k] = (n + 1, p + bought, s + (a if bought else 0), f + (abs(a) if refund else 0))
    return sorted(k + v for k, v in agg.items())


def user_rollup_rows(name):
    return sorted(tuple(r) for r in gwdb.sql(
        G["db"], "SELECT currency, day, partner_id, user_id, transaction_type, category, n, purchases, spend, refund"
                 " FROM txn_user_local_daily WHERE tenant_id = ?", (name,)))


def raw_get(port, path, key):
    """Status, X-Segments-Answer and the body's bytes as sent."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    c.request("GET", path, headers={"Authorization": "Bearer " + key})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("X-Segments-Answer"), data


def jobs_idle(key):
    """Polls until the tenant's retraining jobs (whose first step replays
    its kept segments requests) have all run."""
    end = time.time() + 600
    while time.time() < end:
        r = get("/v1/models", key)["retraining"]
        if r["running"] is None and r["queued"] is None:
            return
        time.sleep(0.2)
    raise AssertionError("retraining still busy after 600 s")


def cents(s):
    whole, _, frac = s.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int((frac + "00")[:2]))


def trend_buckets(doc):
    b = doc["result"]["buckets"]
    return {d: cents(v) for d, v in zip(b["start"], b["revenue"])}


def setUpModule():
    G["tmp"] = tempfile.mkdtemp(prefix="fc-gw-tz-")
    G["db"] = os.path.join(G["tmp"], "gw.db")
    G["proc"], G["port"] = spawn(G["db"])
    # Berlin: five weeks around the spring change, three around the autumn one.
    tenant("ber", "pro", "Europe/Berlin")
    G["ber_rows"] = hourly("s", datetime.date(2026, 3, 9), 35) + hourly("a", datetime.date(2026, 10, 12), 21)
    post(G["ber"], G["ber_rows"])


def tearDownModule():
    if G.get("proc") and G["proc"].poll() is None:
        G["proc"].send_signal(signal.SIGTERM)
        G["proc"].wait(timeout=120)
        G["proc"].stdout.close()
    shutil.rmtree(G["tmp"], ignore_errors=True)


class ZoneApi(unittest.TestCase):
    def test_bad_zones_are_refused_and_store_nothing(self):
        tenant("api", "pro")
        path = "/v1/admin/tenants/api/time-zone"
        self.assertEqual(get(path, ADMIN), {"tenant_id": "api", "time_zone": "UTC", "utc_offset_minutes": 0})
        for body, raw, code, words in (
                ({"time_zone": "Mars/Olympus_Mons"}, None, 400, "unknown time zone 'Mars/Olympus_Mons'"),
                ({"time_zone": "../../etc/passwd"}, None, 400, "not a time zone name"),
                ({"time_zone": "Europe"}, None, 400, "unknown time zone"),
                ({"time_zone": ""}, None, 400, "not a time zone name"),
                ({"time_zone": 5}, None, 400, "time_zone: expected"),
                ({}, None, 400, "time_zone: expected"),
                ({"time_zone": "Europe/Berlin", "colour": 1}, None, 400, "unknown field 'colour'"),
                (None, "{not json", 400, "body"),
                (None, "[\"Europe/Berlin\"]", 400, "expected a JSON object")):
            r, doc = call("PUT", path, ADMIN, body, raw)
            self.assertEqual(r.status, code, (body, raw, doc))
            self.assertIn(words, doc["error"]["message"], (body, raw))
        self.assertEqual(get(path, ADMIN)["time_zone"], "UTC")
        r, doc = call("PUT", "/v1/admin/tenants/nobody/time-zone", ADMIN, {"time_zone": "Europe/Berlin"})
        self.assertEqual(r.status, 404, doc)
        r, doc = call("GET", "/v1/admin/tenants/nobody/time-zone", ADMIN)
        self.assertEqual(r.status, 404, doc)
        r, doc = call("PUT", path, G["api"], {"time_zone": "Europe/Berlin"})
        self.assertIn(r.status, (401, 403), doc)
        r, doc = call("PUT", path, None, {"time_zone": "Europe/Berlin"})
        self.assertEqual(r.status, 401, doc)
        r, doc = call("PUT", path, ADMIN, {"time_zone": "Asia/Kathmandu"})
        self.assertEqual((r.status, doc["time_zone"], doc["utc_offset_minutes"]), (200, "Asia/Kathmandu", 345))
        self.assertEqual(get(path, ADMIN)["time_zone"], "Asia/Kathmandu")


class Berlin(unittest.TestCase):
    def check_range(self, start, end, short_or_long_day, hours):
        doc = get(q("/v1/insights/trends", granularity="day", **{"from": start.isoformat(), "to": end.isoformat()}),
                  G["ber"])
        self.assertEqual(doc["time_zone"], "Europe/Berlin")
        self.assertEqual(doc["from"], local_midnight(start, "Europe/Berlin"))
        self.assertEqual(doc["to"], local_midnight(end + datetime.timedelta(days=1), "Europe/Berlin"))
        want = {d: v for d, v in local_sums(G["ber_rows"], "Europe/Berlin").items()
                if start.isoformat() <= d <= end.isoformat()}
        self.assertEqual(trend_buckets(doc), want)
        self.assertEqual(want[short_or_long_day], hours * 100)

    def test_a_dst_weeks_are_local_days(self):
        self.check_range(datetime.date(2026, 3, 9), datetime.date(2026, 4, 12), "2026-03-29", 23)
        self.check_range(datetime.date(2026, 10, 12), datetime.date(2026, 11, 1), "2026-10-25", 25)

    def test_b_day_forecast_steps_are_local_midnights(self):
        doc = get(q("/v1/insights/revenue-forecast", granularity="day", horizon=3,
                    **{"from": "2026-03-09", "to": "2026-03-28"}), G["ber"])
        self.assertEqual(doc["time_zone"], "Europe/Berlin")
        self.assertEqual(doc["history"]["start"], local_midnight(datetime.date(2026, 3, 9), "Europe/Berlin"))
        self.assertEqual(doc["history"]["end"], local_midnight(datetime.date(2026, 3, 28), "Europe/Berlin"))
        self.assertEqual(doc["history"]["points"], 20)
        # The steps cross the change: 23:00 UTC, then 22:00 UTC.
        self.assertEqual([p["at"] for p in doc["forecast"]],
                         [local_midnight(datetime.date(2026, 3, 29) + datetime.timedelta(days=i), "Europe/Berlin")
                          for i in range(3)])
        self.assertEqual(doc["forecast"][0]["at"], "2026-03-28T23:00:00Z")
        self.assertEqual(doc["forecast"][1]["at"], "2026-03-29T22:00:00Z")

    def test_c_rollups_follow_changes_and_zone(self):
        self.assertEqual(rollup_rows("ber"), rollup_expected(G["ber_rows"], "Europe/Berlin"))
        rows = {r["id"]: r for r in G["ber_rows"]}
        # Re-sent unchanged: nothing moves.
        before = rollup_rows("ber")
        r, doc = call("POST", "/v1/transactions", G["ber"], G["ber_rows"][:300])
        self.assertEqual((r.status, doc["unchanged"]), (200, 300), doc)
        self.assertEqual(rollup_rows("ber"), before)
        # Updates: across local midnight both ways, amounts, partner, type.
        upd = []
        for i, rid in enumerate(["s455", "s456", "s480", "s500", "s510", "a300"]):
            x = dict(rows[rid])
            t = datetime.datetime.fromisoformat(x["action_date"].replace("Z", "+00:00"))
            if i % 3 == 0:
                x["action_date"] = iso(t + datetime.timedelta(minutes=30))
                x["amount"] = "7.25"
            elif i % 3 == 1:
                x["action_date"] = iso(t - datetime.timedelta(hours=1, minutes=1))
                x["partner_id"] = "p2"
            else:
                x["transaction_type"] = "refund"
                x["amount"] = "-1.00"
            upd.append(x)
            rows[rid] = x
        upd.append(row("new1", datetime.datetime(2026, 3, 28, 23, 59, tzinfo=UTC), 3.5))
        rows["new1"] = upd[-1]
        r, doc = call("POST", "/v1/transactions", G["ber"], upd)
        self.assertEqual((r.status, doc["updated"], doc["created"]), (200, 6, 1), doc)
        G["ber_rows"] = list(rows.values())
        self.assertEqual(rollup_rows("ber"), rollup_expected(G["ber_rows"], "Europe/Berlin"))
        # The answers read the changed rows in their local days.
        doc = get(q("/v1/insights/trends", granularity="day", **{"from": "2026-03-09", "to": "2026-04-12"}), G["ber"])
        want = {d: v for d, v in local_sums(G["ber_rows"], "Europe/Berlin").items() if "2026-03-09" <= d <= "2026-04-12"}
        self.assertEqual(trend_buckets(doc), want)
        # Another zone: the rollups are re-summed in its local days, and the answers follow.
        r, doc = call("PUT", "/v1/admin/tenants/ber/time-zone", ADMIN, {"time_zone": "America/New_York"})
        self.assertEqual(r.status, 200, doc)
        self.assertEqual(rollup_rows("ber"), rollup_expected(G["ber_rows"], "America/New_York"))
        doc = get(q("/v1/insights/trends", granularity="day", **{"from": "2026-03-09", "to": "2026-04-12"}), G["ber"])
        self.assertEqual(doc["time_zone"], "America/New_York")
        want = {d: v for d, v in local_sums(G["ber_rows"], "America/New_York").items() if "2026-03-09" <= d <= "2026-04-12"}
        self.assertEqual(trend_buckets(doc), want)
        self.assertEqual(doc["from"], "2026-03-09T04:00:00Z")  # EDT from 8 March
        # Back to UTC: no local rows; UTC days again.
        r, doc = call("PUT", "/v1/admin/tenants/ber/time-zone", ADMIN, {"time_zone": "UTC"})
        self.assertEqual((r.status, doc["time_zone"]), (200, "UTC"), doc)
        self.assertEqual(rollup_rows("ber"), [])
        if not gwdb.is_pg():
            self.assertEqual(gwdb.user_packs(G["db"], "ber", 1), [])
        # A row ingested while the tenant has no zone adds no local-day row
        # (PostgreSQL: the store tells the trigger "no zone" once per call).
        x = dict(rows["s455"])
        x["amount"] = "8.50"
        rows["s455"] = x
        r, doc = call("POST", "/v1/transactions", G["ber"], [x])
        self.assertEqual((r.status, doc["updated"]), (200, 1), doc)
        G["ber_rows"] = list(rows.values())
        self.assertEqual(rollup_rows("ber"), [])
        doc = get(q("/v1/insights/trends", granularity="day", **{"from": "2026-03-09", "to": "2026-04-12"}), G["ber"])
        self.assertIsNone(doc["time_zone"])
        want = {d: v for d, v in local_sums(G["ber_rows"], "UTC").items() if "2026-03-09" <= d <= "2026-04-12"}
        self.assertEqual(trend_buckets(doc), want)
        r, doc = call("PUT", "/v1/admin/tenants/ber/time-zone", ADMIN, {"time_zone": "Europe/Berlin"})
        self.assertEqual(rollup_rows("ber"), rollup_expected(G["ber_rows"], "Europe/Berlin"))


    def test_d_rollups_answer_as_raw_rows(self):
        # The same database served with --no-rollup-reads (every row read
        # and mapped to wall time): the same answers, byte for byte.
        paths = [q("/v1/insights/trends", granularity=g, **{"from": "2026-03-09", "to": "2026-04-12"})
                 for g in ("day", "week")]
        paths.append(q("/v1/insights/revenue-forecast", granularity="day", horizon=7,
                       **{"from": "2026-03-09", "to": "2026-04-12"}))
        paths.append(q("/v1/insights/trends", granularity="day", **{"from": "2026-10-12", "to": "2026-11-01"}))
        rolled = [get(p, G["ber"]) for p in paths]
        proc, port = spawn(G["db"], "--no-rollup-reads")
        try:
            for p, want in zip(paths, rolled):
                r, doc = tm.call("GET", p, G["ber"], None, port=port, timeout=300)
                self.assertEqual(r.status, 200, doc)
                for d in (doc, want):  # names the champion version of the moment, which jobs move on
                    d.get("model", {}).pop("reason", None)
                self.assertEqual(doc, want, p)
        finally:
            tm.stop(proc)

    def test_e_segments_read_the_customers_local_days(self):
        # The customers' local-day rollups equal a recomputation from the
        # rows (across local midnight, both DST changes, after test_c's
        # re-sends, updates and zone changes), and segments read them: the
        # answer is the raw rows' byte for byte (a node with
        # --no-rollup-reads), and it is kept (only answers computed from
        # the rollups are). After a zone change the answer is the new
        # zone's, which differs: no answer of the old zone's days is kept.
        paths = [q("/v1/insights/segments", include_users=1),
                 q("/v1/insights/segments", include_users=1, **{"from": "2026-03-20", "to": "2026-10-30"})]

        def check(zone, first=None):
            self.assertEqual(user_rollup_rows("ber"), user_rollup_expected(G["ber_rows"], zone))
            if not gwdb.is_pg():  # the local days' packs (db_user_packs.c): the same rows
                self.assertEqual(gwdb.user_packs(G["db"], "ber", 1), user_rollup_expected(G["ber_rows"], zone))
            proc, port = spawn(G["db"], "--no-rollup-reads")
            results = []
            try:
                for p in paths:
                    st, how, want = raw_get(port, p, G["ber"])
                    self.assertEqual((st, how), (200, "computed"), want)
                    st, how, got = raw_get(G["port"], p, G["ber"])
                    self.assertEqual(st, 200, got)
                    if first:  # a refresh after an ingestion or a zone change may have computed it
                        self.assertEqual(how, first, p)
                    self.assertEqual(got, want, p)
                    self.assertEqual(json.loads(got)["time_zone"], zone)
                    # The same resolved query in other words: past the answer cache.
                    self.assertEqual(raw_get(G["port"], p + "&currency=EUR", G["ber"])[1:], ("kept", want), p)
                    results.append(json.loads(got)["result"])
            finally:
                tm.stop(proc)
            return results

        jobs_idle(G["ber"])
        berlin = check("Europe/Berlin", "computed")
        # A zone change re-sums them.
        r, doc = call("PUT", "/v1/admin/tenants/ber/time-zone", ADMIN, {"time_zone": "America/New_York"})
        self.assertEqual(r.status, 200, doc)
        new_york = check("America/New_York")
        self.assertNotEqual(berlin[0], new_york[0])
        # Updates across local midnight and a re-sent row.
        rows = {r["id"]: r for r in G["ber_rows"]}
        upd = [dict(rows["s456"], action_date=iso(datetime.datetime(2026, 3, 29, 3, 59, tzinfo=UTC)), amount="4.00"),
               dict(rows["a300"], user_id="u7", category="d"), dict(rows["s500"])]
        r, doc = call("POST", "/v1/transactions", G["ber"], upd)
        self.assertEqual((r.status, doc["updated"], doc["unchanged"]), (200, 2, 1), doc)
        rows.update({x["id"]: x for x in upd})
        G["ber_rows"] = list(rows.values())
        self.assertNotEqual(check("America/New_York")[0], new_york[0])
        r, doc = call("PUT", "/v1/admin/tenants/ber/time-zone", ADMIN, {"time_zone": "Europe/Berlin"})
        self.assertEqual(r.status, 200, doc)
        self.assertNotEqual(check("Europe/Berlin")[0], berlin[0])

    def test_f_a_store_from_before_the_table_is_back_filled(self):
        # The customers' local days of the tenants that already have a zone
        # are summed when a node first meets a store without them (SQLite:
        # a copy of the file without the table; PostgreSQL: the database
        # taken back before the migration that made it).
        want = user_rollup_expected(G["ber_rows"], get("/v1/admin/tenants/ber/time-zone", ADMIN)["time_zone"])
        if gwdb.is_pg():
            path = G["db"]
            # The migrations from the one that made it (the rollups' per-statement
            # triggers came after it) applied again.
            gwdb.sql(path, "DROP TABLE txn_user_local_daily;"
                           " DELETE FROM schema_migrations WHERE version >= 14")
        else:
            path = os.path.join(G["tmp"], "before-user-local.db")
            src, dst = sqlite3.connect(G["db"]), sqlite3.connect(path)
            src.backup(dst)
            src.close()
            dst.execute("DROP TABLE txn_user_local_daily")
            dst.commit()
            dst.close()
        proc, _ = spawn(path)
        try:
            got = gwdb.sql(path, "SELECT currency, day, partner_id, user_id, transaction_type, category, n, purchases,"
                                 " spend, refund FROM txn_user_local_daily WHERE tenant_id = ?", ("ber",))
            self.assertEqual(sorted(tuple(r) for r in got), want)
        finally:
            tm.stop(proc)


START = datetime.date(2026, 1, 1)
KTM_DAYS = 120


def ktm_rows():
    """Each day D: 10 + D % 7 at 18:10 UTC (23:55 in Kathmandu, day D) and
    1 + D % 3 at 18:20 UTC (00:05 in Kathmandu, day D + 1)."""
    out = []
    for d in range(KTM_DAYS):
        day = START + datetime.timedelta(days=d)
        base = datetime.datetime(day.year, day.month, day.day, 18, tzinfo=UTC)
        out.append(row("k%d-a" % d, base + datetime.timedelta(minutes=10), 10 + d % 7))
        out.append(row("k%d-b" % d, base + datetime.timedelta(minutes=20), 1 + d % 3))
    return out


class Kathmandu(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tenant("ktm", "pro", "Asia/Kathmandu")
        cls.rows = ktm_rows()
        post(G["ktm"], cls.rows)

    def test_a_local_days_at_0545(self):
        doc = get(q("/v1/insights/trends", granularity="day", **{"from": "2026-01-02", "to": "2026-04-29"}), G["ktm"])
        self.assertEqual(doc["from"], "2026-01-01T18:15:00Z")
        want = {d: v for d, v in local_sums(self.rows, "Asia/Kathmandu").items() if "2026-01-02" <= d <= "2026-04-29"}
        self.assertEqual(trend_buckets(doc), want)
        self.assertEqual(want["2026-01-02"], (10 + 1 % 7 + 1 + 0) * 100)
        self.assertEqual(rollup_rows("ktm"), rollup_expected(self.rows, "Asia/Kathmandu"))
        # utc_offset overrides the zone: UTC days, no zone in the answer.
        doc = get(q("/v1/insights/trends", granularity="day", utc_offset="+00:00",
                    **{"from": "2026-01-02", "to": "2026-04-29"}), G["ktm"])
        self.assertIsNone(doc["time_zone"])
        want = {d: v for d, v in local_sums(self.rows, "UTC").items() if "2026-01-02" <= d <= "2026-04-29"}
        self.assertEqual(trend_buckets(doc), want)

    def test_b_hour_buckets_start_at_quarter_past(self):
        doc = get(q("/v1/insights/revenue-forecast", granularity="hour", horizon=3, history_days=30), G["ktm"])
        self.assertEqual(doc["utc_offset_minutes"], 345)
        self.assertEqual(doc["time_zone"], "Asia/Kathmandu")
        for p in doc["forecast"]:
            self.assertTrue(p["at"].endswith(":15:00Z"), p["at"])
        # The last row (18:20 UTC) is in the hour from 18:15 UTC.
        self.assertEqual(doc["history"]["end"], iso(datetime.datetime(2026, 4, 30, 18, 15, tzinfo=UTC)))

    def test_c_registry_trains_the_local_series(self):
        # The ingestion's job trained the local day series: the default
        # request (the registry's window) is served from its champion.
        end = time.time() + 600
        doc = None
        while time.time() < end:
            doc = get("/v1/insights/revenue-forecast?granularity=day&horizon=2", G["ktm"])
            if doc["method"] == "registry":
                break
            time.sleep(0.2)
        self.assertEqual(doc["method"], "registry", doc["model"])
        self.assertEqual(doc["history"]["end"], "2026-04-30T18:15:00Z")  # local midnight of 1 May
        self.assertEqual(doc["forecast"][0]["at"], "2026-05-01T18:15:00Z")


def qtr_rows(days):
    """Daily purchases from 2023-01-01 with a weekly and a December lift."""
    out = []
    for d in range(days):
        day = datetime.date(2023, 1, 1) + datetime.timedelta(days=d)
        amount = (30 + d % 7) * (1.5 if day.month == 12 else 1) + d / 100
        out.append(row("q%d" % d, datetime.datetime(day.year, day.month, day.day, 12, tzinfo=UTC), amount))
    return out


class Quarters(unittest.TestCase):
    def test_quarter_champion_trains_and_serves(self):
        tenant("qtr", "enterprise")
        job = post(G["qtr"], qtr_rows(1000))  # through 2025-09-27: ten complete quarters
        end = time.time() + 900
        listing = None
        while time.time() < end:
            r, listing = call("GET", "/v1/models?granularity=quarter", G["qtr"])
            self.assertEqual(r.status, 200, listing)
            last = listing["retraining"]["last"]
            if last and last["job_id"] >= job and listing["retraining"]["running"] != job \
                    and listing["retraining"]["queued"] != job:
                break
            time.sleep(0.2)
        series = {s["granularity"]: s for s in listing["retraining"]["last"]["series"]}
        self.assertEqual(series["quarter"]["outcome"], "promoted", series["quarter"])
        champ = [v for v in listing["versions"] if v["status"] == "champion"]
        self.assertEqual([v["granularity"] for v in champ], ["quarter"])
        doc = get(q("/v1/insights/revenue-forecast", granularity="quarter", horizon=4, history_days=1096), G["qtr"])
        self.assertEqual(doc["method"], "registry", doc["model"])
        self.assertEqual(doc["model"]["version"], champ[0]["version"])
        self.assertEqual([p["start"] for p in doc["forecast"]], ["2025-07-01", "2025-10-01", "2026-01-01", "2026-04-01"])


class ZzShutdown(unittest.TestCase):
    """Last (unittest sorts classes by name): SIGTERM, exit 0, and no
    sanitizer report (a leak shows only at exit) from the tests above."""
    def test_zz_clean_exit(self):
        self.assertEqual(tm.stop(G["proc"]), 0)
        with open(G["db"] + ".stderr", errors="replace") as f:
            err = f.read()
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
