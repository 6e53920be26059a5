#!/usr/bin/python3
"""CPU per answer, gateway against gateway: what a saturated answer costs the
server, in user space and in the kernel, a figure a shared machine blurs
less than requests/s (virtual machines here expose no instruction
counters to perf).

Each gateway given (e.g. a build without a change and one with it) is
started as run_bench.py starts it and loaded with wrk -t2 -c64 (the
saturated case) for --seconds; the gateway's user and system CPU come from
/proc (all its threads), the answers from its own count
(floatcast_requests_total in /metrics, before and after). The rounds
alternate the gateways. Prints per run: requests/s as wrk saw them,
answers, user and system CPU microseconds per answer, the load average.

Usage: cpu_per_answer.py --gateway OLD --gateway NEW [--seconds 5] [--rounds 3]
"""
import argparse
import os
import re
import shutil
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_bench as rb  # noqa: E402


def answered(port):
    text = rb.metrics(port)
    return sum(int(m.group(1)) for m in re.finditer(r"^floatcast_requests_total\{[^}]*\} (\d+)$", text, re.M))


def cpu(pid):
    """(user, system) CPU seconds of a process and its threads."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def one(path, seconds):
    tmp = tempfile.mkdtemp(prefix="fc-gw-cpu-")
    gw, port, key, target, _, _ = rb.start_gateway(path, tmp, [])
    try:
        n0 = answered(port)
        u0, s0 = cpu(gw.pid)
        r = rb.wrk("http://127.0.0.1:%d%s" % (port, target), key, seconds, 64)
        u1, s1 = cpu(gw.pid)
        n = answered(port) - n0 - 1  # less the /metrics call itself
    finally:
        gw.send_signal(signal.SIGTERM)
        gw.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return r, n, (u1 - u0) / n * 1e6, (s1 - s0) / n * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", action="append", required=True)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    print("| round | gateway | rps | answers | user CPU us/answer | system CPU us/answer | load |")
    print("|---|---|---|---|---|---|---|")
    for rnd in range(a.rounds):
        for g in (a.gateway if rnd % 2 == 0 else list(reversed(a.gateway))):
            r, n, us, sy = one(g, a.seconds)
            print("| %d | %s | %.0f | %d | %.2f | %.2f | %s |" % (
                rnd, g, r["rps"], n, us, sy, open("/proc/loadavg").read().split()[0]), flush=True)


if __name__ == "__main__":
    main()
