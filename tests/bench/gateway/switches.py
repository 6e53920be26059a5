#!/usr/bin/python3
"""Context switches and sched_yield per answer, loop thread versus the rest.

Counts that a shared machine does not blur the way it blurs a p99: each
gateway given (e.g. a build without a change and one with it) is started
as run_bench.py starts it, paced at --rate requests/s with wrk for
--seconds while `perf stat --per-thread` counts its threads' context
switches and sched_yield calls; the rounds alternate the gateways. Prints
per run: rps, wrk's p99, the load average, and per answer the loop
thread's sched_yield and context switches and the other threads'
(the metering writer's, mostly). Needs perf with tracepoints (root).

Usage: switches.py --gateway OLD --gateway NEW [--rate 8000 | --saturate] [--seconds 5] [--rounds 2]
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_bench as rb  # noqa: E402

EVENTS = "syscalls:sys_enter_sched_yield,context-switches"


def one(path, rate, seconds, saturate=False):
    tmp = tempfile.mkdtemp(prefix="fc-gw-switches-")
    gw, port, key, target, _, _ = rb.start_gateway(path, tmp, [])
    out = os.path.join(tmp, "perf.txt")
    try:
        perf = subprocess.Popen(["perf", "stat", "-x,", "-e", EVENTS, "--per-thread", "-p", str(gw.pid),
                                 "-o", out])
        url = "http://127.0.0.1:%d%s" % (port, target)
        r = rb.wrk(url, key, seconds, 64) if saturate else rb.paced(url, key, seconds, rate)
        perf.send_signal(signal.SIGINT)
        perf.wait()
    finally:
        gw.send_signal(signal.SIGTERM)
        gw.wait()
    n = r["rps"] * seconds
    per = {("loop", "yield"): 0.0, ("loop", "cs"): 0.0, ("other", "yield"): 0.0, ("other", "cs"): 0.0}
    for line in open(out):
        f = line.strip().split(",")  # thread-tid,count,unit,event,...
        if len(f) < 4 or not f[1].replace(".", "").isdigit():
            continue
        who = "loop" if f[0].rsplit("-", 1)[-1] == str(gw.pid) else "other"
        what = "yield" if "sched_yield" in f[3] else "cs"
        per[(who, what)] += float(f[1]) / n
    return r, per


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", action="append", required=True)
    ap.add_argument("--rate", type=float, default=8000)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--saturate", action="store_true", help="wrk -c64 unpaced instead of --rate")
    a = ap.parse_args()
    print("| round | gateway | rps | p99 ms | loop sched_yield/answer | loop switches/answer |"
          " other threads' switches/answer | load |")
    print("|---|---|---|---|---|---|---|---|")
    for rnd in range(a.rounds):
        order = a.gateway if rnd % 2 == 0 else list(reversed(a.gateway))
        for g in order:
            r, per = one(g, a.rate, a.seconds, a.saturate)
            print("| %d | %s | %.0f | %.2f | %.4f | %.3f | %.3f | %s |" % (
                rnd, g, r["rps"], r["p99"], per[("loop", "yield")], per[("loop", "cs")],
                per[("other", "cs")], open("/proc/loadavg").read().split()[0]), flush=True)


if __name__ == "__main__":
    main()
