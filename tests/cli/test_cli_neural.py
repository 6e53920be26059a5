#!/usr/bin/env python3
"""test_cli_neural.py: `floatcast forecast --model neural|ensemble-neural`
and `--threads N`: the answer does not depend on N, the net's quantile
intervals are ordered, and bad options or too-short data get a clear error
and a nonzero exit."""
import argparse
import math
import os
import sys
import tempfile
import time

from clitest import check, run, summary


def write_series(path, nseries, n):
    """Hourly long-form series: a daily shape at different levels."""
    with open(path, "w") as f:
        f.write("series_id,timestamp,value\n")
        for s in range(nseries):
            for t in range(n):
                v = 20 + 4 * s + (2 + s) * math.sin(2 * math.pi * (t + s) / 24) + 0.3 * ((t * 7 + s) % 5)
                f.write(f"S{s},{t * 3600},{v:.4f}\n")


def write_timed(path, nseries, n):
    """The same kind of series with ISO hourly times, weekends lower, each
    series starting at a different hour of 2024-01-01 (a Monday)."""
    t0 = 1704067200
    with open(path, "w") as f:
        f.write("series_id,timestamp,value\n")
        for s in range(nseries):
            for t in range(n):
                when = t0 + (t + 5 * s) * 3600
                weekend = time.gmtime(when).tm_wday >= 5
                v = (20 + 4 * s + (2 + s) * math.sin(2 * math.pi * (t + 5 * s) / 24)) * (0.4 if weekend else 1)
                f.write("S%d,%s,%.4f\n" % (s, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)), v))


def check_calendar(cli, tmp):
    """--neural-calendar clock on hourly times (--freq hour): the same bytes
    for 1 and 2 threads and through a saved net, not those of the default
    (none); a net reading the clock refuses input without --freq;
    impossible choices are refused in words."""
    data = os.path.join(tmp, "timed.csv")
    write_timed(data, 4, 24 * 21)
    base = ["forecast", "--input", data, "--horizon", "24", "--neural-steps", "40", "--model", "neural"]
    net = os.path.join(tmp, "clock.fcm")
    clock = ["--freq", "hour", "--neural-calendar", "clock"]
    rc1, out1, err1 = run(cli, *base, *clock, "--threads", "1", "--save-model", net)
    rc2, out2, err2 = run(cli, *base, *clock, "--threads", "2")
    rc3, out3, err3 = run(cli, *base, "--freq", "hour")
    check("--neural-calendar clock: exit 0, same bytes for 1 and 2 threads, not the default's (none)",
          rc1 == 0 and rc2 == 0 and rc3 == 0 and out1 == out2 and len(rows(out1)[1]) == 96 and out1 != out3,
          err1 + err2 + err3)
    check("the clock net's file is format version 2 inside the model file",
          b"FCNEURAL\x02\x00\x00\x00" in open(net, "rb").read())
    rc, out, err = run(cli, *base[:2], data, "--horizon", "24", "--freq", "hour", "--load-model", net)
    check("clock net --load-model: the saving run's bytes", rc == 0 and out == out1, err)
    rc, out, err = run(cli, *base[:2], data, "--horizon", "24", "--load-model", net)
    check("clock net --load-model without --freq: exit 1, asks for it",
          rc == 1 and "give --freq hour or day" in err, err)
    rc, out, err = run(cli, *base, "--neural-calendar", "clock")
    check("--neural-calendar clock without --freq: exit 1 in words", rc == 1 and "hour or day grid" in err, err)
    rc, out, err = run(cli, *base, "--freq", "hour", "--season", "24", "--neural-calendar", "phase")
    check("--neural-calendar phase with one period: exit 1 in words", rc == 1 and "two seasonal periods" in err, err)
    rc, out, err = run(cli, *base, "--freq", "hour", "--neural-calendar", "phase", "--threads", "2")
    check("--neural-calendar phase (24,168 from --freq hour): exit 0", rc == 0 and len(rows(out)[1]) == 96, err)
    rc, out, err = run(cli, *base, "--neural-calendar", "weekly")
    check("--neural-calendar weekly: exit 2 naming the choices", rc == 2 and "--neural-calendar" in err, err)


def rows(out):
    lines = out.strip().split("\n")
    return lines[0], [l.split(",") for l in lines[1:]]


def check_saved_net(cli, tmp, base):
    """--save-model writes the trained net as a model file; --load-model of it
    with --input forecasts the same bytes without training, for neural and
    ensemble-neural; a wrong horizon, model, missing input or damaged file
    is refused in words."""
    net = os.path.join(tmp, "net.fcm")
    rc, saved, err = run(cli, *base, "--model", "neural", "--save-model", net)
    rc2, plain, _ = run(cli, *base, "--model", "neural")
    check("neural --save-model: exit 0, a model file, the same forecast as without it",
          rc == 0 and rc2 == 0 and saved == plain and os.path.getsize(net) > 1000
          and open(net, "rb").read(8) == b"FCMODEL\n", err)
    load = ["forecast", "--input", base[2], "--horizon", "12", "--season", "24", "--load-model", net]
    rc, out, err = run(cli, *load, "--threads", "2")
    check("neural --load-model: the saving run's bytes (no --model: neural)", rc == 0 and out == saved, err)
    rc, out, err = run(cli, *load, "--model", "neural")
    check("neural --load-model --model neural: the same bytes", rc == 0 and out == saved, err)
    rc, out, err = run(cli, *load[:4], "13", *load[5:])
    check("--load-model net, --horizon beyond it: exit 1 naming both",
          rc == 1 and "forecasts up to 12 steps; --horizon is 13" in err, err)
    rc, out, err = run(cli, *load, "--model", "ets")
    check("--load-model net --model ets: refused", rc == 1 and "holds a neural net" in err, err)
    rc, out, err = run(cli, "forecast", "--horizon", "12", "--load-model", net)
    check("--load-model net without --input: exit 1 asking for it",
          rc == 1 and "without a history: give --input" in err, err)
    bad = os.path.join(tmp, "bad.fcm")
    data = bytearray(open(net, "rb").read())
    data[len(data) // 2] ^= 1
    open(bad, "wb").write(bytes(data))
    rc, out, err = run(cli, *load[:-1], bad)
    check("--load-model of a damaged net: exit 1, checksum", rc == 1 and "checksum" in err, err)

    ens = os.path.join(tmp, "ens.fcm")
    rc, saved, err = run(cli, *base, "--model", "ensemble-neural", "--save-model", ens)
    rc2, out, err2 = run(cli, *load[:-1], ens, "--model", "ensemble-neural")
    check("ensemble-neural: --save-model then --load-model give the same bytes",
          rc == 0 and rc2 == 0 and out == saved and len(rows(out)[1]) == 72, err + err2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    cli = ap.parse_args().cli
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "s.csv")
        write_series(data, 6, 300)
        base = ["forecast", "--input", data, "--horizon", "12", "--season", "24", "--neural-steps", "40"]
        rc1, out1, err1 = run(cli, *base, "--model", "neural", "--threads", "1")
        rc2, out2, err2 = run(cli, *base, "--model", "neural", "--threads", "2")
        check("neural: exit 0", rc1 == 0 and rc2 == 0, err1 + err2)
        check("neural: --threads 1 and 2 write the same bytes", out1 == out2 and out1 != "")
        head, r = rows(out1)
        check("neural: 6 series x 12 steps", len(r) == 72, str(len(r)))
        ordered = all(float(x[6]) <= float(x[4]) <= float(x[3]) <= float(x[5]) <= float(x[7]) for x in r)
        check("neural: lo95 <= lo80 <= mean <= hi80 <= hi95", ordered, out1[:400])

        rc1, out1, err1 = run(cli, *base, "--model", "ensemble-neural", "--threads", "1")
        rc2, out2, err2 = run(cli, *base, "--model", "ensemble-neural", "--threads", "2")
        check("ensemble-neural: exit 0, same bytes for 1 and 2 threads",
              rc1 == 0 and rc2 == 0 and out1 == out2 and len(rows(out1)[1]) == 72, err1 + err2)
        rc1, out1, _ = run(cli, *base, "--model", "ensemble-arima", "--threads", "1")
        rc2, out2, _ = run(cli, *base, "--model", "ensemble-arima", "--threads", "2")
        check("ensemble-arima: same bytes for 1 and 2 threads", rc1 == 0 and out1 == out2 and out1 != "")

        rc, out, err = run(cli, *base, "--model", "neural", "--threads", "0")
        check("--threads 0: exit 2 with the range", rc == 2 and "--threads: 0 is outside 1..64" in err, err)
        rc, out, err = run(cli, *base, "--model", "neural", "--neural-steps", "x")
        check("--neural-steps x: exit 2", rc == 2 and "--neural-steps" in err, err)
        check_saved_net(cli, tmp, base)
        check_calendar(cli, tmp)

        short = os.path.join(tmp, "short.csv")
        write_series(short, 3, 40)
        rc, out, err = run(cli, "forecast", "--input", short, "--horizon", "12", "--season", "24",
                           "--model", "neural", "--neural-steps", "5")
        check("neural on too-short series: exit 1 naming the window",
              rc == 1 and "neural" in err and "values one training window needs" in err, err)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
