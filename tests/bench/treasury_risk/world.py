"""world.py: what gen.py, baseline.py, jobs.py and score.py share.

A world is one tenant's directory written by gen.py:
  meta.csv       key,value: tenant, now0 (the first now, ISO), floors (the
                 fc floors spec), regime, split, seed
  accounts.csv   balances AT now0 (allow_overdraft set: paths may go below 0)
  transfers.csv  every transfer, history and future, as it finally happened;
                 scheduled ones carry scheduled_for and announced_at
  streams.csv    streams as they stand at now0
  truth.json     realised balance path, oracle probabilities and band

The state at a later now' (view_at) is what bench_risk.c builds in C: a
completed transfer is known once created_at < now'; a scheduled one is
completed history once scheduled_for < now', pending from announced_at
<= now' until then, unknown before; failed ones are history once created.
Balances at now' = balances at now0 + exact net flows in [now0, now') minus
stream drain over that interval (drain rounded half-even like
fc_stream_drain)."""
import csv
import datetime
import json
import os

UTC = datetime.timezone.utc
SCALES = {"USD": 2, "EUR": 2, "GBP": 2, "USDC": 6}


def iso(t):
    return datetime.datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s):
    if not s:
        return None
    return int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def money(v, scale):
    """Minor units (int) -> decimal text."""
    v = int(v)
    sign = "-" if v < 0 else ""
    v = abs(v)
    if scale == 0:
        return sign + str(v)
    q, r = divmod(v, 10 ** scale)
    return "%s%d.%0*d" % (sign, q, scale, r)


def parse_money(s, scale):
    neg = s.startswith("-")
    s = s.lstrip("-")
    whole, _, frac = s.partition(".")
    v = int(whole or "0") * 10 ** scale + int((frac + "0" * scale)[:scale] or "0")
    return -v if neg else v


def half_even_div(a, d):
    q, r = divmod(a, d)
    if 2 * r > d or (2 * r == d and q % 2 == 1):
        q += 1
    return q


def stream_drain(s, now, seconds):
    """fc_stream_drain: minor units an active stream drains over [now, now+seconds)."""
    begin, end = max(now, s["started_at"]), now + seconds
    if s["status"] != "active" or s["rate"] <= 0 or end <= begin:
        return 0
    return min(half_even_div(s["rate"] * (end - begin), 10 ** 6), max(0, s["funded"] - s["streamed"]))


class World:
    """One world directory, loaded once."""

    def __init__(self, path):
        self.path = path
        with open(os.path.join(path, "meta.csv")) as f:
            self.meta = {r["key"]: r["value"] for r in csv.DictReader(f)}
        self.tenant = self.meta["tenant"]
        self.now0 = parse_iso(self.meta["now0"])
        self.accounts = []
        with open(os.path.join(path, "accounts.csv")) as f:
            for r in csv.DictReader(f):
                sc = SCALES[r["currency"]]
                self.accounts.append({"id": r["id"], "currency": r["currency"], "scale": sc,
                                      "balance": parse_money(r["balance_available"], sc)})
        self.own = {a["id"]: a for a in self.accounts}
        self.currencies = sorted({a["currency"] for a in self.accounts})
        self.transfers = []
        with open(os.path.join(path, "transfers.csv")) as f:
            for r in csv.DictReader(f):
                sc = SCALES[r["currency"]]
                d = (1 if r["to_account_id"] in self.own else 0) - (1 if r["from_account_id"] in self.own else 0)
                self.transfers.append({
                    "id": r["id"], "currency": r["currency"], "dir": d, "amount": parse_money(r["amount"], sc),
                    "status": r["status"], "created_at": parse_iso(r["created_at"]),
                    "scheduled_for": parse_iso(r["scheduled_for"]), "announced_at": parse_iso(r["announced_at"]),
                    "counterparty": r["from_account_id"] if d > 0 else r["to_account_id"]})
        self.streams = []
        with open(os.path.join(path, "streams.csv")) as f:
            for r in csv.DictReader(f):
                sc = SCALES[r["currency"]]
                self.streams.append({"id": r["id"], "currency": r["currency"], "status": r["status"],
                                     "rate": parse_money(r["flow_rate_per_second"], sc + 6),
                                     "funded": parse_money(r["funded_amount"], sc),
                                     "streamed": parse_money(r["total_streamed"], sc),
                                     "started_at": parse_iso(r["started_at"])})
        self._truth = None

    @property
    def truth(self):
        if self._truth is None:
            with open(os.path.join(self.path, "truth.json")) as f:
                self._truth = json.load(f)
        return self._truth

    def balance_at(self, ccy, now):
        """Currency balance (minor units) at now >= now0."""
        b = sum(a["balance"] for a in self.accounts if a["currency"] == ccy)
        for t in self.transfers:
            if t["currency"] == ccy and t["status"] == "completed" and self.now0 <= t["created_at"] < now:
                b += t["dir"] * t["amount"]
        for s in self.streams:
            if s["currency"] == ccy:
                b -= stream_drain(s, self.now0, now - self.now0)
        return b

    def view_at(self, ccy, now):
        """(history, pending) of one currency as known at now: history is a list
        of (time, signed amount, scheduled) of completed transfers before now;
        pending is a list of (scheduled_for, signed amount)."""
        hist, pend = [], []
        for t in self.transfers:
            if t["currency"] != ccy or t["status"] != "completed" or t["dir"] == 0:
                continue
            if t["created_at"] < now:
                hist.append((t["created_at"], t["dir"] * t["amount"], t["scheduled_for"] is not None))
            elif t["announced_at"] is not None and t["announced_at"] <= now:
                pend.append((t["scheduled_for"], t["dir"] * t["amount"]))
        return hist, pend

    def streams_at(self, ccy, now):
        """Streams of one currency advanced to now (total_streamed + drain since now0)."""
        out = []
        for s in self.streams:
            if s["currency"] == ccy:
                s2 = dict(s)
                s2["streamed"] = s["streamed"] + stream_drain(s, self.now0, now - self.now0)
                out.append(s2)
        return out


def list_worlds(root):
    return sorted(os.path.join(root, d) for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "meta.csv")))
