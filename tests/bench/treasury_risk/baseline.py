"""baseline.py: the simple baseline: hour-of-week means plus bootstrapped days.

Usage: baseline.py JOBS OUT.jsonl [--paths 1000] [--jobs 2]
JOBS has bench_risk's lines (WORLD NOW METHOD HORIZON PATH; METHOD is
ignored); OUT gets bench_risk's JSON lines with method "baseline".

Per currency, from what is known at now (world.py's view): known flows
(announced pending transfers, stream drain) are applied exactly. The
unscheduled net flow of each future hour is the history's mean for its
hour of the week (3+ weeks of history; with less, for its hour of the day
and day type, weekday or weekend), plus the deviation from those means of a
whole past day of the same day type drawn at random for each future day
(scaled by sqrt(n/(n-1)) for the n days that made each mean). P(h) is the
share of paths below the floor at some hour in (0, h]."""
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import SCALES, World, iso, parse_iso, parse_money, stream_drain  # noqa: E402

DAY = 86400


def project(w, ccy, now, H, paths, rng):
    tr = [t for t in w.transfers if t["currency"] == ccy and t["status"] == "completed" and t["dir"]]
    start = min(t["created_at"] for t in w.transfers) // DAY * DAY + DAY  # first whole day
    x = np.zeros((now - start) // 3600)
    for t in tr:
        if t["scheduled_for"] is None and start <= t["created_at"] < now:
            x[(t["created_at"] - start) // 3600] += t["dir"] * t["amount"]
    hrs = start + 3600 * np.arange(len(x))
    dow, hod = (hrs // DAY + 3) % 7, (hrs % DAY) // 3600
    weeks = len(x) // 168 >= 3
    key = lambda d, h: d * 24 + h if weeks else (d >= 5) * 24 + h  # noqa: E731
    k = key(dow, hod)
    cnt = np.bincount(k, minlength=168)
    mean = np.bincount(k, weights=x, minlength=168) / np.maximum(cnt, 1)
    nd = len(x) // 24  # whole past days
    dev = (x[:nd * 24] - mean[k[:nd * 24]]).reshape(nd, 24) * np.sqrt(cnt / np.maximum(cnt - 1, 1))[k[:nd * 24]].reshape(nd, 24)
    wkend = dow[:nd * 24:24] >= 5
    # Future hours: mean plus a whole past day's deviations of the same day type.
    fh = now + 3600 * np.arange(H)
    fd, fhod = (fh // DAY + 3) % 7, (fh % DAY) // 3600
    F = np.tile(mean[key(fd, fhod)], (paths, 1))
    fday = (fh - now // DAY * DAY) // DAY
    for d in np.unique(fday):
        pool = np.nonzero(wkend == (fd[fday == d][0] >= 5))[0]
        pool = pool if len(pool) else np.arange(nd)
        pick = rng.choice(pool, paths)
        F[:, fday == d] += dev[pick][:, fhod[fday == d]]
    for t in tr:  # announced, not yet settled
        if t["announced_at"] is not None and t["announced_at"] <= now <= t["scheduled_for"] < now + H * 3600:
            F[:, (t["scheduled_for"] - now) // 3600] += t["dir"] * t["amount"]
    dc = np.array([sum(stream_drain(s, now, j * 3600) for s in w.streams_at(ccy, now)) for j in range(H + 1)])
    F -= np.diff(dc)[None, :]
    return w.balance_at(ccy, now) + np.hstack([np.zeros((paths, 1)), np.cumsum(F, axis=1)])


def run_world(args):
    wdir, jobs, paths = args
    w = World(wdir)
    floors = {f.split("=")[0]: f.split("=")[1] for f in w.meta["floors"].split(",")}
    out = []
    for now_s, H, want_path in jobs:
        now = parse_iso(now_s)
        for ccy in w.currencies:
            t0, c0 = time.perf_counter(), time.process_time()
            rng = np.random.default_rng([int(w.meta["seed"]), (now - w.now0) // 3600, SCALES[ccy], len(ccy)])
            bal = project(w, ccy, now, H, paths, rng)
            floor = parse_money(floors[ccy], SCALES[ccy])
            runmin = np.minimum.accumulate(bal[:, 1:], axis=1)
            r = {"world": w.tenant, "tenant": w.tenant, "now": now_s, "k": (now - w.now0) // 3600,
                 "method": "baseline", "status": "ok", "currency": ccy,
                 "p": [float(np.mean(runmin[:, h - 1] < floor)) if h <= H else None for h in (24, 48, 72, 96)]}
            r["ms"] = (time.perf_counter() - t0) * 1e3
            r["cpu_ms"] = (time.process_time() - c0) * 1e3
            if want_path:
                q = np.quantile(bal, [0.1, 0.5, 0.9], axis=0) / 10 ** SCALES[ccy]
                r.update({"p10": list(q[0]), "p50": list(q[1]), "p90": list(q[2])})
            out.append(json.dumps(r))
    return out


def main():
    args, paths, nproc = sys.argv[1:], 1000, 2
    if "--paths" in args:
        i = args.index("--paths")
        paths = int(args[i + 1])
        del args[i:i + 2]
    if "--jobs" in args:
        i = args.index("--jobs")
        nproc = int(args[i + 1])
        del args[i:i + 2]
    by_world = {}
    with open(args[0]) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) == 5:
                by_world.setdefault(p[0], []).append((p[1], int(p[3]), p[4] == "1"))
    with Pool(nproc) as pool, open(args[1], "w") as out:
        for lines in pool.imap_unordered(run_world, [(d, j, paths) for d, j in sorted(by_world.items())]):
            out.write("".join(l + "\n" for l in lines))


if __name__ == "__main__":
    main()
