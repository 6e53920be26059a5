#!/usr/bin/env python3
"""test_cli.py: the floatcast command as a user runs it.

Checks exit codes and messages for usage errors and bad input files (each
bad row named by its line, nothing loaded), and that `project --json` on the
demo tenant equals tests/golden/demo_rule_48h.json byte for byte (the WASM
module must produce the same bytes)."""
import argparse
import datetime
import io
import json
import os
import sys
import tempfile

from clitest import check, run, summary


def run_on_terminal(cli, *args):
    """Runs the command with stderr on a pseudo-terminal (stdout a pipe);
    returns (exit code, stdout, what the terminal showed)."""
    import pty
    import subprocess
    master, slave = pty.openpty()
    p = subprocess.Popen([cli, *args], stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the command closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out = p.stdout.read()
    rc = p.wait(timeout=900)
    os.close(master)
    return rc, out.decode(), shown.decode(errors="replace")


def progress_checks(cli, golden):
    """Long work shows its progress on stderr when stderr is a terminal;
    --progress forces it (a line per tenth), --quiet silences it, and the
    answer on stdout is the same bytes either way."""
    hourly = os.path.join(golden, "ts_hourly.csv")
    txns = os.path.join(golden, "seg_txns.csv")
    runs = {"forecast": ["--input", hourly, "--horizon", "24", "--model", "snaive"],
            "backtest": ["--input", hourly, "--horizon", "24", "--model", "snaive"],
            "decompose": ["--input", hourly, "--season", "24"]}
    for cmd, args in runs.items():
        rc, plain, err = run(cli, cmd, *args)
        check("%s: no progress when stderr is not a terminal" % cmd, rc == 0 and err == "", err[:200])
        rc, out, err = run(cli, cmd, *args, "--progress")
        check("%s --progress: a line per tenth, the last n/n series, the same answer" % cmd,
              rc == 0 and out == plain and err.splitlines() ==
              ["floatcast %s: 1/2 series" % cmd, "floatcast %s: 2/2 series" % cmd], err[:300])
        rc, out, shown = run_on_terminal(cli, cmd, *args)
        check("%s on a terminal: the line redrawn in place, ended, the same answer" % cmd,
              rc == 0 and out == plain and "\rfloatcast %s: 2/2 series" % cmd in shown and
              shown.endswith("\r\n"), repr(shown[:300]))
        rc, out, shown = run_on_terminal(cli, cmd, *args, "--quiet")
        check("%s --quiet on a terminal: nothing shown" % cmd, rc == 0 and out == plain and shown == "",
              repr(shown[:300]))
    # The global net trains before any series is forecast: its steps show
    # first, as shares of both members' steps (one evaluation each here).
    net = ["--input", hourly, "--horizon", "24", "--model", "neural", "--neural-steps", "100"]
    rc, plain, err = run(cli, "forecast", *net)
    check("forecast --model neural: no progress when stderr is not a terminal", rc == 0 and err == "", err[:200])
    rc, out, err = run(cli, "forecast", *net, "--progress")
    check("forecast --model neural --progress: the net's training, then the series, the same answer",
          rc == 0 and out == plain and err.splitlines() ==
          ["floatcast forecast: training the net  50%", "floatcast forecast: training the net 100%",
           "floatcast forecast: 1/2 series", "floatcast forecast: 2/2 series"], err[:300])
    rc, out, shown = run_on_terminal(cli, "forecast", *net)
    check("forecast --model neural on a terminal: the training line redrawn and ended, then the series'",
          rc == 0 and out == plain and "\rfloatcast forecast: training the net 100%\033[K\r\n" in shown and
          shown.endswith("2/2 series\033[K\r\n"), repr(shown[:300]))
    rc, out, shown = run_on_terminal(cli, "forecast", *net, "--quiet")
    check("forecast --model neural --quiet on a terminal: nothing shown", rc == 0 and out == plain and shown == "",
          repr(shown[:300]))
    rc, plain, err = run(cli, "segment", "--input", txns, "--json")
    rc2, out, err = run(cli, "segment", "--input", txns, "--json", "--progress")
    lines = err.splitlines()
    check("segment --progress: its stages, tenths of the whole run up to 100 %, the same answer",
          rc == rc2 == 0 and out == plain and len(lines) >= 5 and lines[-1].endswith("100%") and
          all(l.startswith("floatcast segment: ") for l in lines), err[:300])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--golden", required=True)
    a = ap.parse_args()
    cli = a.cli
    with tempfile.TemporaryDirectory() as tmp:
        demo = os.path.join(tmp, "demo")
        rc, out, err = run(cli)
        check("no command: usage on stderr, exit 2", rc == 2 and "usage: floatcast" in err, err)
        rc, out, err = run(cli, "nosuch")
        check("unknown command: exit 2", rc == 2 and "unknown command 'nosuch'" in err, err)
        rc, out, err = run(cli, "project")
        check("project without --data: usage, exit 2", rc == 2 and "--data DIR" in err, err)
        rc, out, err = run(cli, "project", "--data")
        check("flag without value: exit 2", rc == 2 and "--data needs a value" in err, err)

        # Every command and subcommand answers --help with exit 0 and its
        # options on stdout; without its required options it prints the
        # usage on stderr and exits 2. (forecast, decompose and backtest
        # once said "unknown option '--help'".)
        options = {
            ("project",): ["--data", "--now", "--horizon", "--method", "--json", "--currency", "--tenant",
                           "--floors", "--fx", "--seed", "--paths", "--target", "--scenario", "--output"],
            ("cashflow",): ["--data", "--now", "--horizon", "--granularity", "--output", "--currency", "--tenant",
                            "--seed", "--json"],
            ("features",): ["--data", "--tenant", "--currency", "--now"],
            ("segment",): ["--input", "--method", "--k", "--eps", "--output", "--progress", "--quiet"],
            ("trends",): ["--input", "--granularity", "--partner", "--currency", "--from", "--to",
                          "--utc-offset", "--k", "--json", "--output"],
            ("demo",): ["--out", "--seed", "--tenant", "--now", "--days"],
            ("forecast",): ["--input", "--format", "--horizon", "--model", "--season", "--freq",
                            "--regressors", "--level", "--calibrate", "--origins", "--output",
                            "--save-model", "--load-model", "--progress", "--quiet", "--help"],
            ("decompose",): ["--input", "--format", "--season", "--freq", "--method", "--robust",
                             "--band", "--k", "--level", "--json", "--output", "--progress", "--quiet", "--help"],
            ("backtest",): ["--input", "--format", "--horizon", "--origins", "--model", "--season",
                            "--freq", "--regressors", "--level", "--calibrate", "--output", "--progress", "--quiet",
                            "--help"],
            ("gbdt",): ["train", "predict", "importance", "dump"],
            ("gbdt", "train"): ["--input", "--target", "--output", "--objective", "--rounds", "--valid"],
            ("gbdt", "predict"): ["--model", "--input", "--output"],
            ("gbdt", "importance"): ["--model"],
            ("gbdt", "dump"): ["--model"],
            ("usage",): ["export", "--db", "--from", "--to", "--tenant"],
            ("usage", "export"): ["--db", "--from", "--to", "--tenant", "--granularity", "--format"],
            ("version",): ["version"],
        }
        rc, out, err = run(cli, "--help")
        listed = [l.split()[0] for l in out.split("commands:")[1].split("\n\n")[0].splitlines() if l.strip()]
        check("every listed command has its --help test", rc == 0 and listed and
              sorted(listed) == sorted(c[0] for c in options if len(c) == 1), listed)
        for cmd, opts in options.items():
            name = " ".join(cmd)
            rc, out, err = run(cli, *cmd, "--help")
            missing = [o for o in opts if o not in out]
            check("%s --help: exit 0, usage and options on stdout" % name,
                  rc == 0 and out.startswith("usage: floatcast " + name) and not missing and err == "",
                  "rc %d, missing %s, stderr %r" % (rc, missing, err[:200]))
            if cmd != ("version",):  # the one command without a required option
                rc, out, err = run(cli, *cmd)
                check("%s without its required options: usage on stderr, exit 2" % name,
                      rc == 2 and out == "" and "usage: floatcast " + name in err, err[:300])
        rc, out, err = run(cli, "forecast", "--input", "x.csv", "--bogus")
        check("forecast: unknown option named, then the usage, exit 2",
              rc == 2 and "unknown option '--bogus'" in err and "--season" in err, err)
        progress_checks(cli, a.golden)
        rc, out, err = run(cli, "demo", "--out", demo)
        check("demo writes the data set", rc == 0 and sorted(os.listdir(demo)) ==
              ["accounts.csv", "streams.csv", "transactions.csv", "transfers.csv"], err)

        rc, out, err = run(cli, "project", "--data", demo, "--now", "2025-12-01T12:00:00Z",
                           "--horizon", "48", "--method", "rule", "--json")
        with open(os.path.join(a.golden, "demo_rule_48h.json")) as f:
            golden = f.read()
        check("project --json equals the golden file", rc == 0 and out == golden,
              err or "output differs from tests/golden/demo_rule_48h.json")
        doc = json.loads(out) if rc == 0 else {}
        usdc = [c for c in doc.get("currencies", []) if c["currency"] == "USDC"]
        check("answer shape: H+1 path points, risk, recommendation",
              len(usdc) == 1 and len(usdc[0]["path"]) == 49 and usdc[0]["depletion"]["risk"] in
              ("low", "medium", "high") and isinstance(doc.get("recommendations"), list), out[:200])
        rc2, out2, _ = run(cli, "project", "--data", demo, "--json")
        check("default --now is the hour after the newest transfer", rc2 == 0 and out2 == out)
        rc, out, err = run(cli, "project", "--data", demo)
        check("table output", rc == 0 and "USDC" in out and "recommend:" in out, out[:300])
        rc, out, err = run(cli, "project", "--data", demo, "--horizon", "0")
        check("horizon 0 refused", rc == 1 and "--horizon" in err, err)
        rc, out, err = run(cli, "project", "--data", demo, "--now", "2025-02-30")
        check("bad --now refused", rc == 1 and "no such day" in err, err)
        rc, out, err = run(cli, "project", "--data", demo, "--method", "bogus")
        check("unknown method refused", rc == 1 and "want rule, ml or gbdt" in err, err)
        rc, out, err = run(cli, "project", "--data", demo, "--method", "ml", "--currency", "GBP", "--json")
        check("ml projection: method ml, the flow simulation",
              rc == 0 and json.loads(out)["method"] == "ml"
              and json.loads(out)["currencies"][0]["model"]["name"] == "flow-sim", err)
        rc, out, err = run(cli, "project", "--data", demo, "--method", "gbdt", "--currency", "GBP", "--json")
        check("gbdt projection: the cash-flow trees",
              rc == 0 and json.loads(out)["method"] == "gbdt"
              and json.loads(out)["currencies"][0]["model"]["name"] == "gbdt-quantile-direct", err)
        rc, out, err = run(cli, "project", "--data", demo, "--floors", "USDC=-1")
        check("negative floor refused in words", rc == 1 and "is negative" in err, err)
        rc, out, err = run(cli, "project", "--data", demo, "--method", "ml", "--paths", "5")
        check("too few paths refused", rc == 1 and "--paths" in err, err)
        for args, msg in ((["--horizon", "0"], '--horizon: want whole steps in 1..720, got "0"'),
                          (["--horizon", "1e2"], "--horizon: want whole steps"),
                          (["--granularity", "week"], '--granularity: want hour or day, got "week"'),
                          (["--seed", "-1"], "--seed: want a whole number")):
            rc, out, err = run(cli, "cashflow", "--data", demo, *args)
            check("cashflow: %s refused by the table" % " ".join(args), rc == 1 and msg in err and out == "", err)
        rc, out, err = run(cli, "cashflow", "--data", demo, "--currency", "GBP", "--horizon", "48", "--json")
        check("cashflow: 48 steps with importance",
              rc == 0 and len(json.loads(out)["forecasts"][0]["steps"]) == 48
              and json.loads(out)["forecasts"][0]["importance"]["outflow"], err)
        rc, out, err = run(cli, "project", "--data", demo, "--currency", "XYZ")
        check("unknown currency refused", rc == 1 and "unknown currency 'XYZ'" in err, err)
        rc, out, err = run(cli, "project", "--data", os.path.join(tmp, "missing"))
        check("missing directory: the path and the reason", rc == 1 and "No such file" in err, err)

        bad = os.path.join(tmp, "bad")
        os.mkdir(bad)
        for name in ("accounts.csv", "streams.csv"):
            with open(os.path.join(demo, name)) as src, open(os.path.join(bad, name), "w") as dst:
                dst.write(src.read())
        with open(os.path.join(bad, "transfers.csv"), "w") as f:
            f.write("id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at\n"
                    "a,demo,acc-usd-operating,x,USD,10.00,completed,2025-11-30T00:00:00Z\n"
                    "b,demo,acc-usd-operating,x,USD,abc,completed,2025-11-30T00:00:00Z\n"
                    "c,demo,acc-usd-operating,x,USD,1.00,completed,yesterday\n")
        rc, out, err = run(cli, "project", "--data", bad)
        check("bad rows: each named by line, nothing loaded",
              rc == 1 and "line 3: amount:" in err and "line 4: created_at:" in err and
              "nothing was loaded" in err, err)

        ts = os.path.join(tmp, "one.csv")
        with open(ts, "w") as f:
            f.write("series_id,timestamp,value\n")
            for t in range(24 * 14):
                f.write("S,2025-01-%02dT%02d:00:00Z,%.3f\n" % (1 + t // 24, t % 24,
                        100 + 20 * ((t % 24) in range(9, 18)) + (t * 7919 % 13) * 0.5))
        mf = os.path.join(tmp, "ets.model")
        rc, fitted, err = run(cli, "forecast", "--input", ts, "--horizon", "24", "--season", "24",
                              "--model", "ets", "--save-model", mf)
        rc2, loaded, err2 = run(cli, "forecast", "--load-model", mf, "--input", ts, "--horizon", "24")
        check("--save-model / --load-model: identical forecast", rc == 0 and rc2 == 0 and
              fitted == loaded and fitted.count("\n") == 25, err + err2)
        with open(mf, "rb") as f:
            blob = bytearray(f.read())
        blob[40] ^= 1
        with open(mf, "wb") as f:
            f.write(bytes(blob))
        rc, out, err = run(cli, "forecast", "--load-model", mf, "--horizon", "24")
        check("damaged model file refused", rc == 1 and "checksum" in err, err)
        rc, out, err = run(cli, "forecast", "--input", ts, "--horizon", "24", "--save-model", mf)
        check("--save-model refuses the ensemble", rc == 2 and "single model" in err, err)
        pf = os.path.join(tmp, "prophet.model")
        rc, fitted, err = run(cli, "forecast", "--input", ts, "--horizon", "24", "--season", "24",
                              "--model", "prophet", "--save-model", pf)
        rc2, loaded, err2 = run(cli, "forecast", "--load-model", pf, "--input", ts, "--horizon", "24")
        check("prophet --save-model / --load-model: identical forecast and intervals",
              rc == 0 and rc2 == 0 and fitted == loaded and fitted.count("\n") == 25, err + err2)
        with open(pf, "rb") as f:
            blob = f.read()
        with open(pf, "wb") as f:
            f.write(blob[:-20])
        rc, out, err = run(cli, "forecast", "--load-model", pf, "--horizon", "24")
        check("truncated prophet model refused", rc == 1 and "model load" in err, err)

        # --season 1 is R's "no season": no periods, and not --freq's either.
        base = ["--input", ts, "--horizon", "24", "--model", "ets"]
        rc1, none_freq, e1 = run(cli, "forecast", *base, "--season", "1", "--freq", "hour")
        rc2, plain, e2 = run(cli, "forecast", *base)
        rc3, freq, e3 = run(cli, "forecast", *base, "--freq", "hour")
        check("forecast --season 1 --freq hour: no season (as without either)",
              rc1 == rc2 == rc3 == 0 and none_freq == plain and none_freq != freq, e1 + e2 + e3)
        rc, out, err = run(cli, "backtest", "--input", ts, "--horizon", "24", "--model", "snaive",
                           "--season", "1", "--origins", "2")
        rc2, out2, err2 = run(cli, "backtest", "--input", ts, "--horizon", "24", "--model", "snaive",
                              "--origins", "2")
        check("backtest --season 1: accepted, as without --season", rc == 0 and out == out2 and
              out.startswith("series_id,origins,"), err + err2)
        rc, out, err = run(cli, "decompose", "--input", ts, "--season", "1", "--freq", "hour", "--json")
        dec = json.loads(out) if rc == 0 else [{}]
        check("decompose --season 1 --freq hour: trend and remainder, no seasonal component",
              rc == 0 and dec[0].get("components") == [] and len(dec[0].get("trend", [])) == 24 * 14, err)
        rc, out, err = run(cli, "forecast", *base, "--season", "1,24")
        check("forecast --season 1,24: 1 only alone", rc == 2 and "1 alone" in err, err)
        rc, out, err = run(cli, "decompose", "--input", ts, "--season", "0")
        check("decompose --season 0 refused", rc == 2 and "--season" in err, err)
        bo = os.path.join(tmp, "bt.csv")
        rc, out, err = run(cli, "backtest", "--input", ts, "--horizon", "24", "--model", "snaive",
                           "--season", "24", "--origins", "2", "--output", bo)
        with open(bo) if os.path.exists(bo) else io.StringIO("") as f:
            written = f.read()
        check("backtest --output writes the table there", rc == 0 and out == "" and
              written.startswith("series_id,origins,") and "\nALL," in written, err)

        # --freq: the stated step, its grid, gaps, default seasons, calendar regressors.
        import datetime
        def hourly(path, rows):
            with open(path, "w") as f:
                f.write("series_id,timestamp,value\n")
                for t, v in rows:
                    f.write("H,%s,%.3f\n" % (t.strftime("%Y-%m-%dT%H:%M:%SZ"), v))
        t0 = datetime.datetime(2025, 1, 1)
        hours = [t0 + datetime.timedelta(hours=i) for i in range(24 * 21)]
        busy = [100 + 30 * (t.weekday() < 5 and 9 <= t.hour < 17) + (i * 7919 % 13) * 0.4
                for i, t in enumerate(hours)]
        hf = os.path.join(tmp, "hourly.csv")
        hourly(hf, zip(hours, busy))
        rc, out, err = run(cli, "forecast", "--input", hf, "--horizon", "3", "--freq", "hour", "--model", "snaive")
        rows = out.splitlines()[1:]
        check("--freq hour: output times step by the hour", rc == 0 and [r.split(",")[2] for r in rows] ==
              ["2025-01-22T00:00:00Z", "2025-01-22T01:00:00Z", "2025-01-22T02:00:00Z"], out + err)
        rc2, out2, _ = run(cli, "forecast", "--input", hf, "--horizon", "3", "--season", "24,168", "--model", "snaive")
        rc3, out3, _ = run(cli, "forecast", "--input", hf, "--horizon", "3", "--model", "snaive")
        check("--freq hour without --season uses 24,168", rc2 == 0 and out == out2 and out3 != out, out3)
        gf = os.path.join(tmp, "gap.csv")
        hourly(gf, [(t, v) for i, (t, v) in enumerate(zip(hours, busy)) if i not in (100, 101)])
        rc, out, err = run(cli, "forecast", "--input", gf, "--horizon", "2", "--freq", "hour", "--model", "snaive")
        check("--freq hour: a gap is filled and reported with its first time",
              rc == 0 and "series H: 2 missing values filled" in err and "2025-01-05T04:00:00Z" in err, err)
        of = os.path.join(tmp, "offgrid.csv")
        hourly(of, list(zip(hours[:50], busy)) + [(hours[50] + datetime.timedelta(minutes=30), 1.0)])
        rc, out, err = run(cli, "forecast", "--input", of, "--horizon", "2", "--freq", "hour", "--model", "snaive")
        check("--freq hour: an off-grid time is refused with line, series and time",
              rc == 1 and "line 52" in err and "'H'" in err and "2025-01-03T02:30:00Z is off the hour grid" in err, err)
        rc, out, err = run(cli, "backtest", "--input", of, "--horizon", "2", "--freq", "hour", "--model", "snaive")
        check("backtest --freq hour: the same refusal", rc == 1 and "off the hour grid" in err, err)
        mf2 = os.path.join(tmp, "monthly.csv")
        with open(mf2, "w") as f:
            f.write("series_id,timestamp,value\n")
            for i in range(48):
                y, m = 2020 + i // 12, i % 12 + 1
                last = (datetime.date(y + (m == 12), m % 12 + 1, 1) - datetime.timedelta(days=1)).day
                f.write("M,%04d-%02d-%02d,%.2f\n" % (y, m, last, 200 + 30 * ((i % 12) in (5, 6, 7)) + i + (i * 31 % 7)))
        rc, out, err = run(cli, "forecast", "--input", mf2, "--horizon", "3", "--freq", "month", "--model", "snaive")
        rows = out.splitlines()[1:]
        check("--freq month: calendar month ends, season 12",
              rc == 0 and [r.split(",")[2][:10] for r in rows] == ["2024-01-31", "2024-02-29", "2024-03-31"]
              and float(rows[0].split(",")[3]) == 200 + 36 + (36 * 31 % 7), out + err)
        rc, out, err = run(cli, "forecast", "--input", mf2, "--horizon", "3", "--model", "snaive")
        check("monthly data without --freq: refused, pointing at --freq", rc == 1 and "need --freq" in err, err)
        rc, out, err = run(cli, "forecast", "--input", mf2, "--horizon", "3", "--freq", "week")
        check("--freq week on monthly rows: off-grid refusal", rc == 1 and "off the week grid" in err, err)
        rc, out, err = run(cli, "forecast", "--input", mf2, "--horizon", "3", "--freq", "fortnight")
        check("--freq: unknown name refused", rc == 2 and "want hour, day, week, month or quarter" in err, err)
        rc, out, err = run(cli, "forecast", "--input", mf2, "--horizon", "3", "--freq", "month", "--format", "m4")
        check("--freq with m4 input refused", rc == 2 and "--format long" in err, err)
        sf = os.path.join(tmp, "steps.csv")
        with open(sf, "w") as f:
            f.write("series_id,timestamp,value\nA,1,2\nA,2,3\nA,3,5\n")
        rc, out, err = run(cli, "forecast", "--input", sf, "--horizon", "2", "--freq", "day", "--model", "naive")
        check("--freq with step indexes refused", rc == 1 and "needs ISO 8601 timestamps" in err, err)

        # decompose: --freq gives MSTL its periods; --robust on (default) flags a
        # big spike alone, off (plain STL) flags its neighbours in nearby days too.
        # Eight weeks, so that the weekly period is well determined (over three
        # weeks each weekly phase has three points and even plain STL overfits).
        weeks8 = [t0 + datetime.timedelta(hours=i) for i in range(24 * 56)]
        spiky = os.path.join(tmp, "spiky.csv")
        spikes = (500, 900)
        hourly(spiky, [(t, 100 + 30 * (t.weekday() < 5 and 9 <= t.hour < 17) + (i * 7919 % 13) * 0.4 +
                        150 * (i in spikes)) for i, t in enumerate(weeks8)])
        rc, out, err = run(cli, "decompose", "--input", spiky, "--freq", "hour", "--json")
        rc2, out2, err2 = run(cli, "decompose", "--input", spiky, "--season", "24,168", "--json")
        dec = json.loads(out)[0] if rc == 0 else {}
        check("decompose --freq hour: seasons 24,168, as --season 24,168",
              rc == 0 and dec.get("components") == ["season_24", "season_168"] and out == out2, err + err2)
        check("decompose --robust on (default): exactly the spikes flagged",
              dec.get("anomalies") == list(spikes), dec.get("anomalies"))
        rc3, out3, err3 = run(cli, "decompose", "--input", spiky, "--freq", "hour", "--robust", "on", "--json")
        check("decompose --robust on is the default", rc3 == 0 and out3 == out, err3)
        rc, out, err = run(cli, "decompose", "--input", spiky, "--freq", "hour", "--robust", "off", "--json")
        plain = json.loads(out)[0]["anomalies"] if rc == 0 else []
        check("decompose --robust off: spikes and some neighbours flagged (plain STL)",
              set(spikes) <= set(plain) and len(plain) > len(spikes), plain)
        for extra, code, msg in ((["--robust", "yes"], 2, "--robust: want on or off"),
                                 (["--freq", "fortnight"], 2, "want hour, day, week, month or quarter"),
                                 (["--freq", "hour", "--format", "m4"], 2, "--format long"),
                                 ([], 2, "needs --season or --freq")):
            rc, out, err = run(cli, "decompose", "--input", spiky, *extra)
            check("decompose refuses " + (" ".join(extra) or "no --season/--freq"),
                  rc == code and msg in err, "%d %s" % (rc, err))
        rc, out, err = run(cli, "decompose", "--input", of, "--freq", "hour")
        check("decompose --freq hour: an off-grid time is refused", rc == 1 and "off the hour grid" in err, err)
        rc, out, err = run(cli, "decompose", "--input", mf2, "--freq", "month", "--json")
        check("decompose --freq month: calendar months, season 12",
              rc == 0 and json.loads(out)[0]["components"] == ["season_12"], err)

        def bt(*extra):
            rc, out, err = run(cli, "backtest", "--input", hf, "--horizon", "24", "--freq", "hour",
                               "--model", "prophet", *extra)
            return float(out.splitlines()[1].split(",")[5]) if rc == 0 else float("inf"), err
        plain, e1 = bt()
        withreg, e2 = bt("--regressors", "business_hours")
        check("prophet --regressors business_hours: backtest MASE falls (office-hours data)",
              withreg < 0.75 * plain, "%g vs %g %s %s" % (withreg, plain, e1, e2))
        pmf = os.path.join(tmp, "prophet_cal.model")
        rc, fitted, err = run(cli, "forecast", "--input", hf, "--horizon", "30", "--freq", "hour", "--model",
                              "prophet", "--regressors", "business_hours,month_end", "--save-model", pmf)
        rc2, loaded, err2 = run(cli, "forecast", "--input", hf, "--horizon", "30", "--freq", "hour",
                                "--load-model", pmf)
        check("prophet with calendar regressors: saved and loaded forecasts identical",
              rc == 0 and rc2 == 0 and fitted == loaded, err + err2)
        for extra, msg in ((["--freq", "day", "--model", "prophet", "--regressors", "business_hours"], "needs hourly data"),
                           (["--freq", "hour", "--model", "ets", "--regressors", "month_end"], "prophet model's"),
                           (["--freq", "hour", "--model", "prophet", "--regressors", "payday"], "want a list")):
            rc, out, err = run(cli, "forecast", "--input", hf, "--horizon", "3", *extra)
            check("--regressors refused: " + msg, rc == 2 and msg in err, err)

        sc = os.path.join(tmp, "scenario.json")
        with open(sc, "w") as f:
            f.write('{"pause_streams":["st-001","st-002"],"transfers":[{"id":"wi-1","from_account_id":'
                    '"acc-usd-operating","to_account_id":"ext-x","currency":"USD","amount":"1000000.00",'
                    '"status":"pending","created_at":"2025-12-01T12:00:00Z","scheduled_for":"2025-12-02T09:00:00Z"}]}')
        rc, out, err = run(cli, "project", "--data", demo, "--json", "--scenario", sc)
        wi = json.loads(out) if rc == 0 else {}
        usd = [c for c in wi.get("currencies", []) if c["currency"] == "USD"]
        base_usd = [c for c in doc.get("currencies", []) if c["currency"] == "USD"]
        check("what-if scenario: extra payment lowers USD by exactly 1,000,000.00",
              rc == 0 and usd and base_usd and
              round(float(base_usd[0]["rule"]["projected_balance"]) - float(usd[0]["rule"]["projected_balance"]), 2)
              == 1000000.00, err)
        with open(sc, "w") as f:
            f.write('{"pause_stream":["st-001"]}')
        rc, out, err = run(cli, "project", "--data", demo, "--scenario", sc)
        check("what-if typo refused", rc == 1 and "unknown member 'pause_stream'" in err, err)
        nohist = os.path.join(tmp, "nohist")
        os.mkdir(nohist)
        for name in ("accounts.csv", "streams.csv"):
            with open(os.path.join(demo, name)) as src, open(os.path.join(nohist, name), "w") as dst:
                dst.write(src.read())
        with open(os.path.join(nohist, "transfers.csv"), "w") as f:
            f.write("id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at\n")
        rc, out, err = run(cli, "project", "--data", nohist)
        check("no transfers and no --now: says to pass --now", rc == 1 and "--now" in err, err)
        rc, out, err = run(cli, "project", "--data", nohist, "--now", "2025-12-01T12:00:00Z", "--json")
        check("header-only transfers.csv with --now projects", rc == 0 and '"currencies"' in out, err)
        rc, out, err = run(cli, "project", "--data", demo, "--floors", "USCD=100")
        check("misspelt floors code refused", rc == 1 and "unknown currency 'USCD'" in err, err)
        rc, out, err = run(cli, "project", "--data", demo, "--now", "9999-12-31T00:00:00Z")
        check("window past year 9999 refused", rc == 1 and "9999" in err, err)

        rc, out, err = run(cli, "features", "--data", demo, "--granularity", "hour")
        feats = json.loads(out) if rc == 0 else {}
        rec = feats.get("recurring", [])
        check("features: hourly series, recurring sweep, stream runway",
              rc == 0 and any(r["to_account_id"] == "ext-sweep-bank" for r in rec) and
              len(feats.get("streams", [])) == 35 and feats["currencies"][0]["step_seconds"] == 3600, err)
        rc, out, err = run(cli, "features", "--data", demo, "--granularity", "week")
        check("features: bad granularity refused", rc == 1 and "hour or day" in err, err)
        trends_checks(cli, tmp)
        option_table_checks(cli, tmp)
    return summary()


def option_table_checks(cli, tmp):
    """segment, trends and gbdt train read their options through the core's
    tables (fc/optables.h), as the WASM module does: each kind of bad value
    is refused by its flag with the table's range, before any input is read,
    and a good value in the --name=VALUE form is taken."""
    path = os.path.join(tmp, "tx.csv")  # written by trends_checks
    for cmd, args, msg in ((["segment"], ["--windows", "1"], "--windows: 1 is outside 2..366"),
                           (["segment"], ["--k", "2.5"], "--k: want auto or 1..1000"),
                           (["segment"], ["--seed", "-1"], "--seed: -1 is outside 0..2147483647"),
                           (["segment"], ["--half-life", "0"], "--half-life: 0 is outside"),
                           (["segment"], ["--method", "spectral"], "--method: want kmeans or dbscan"),
                           (["segment"], ["--to", "2024-13-01"], "--to: "),
                           (["trends"], ["--k", "abc"], '--k: expected a number, got "abc"'),
                           (["gbdt", "train"], ["--target", "y", "--output", os.path.join(tmp, "m"),
                                                "--rounds", "0"], "--rounds: 0 is outside 1..1000000"),
                           (["gbdt", "train"], ["--target", "y", "--output", os.path.join(tmp, "m"),
                                                "--objective", "hinge"], '--objective: unknown "hinge"')):
        rc, out, err = run(cli, *cmd, "--input", path, *args)
        check("%s %s refused by name" % (" ".join(cmd), " ".join(args)),
              rc == 1 and msg in err and out == "", err)
    rc, out, err = run(cli, "segment", "--input", path, "--windows")
    check("segment: a table flag without its value, exit 2", rc == 2 and "--windows needs a value" in err, err)
    rc, out, err = run(cli, "segment", "--input", path, "--k=2", "--windows=3", "--json")
    seg = json.loads(out) if rc == 0 else {}
    check("segment: --name=VALUE read through the table", rc == 0 and seg.get("k") == 2, err)


def trends_checks(cli, tmp):
    """floatcast trends: exact sums per local bucket under the filters, the
    highlights in words, and each bad option refused by name."""
    path = os.path.join(tmp, "tx.csv")
    rows = ["id,partner_id,user_id,action_date,amount,transaction_type,category,currency"]
    want = {}
    for d in range(60):  # 2024-02-01 .. 2024-03-31, leap February
        day = (datetime.date(2024, 2, 1) + datetime.timedelta(days=d)).isoformat()
        cents = 10000 + 37 * d + 137 * (d % 7) + (5000 if d % 7 == 4 else 0)
        rows.append("a%d,p1,u%d,%sT22:30:00Z,%d.%02d,purchase,x,USD" % (d, d % 5, day, cents // 100, cents % 100))
        rows.append("b%d,p2,u1,%sT10:00:00Z,3.00,purchase,x,USD" % (d, day))
        rows.append("c%d,p1,u1,%sT10:00:00Z,-1.25,refund,x,USD" % (d, day))
        # local day at +02:00: 22:30Z is the next day
        nxt = (datetime.date(2024, 2, 1) + datetime.timedelta(days=d + 1)).isoformat()
        want[nxt] = want.get(nxt, 0) + cents
        want[day] = want.get(day, 0) - 125
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")
    rc, out, err = run(cli, "trends", "--input", path, "--partner", "p1", "--utc-offset", "+02:00",
                       "--from", "2024-02-10", "--to", "2024-03-20", "--json")
    doc = json.loads(out) if rc == 0 else {}
    b = doc.get("buckets", {})
    got = dict(zip(b.get("start", []), b.get("revenue", [])))
    exact = all(got[k] == "%.2f" % (want[k] / 100) for k in got)
    check("trends: exact local-day sums of one partner within from/to",
          rc == 0 and b["start"][0] == "2024-02-10" and b["start"][-1] == "2024-03-20" and exact
          and doc["utc_offset_minutes"] == 120, err or out[:300])
    rc, out, err = run(cli, "trends", "--input", path, "--granularity", "week", "--json")
    doc = json.loads(out) if rc == 0 else {}
    starts = doc.get("buckets", {}).get("start", [])
    check("trends: weeks from Monday, cut weeks left out",
          rc == 0 and starts[0] == "2024-02-05" and starts[-1] == "2024-03-25" and
          doc["partial_buckets"] == 1 and all(datetime.date.fromisoformat(s).weekday() == 0 for s in starts),
          err or out[:300])
    rc, out, err = run(cli, "trends", "--input", path, "--partner", "p1")
    check("trends: the highlights in words", rc == 0 and "peak on " in out and
          "against the weekly mean" in out, err or out)
    for args, msg in ((["--granularity", "hour"], "--granularity"), (["--utc-offset", "+15:00"], "--utc-offset"),
                      (["--from", "2024-02-30"], "--from"), (["--k", "0"], "--k"),
                      (["--from", "2024-03-01", "--to", "2024-02-01"], "from >= to"),
                      (["--partner", "nobody"], "nobody")):
        rc, out, err = run(cli, "trends", "--input", path, *args)
        check("trends: %s refused" % " ".join(args), rc == 1 and msg in err and out == "", err)
    rc, out, err = run(cli, "trends", "--input", path)
    check("trends: several currencies? one here, so it runs", rc == 0, err)


if __name__ == "__main__":
    sys.exit(main())
