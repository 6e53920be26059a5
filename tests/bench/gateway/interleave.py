#!/usr/bin/python3
"""Interleaved paced runs: two or more gateway builds and nginx at one rate.

run_bench.py measures each server once, one after the other; on a shared
machine the load moves between those runs by more than the difference
being looked for (a few tenths of a ms of p99). This script starts every
server once (each gateway on a fresh SQLite database with the same tier and
key setup as run_bench.py, nginx serving the same body behind limit_req),
then runs `rounds` rounds; each round paces every server in turn (the order rotated
from round to round) for `seconds`. It prints each run's rps, p50 and p99
(wrk's), the load average after it, and per server the median and the
spread of the rounds' p99. For the gateways it also diffs their own request
latency histogram (first byte read to answer handed to the socket, bucket
bounds in ms) over each run, which the client's share of the CPUs does not
blur. A before/after comparison of a change: pass the build without it and
the build with it as two --gateway arguments; flags after a --gateway's binary
apply to that server alone ("build/bin/floatcast-gateway --db-single-process").

Usage: interleave.py --gateway OLD --gateway NEW [--rate 20000 | --half-nginx | --saturate]
                     [--rounds 5] [--seconds 5]
"""
import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_bench as rb  # noqa: E402


NAN = float("nan")


def own(port):
    """The gateway's request latency histogram now ({} for nginx)."""
    return rb.histogram(rb.metrics(port), "floatcast_request_duration_seconds") if port else {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", action="append", required=True)
    ap.add_argument("--rate", type=float, default=0)
    ap.add_argument("--half-nginx", action="store_true")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--gateway-args", default="", help="extra flags for every gateway")
    ap.add_argument("--saturate", action="store_true",
                    help="wrk -c64 without pacing (the saturated case) instead of a rate")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="fc-gw-interleave-")
    servers, procs, ngx = [], [], None
    try:
        for i, path in enumerate(a.gateway):
            binary, *flags = path.split()  # a --gateway may carry its own flags
            proc, port, key, target, body, _ = rb.start_gateway(binary, tmp, a.gateway_args.split() + flags)
            procs.append(proc)
            servers.append(["gateway %d (%s)" % (i, path), "http://127.0.0.1:%d%s" % (port, target),
                            key, [proc.pid], port])
        ngx, nurl = rb.start_nginx(tmp, body)
        servers.append(["nginx limit_req", nurl, servers[0][2], [ngx.pid] + rb.children(ngx.pid), None])
        rate = a.rate
        if a.saturate:
            rate = 0
        elif a.half_nginx or not rate:
            rate = rb.wrk(nurl, servers[0][2], a.seconds, 64)["rps"] / 2
        print("%s, %d rounds of %d s; load average at start %s" %
              ("saturated (-c64)" if a.saturate else "rate %.0f rps" % rate, a.rounds, a.seconds,
               open("/proc/loadavg").read().split()[0]), flush=True)
        # One connection count for every server: each connection waits PACE
        # ms after each answer, so all are offered the same pacing (calibrating
        # per server, as run_bench.py does, moved with the load by 2x).
        conns = 64 if a.saturate else max(2, int(round(rate * (rb.PACE + 0.5) / 1000)))
        pace = None if a.saturate else rb.PACE
        for s in servers:
            s += [conns, []]
        print("| round | server | rps | p50 ms | p99 ms | own p99 <= ms | own p99.9 <= ms | server CPU us/req |"
              " non-2xx | conns | load |")
        print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
        for r in range(a.rounds):
            order = servers[r % len(servers):] + servers[:r % len(servers)]
            for name, url, key, pids, port, conns, runs in order:
                h0 = own(port)
                x = rb.measured(lambda: rb.wrk(url, key, a.seconds, conns, pace), pids)
                h1 = own(port)
                x["own99"], x["own999"] = (rb.bound(h0, h1, 0.99), rb.bound(h0, h1, 0.999)) if h0 else (NAN, NAN)
                x["cpu_us"] = x["cpu"] * 1e6 / max(x["rps"] * a.seconds, 1)
                runs.append(x)
                print("| %d | %s | %.0f | %.2f | %.2f | %g | %g | %.1f | %d | %d | %s |" %
                      (r, name, x["rps"], x["p50"], x["p99"], x["own99"], x["own999"], x["cpu_us"],
                       x["non2xx"], conns, x["load"]), flush=True)
        print("\n| server | median p99 ms | p99 min-max | median p50 ms | median rps | median CPU us/req |"
              " own p99 <= ms (runs) |")
        print("|---|---|---|---|---|---|---|")
        for name, _, _, _, _, _, runs in servers:
            p99 = [x["p99"] for x in runs]
            print("| %s | %.2f | %.2f-%.2f | %.2f | %.0f | %.1f | %s |" %
                  (name, statistics.median(p99), min(p99), max(p99),
                   statistics.median(x["p50"] for x in runs), statistics.median(x["rps"] for x in runs),
                   statistics.median(x["cpu_us"] for x in runs),
                   " ".join("%g" % x["own99"] for x in runs)))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            p.wait()
        if ngx:
            ngx.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            ngx.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
