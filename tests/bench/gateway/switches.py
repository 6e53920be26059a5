#!/usr/bin/python3
"""Context switches and sched_yield per answer, loop thread versus the rest.

Counts that a shared machine does not blur the way it blurs a p99: each
gateway given (e.g. a build without a change and one with it) is started
as run_bench.py starts it, paced at --rate requests/s with wrk for
--seconds while `perf stat --per-thread` counts its threads' context
switches and sched_yield calls; the rounds alternate the gateways. Prints
per run: rps, wrk's p99, the load average, and per answer the loop
thread's sched_yield and context switches and the other threads'
(the metering writer's, mostly), and every thread's fcntl (SQLite's
locks) and futex calls. Needs perf with tracepoints (root).

A --gateway argument may carry flags after the binary ("build/bin/floatcast-gateway
--db-single-process"). The server's CPU time per answer (all threads) is printed too.

--path asks another route than the benchmark's cached projection: e.g.
/v1/usage, which runs on the request threads for every call (never
cached), so each answer also goes loop -> pool thread -> loop.

Usage: switches.py --gateway OLD --gateway NEW [--rate 8000 | --saturate] [--seconds 5] [--rounds 2]
                   [--path /v1/usage]
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_bench as rb  # noqa: E402

EVENTS = ("syscalls:sys_enter_sched_yield,context-switches,syscalls:sys_enter_fcntl,"
          "syscalls:sys_enter_futex")
WHAT = {"sched_yield": "yield", "fcntl": "fcntl", "futex": "futex"}


def one(path, rate, seconds, saturate=False, route=None):
    tmp = tempfile.mkdtemp(prefix="fc-gw-switches-")
    binary, *flags = path.split()
    gw, port, key, target, _, _ = rb.start_gateway(binary, tmp, flags)
    out = os.path.join(tmp, "perf.txt")
    try:
        url = "http://127.0.0.1:%d%s" % (port, route or target)
        # Calibrated (as rb.paced does) before perf starts, so the counts
        # cover the measured run alone (they included the 2 s calibration
        # run before 2026-12-07, which inflated every per-answer figure).
        conns = 64 if saturate else calibrate(url, key, rate)
        perf = subprocess.Popen(["perf", "stat", "-x,", "-e", EVENTS, "--per-thread", "-p", str(gw.pid),
                                 "-o", out])
        c0 = rb.cpu_seconds([gw.pid])
        r = rb.wrk(url, key, seconds, conns, None if saturate else rb.PACE)
        cpu = rb.cpu_seconds([gw.pid]) - c0
        perf.send_signal(signal.SIGINT)
        perf.wait()
    finally:
        gw.send_signal(signal.SIGTERM)
        gw.wait()
    n = r["rps"] * seconds
    per = {(who, what): 0.0 for who in ("loop", "other") for what in ("yield", "cs", "fcntl", "futex")}
    for line in open(out):
        f = line.strip().split(",")  # thread-tid,count,unit,event,...
        if len(f) < 4 or not f[1].replace(".", "").isdigit():
            continue
        who = "loop" if f[0].rsplit("-", 1)[-1] == str(gw.pid) else "other"
        what = next((v for k, v in WHAT.items() if k in f[3]), "cs")
        per[(who, what)] += float(f[1]) / n
    r["cpu_us"] = cpu * 1e6 / n
    return r, per


def calibrate(url, key, rate):
    """Connections that make about `rate` requests/s, each waiting PACE ms
    after every answer (run_bench.paced's 2-second trial)."""
    conns = max(2, int(round(rate * (rb.PACE + 0.5) / 1000)))
    trial = rb.wrk(url, key, 2, conns, rb.PACE)
    return max(2, int(round(conns * rate / max(trial["rps"], 1))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", action="append", required=True)
    ap.add_argument("--rate", type=float, default=8000)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--saturate", action="store_true", help="wrk -c64 unpaced instead of --rate")
    ap.add_argument("--path", help="the route and query to ask (default: the cached projection)")
    a = ap.parse_args()
    print("| round | gateway | rps | p99 ms | loop sched_yield/answer | loop switches/answer |"
          " other threads' switches/answer | fcntl/answer | futex/answer | server CPU us/answer | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for rnd in range(a.rounds):
        order = a.gateway if rnd % 2 == 0 else list(reversed(a.gateway))
        for g in order:
            r, per = one(g, a.rate, a.seconds, a.saturate, a.path)
            print("| %d | %s | %.0f | %.2f | %.4f | %.3f | %.3f | %.3f | %.3f | %.1f | %s |" % (
                rnd, g, r["rps"], r["p99"], per[("loop", "yield")], per[("loop", "cs")],
                per[("other", "cs")], per[("loop", "fcntl")] + per[("other", "fcntl")],
                per[("loop", "futex")] + per[("other", "futex")], r["cpu_us"],
                open("/proc/loadavg").read().split()[0]),
                flush=True)


if __name__ == "__main__":
    main()
