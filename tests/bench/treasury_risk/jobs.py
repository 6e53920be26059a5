"""jobs.py: the projection jobs of one run, for bench_risk and baseline.py.

Usage: jobs.py WORLDS OUTDIR [--ep-tenants 30] [--gbdt-ep-tenants 6] [--gbdt-every 6]
         [--methods rule,gbdt,ml] [--shards 2]

Single look: every world at now0, horizon 96, with the band, for each
method. Episodes: the first EP tenants of each regime (worlds alternate
regimes) re-projected at now0 + k h, horizon 48, no band: hourly for rule,
ml and the baseline; every GBDT_EVERY hours on the first GBDT_EP tenants
of each regime for gbdt (about seconds per call). Only the nows the
episode score reads are projected: k <= 48 for a currency that does not
breach within 96 h, k <= breach - 12 for one that does (the union over a
tenant's currencies); the oracle's P(48 h) comes from truth.json.

Writes OUTDIR/driver.<i>.tsv (shards balanced on a rough cost, one world's
lines together) and OUTDIR/baseline.tsv, and prints the counts."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import iso, list_worlds, parse_iso  # noqa: E402

COST = {"rule": 0.01, "ml": 0.5, "gbdt": 4.0}  # rough seconds per call, for shard balance


def episode_ks(truth):
    ks = set()
    for c in truth["currencies"]:
        b = c["breach_hour"]
        ks.update(range(0, 49) if b is None or b > 96 else range(0, max(0, b - 12) + 1))
    return sorted(ks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("worlds")
    ap.add_argument("out")
    ap.add_argument("--ep-tenants", type=int, default=30)
    ap.add_argument("--gbdt-ep-tenants", type=int, default=6)
    ap.add_argument("--gbdt-every", type=int, default=6)
    ap.add_argument("--methods", default="rule,gbdt,ml")
    ap.add_argument("--shards", type=int, default=2)
    a = ap.parse_args()
    methods = a.methods.split(",")
    per_world, base = [], []
    seen = {"edge": 0, "spread": 0}
    n_ep = {"edge": 0, "spread": 0}
    n_calls = {}
    for wdir in list_worlds(a.worlds):
        with open(os.path.join(wdir, "truth.json")) as f:
            t = json.load(f)
        lines, cost = [], 0.0
        now0 = parse_iso(t["now0"])
        for m in methods:
            lines.append("%s\t%s\t%s\t96\t1" % (wdir, t["now0"], m))
            cost += COST.get(m, 1)
        base.append("%s\t%s\tbaseline\t96\t1" % (wdir, t["now0"]))
        reg = t["regime"]
        rank = seen[reg]
        seen[reg] += 1
        if rank < a.ep_tenants:
            n_ep[reg] += len(t["currencies"])
            for k in episode_ks(t):
                now = iso(now0 + k * 3600)
                for m in methods:
                    if m == "gbdt" and (rank >= a.gbdt_ep_tenants or k % a.gbdt_every):
                        continue
                    lines.append("%s\t%s\t%s\t48\t0" % (wdir, now, m))
                    cost += COST.get(m, 1)
                    n_calls[m] = n_calls.get(m, 0) + 1
                base.append("%s\t%s\tbaseline\t48\t0" % (wdir, now))
                n_calls["baseline"] = n_calls.get("baseline", 0) + 1
        per_world.append((cost, lines))
    os.makedirs(a.out, exist_ok=True)
    shards = [[0.0, []] for _ in range(a.shards)]
    for cost, lines in sorted(per_world, key=lambda x: -x[0]):
        s = min(shards, key=lambda x: x[0])
        s[0] += cost
        s[1].extend(lines)
    for i, (_, lines) in enumerate(shards):
        with open(os.path.join(a.out, "driver.%d.tsv" % i), "w") as f:
            f.write("".join(l + "\n" for l in lines))
    with open(os.path.join(a.out, "baseline.tsv"), "w") as f:
        f.write("".join(l + "\n" for l in base))
    print("jobs: %d worlds; episodes on %d edge + %d spread currencies (first %d tenants per regime; gbdt on the "
          "first %d, every %d h); episode calls: %s" % (
              len(per_world), n_ep["edge"], n_ep["spread"], a.ep_tenants, a.gbdt_ep_tenants, a.gbdt_every,
              ", ".join("%s %d" % kv for kv in sorted(n_calls.items()))))


if __name__ == "__main__":
    main()
