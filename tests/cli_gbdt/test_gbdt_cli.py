"""floatcast gbdt end to end on small generated tables."""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile


def run(cli, *args):
    return subprocess.run([cli, "gbdt", *args], capture_output=True, text=True)


def write_table(path, rows, header):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join("" if v is None else repr(v) for v in r) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    cli = ap.parse_args().cli
    rnd = random.Random(4)
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print("FAIL:", what, file=sys.stderr)

    with tempfile.TemporaryDirectory() as d:
        p = lambda name: os.path.join(d, name)
        rows = []
        for i in range(1500):
            a, day = rnd.random(), rnd.randrange(7)
            noise = rnd.random()
            y = 10 * a + (5.0 if day in (5, 6) else 0.0)
            rows.append([a, None if i % 13 == 0 else noise, y, day])
        # The target sits between features; predict tables put columns in another order.
        write_table(p("train.csv"), rows[:1000], ["a", "noise", "y", "weekday"])
        write_table(p("valid.csv"), rows[1000:1200], ["a", "noise", "y", "weekday"])
        write_table(p("test.csv"), [[r[3], r[0], r[1]] for r in rows[1200:]], ["weekday", "a", "noise"])

        r = run(cli, "train", "--input", p("train.csv"), "--target", "y", "--output", p("m.bin"),
                "--rounds", "200", "--num-leaves", "15", "--categorical", "weekday",
                "--valid", p("valid.csv"), "--early-stopping", "20", "--threads", "2", "--seed", "1")
        check(r.returncode == 0, f"train: {r.stderr}")
        r = run(cli, "predict", "--model", p("m.bin"), "--input", p("test.csv"), "--output", p("pred.csv"))
        check(r.returncode == 0, f"predict: {r.stderr}")
        lines = open(p("pred.csv")).read().split("\n")
        check(lines[0] == "prediction" and len(lines) == 302 and lines[-1] == "", "prediction file shape")
        pred = [float(x) for x in lines[1:-1]]
        truth = [r[2] for r in rows[1200:]]
        rmse = math.sqrt(sum((a - b) ** 2 for a, b in zip(pred, truth)) / len(pred))
        check(rmse < 0.5, f"test RMSE {rmse}")

        r = run(cli, "importance", "--model", p("m.bin"))
        imp = r.stdout.strip().split("\n")
        check(r.returncode == 0 and imp[0] == "feature,splits,gain", "importance header")
        check(imp[1].startswith("a,") and imp[2].startswith("weekday,"), f"importance order {imp}")

        r = run(cli, "dump", "--model", p("m.bin"))
        doc = json.loads(r.stdout)
        check(doc["objective"] == "l2" and doc["features"][2] == {"name": "weekday", "categorical": True},
              "dump header")

        # Quantile objective through the CLI.
        r = run(cli, "train", "--input", p("train.csv"), "--target", "y", "--output", p("q.bin"),
                "--objective", "quantile", "--alpha", "0.9")
        check(r.returncode == 0, f"quantile train: {r.stderr}")

        # Errors: each names its cause.
        r = run(cli, "train", "--input", p("train.csv"), "--target", "nope", "--output", p("x.bin"))
        check(r.returncode == 1 and 'no column named "nope"' in r.stderr, f"missing target: {r.stderr}")
        write_table(p("nan.csv"), [[1.0, 2.0], [2.0, None], [3.0, 1.0]], ["a", "y"])
        r = run(cli, "train", "--input", p("nan.csv"), "--target", "y", "--output", p("x.bin"))
        check(r.returncode == 1 and "target is NaN" in r.stderr, f"NaN target: {r.stderr}")
        with open(p("bad.csv"), "w") as f:
            f.write("a,y\n1,2\nx,3\n")
        r = run(cli, "train", "--input", p("bad.csv"), "--target", "y", "--output", p("x.bin"))
        check(r.returncode == 1 and "line 3" in r.stderr and "not a number" in r.stderr, f"bad cell: {r.stderr}")
        with open(p("empty.csv"), "w") as f:
            f.write("a,y\n")
        r = run(cli, "train", "--input", p("empty.csv"), "--target", "y", "--output", p("x.bin"))
        check(r.returncode == 1 and "no rows" in r.stderr, f"empty table: {r.stderr}")
        write_table(p("missing.csv"), [[1.0, 2.0]], ["a", "weekday"])
        r = run(cli, "predict", "--model", p("m.bin"), "--input", p("missing.csv"), "--output", p("o.csv"))
        check(r.returncode == 1 and 'no column named "noise"' in r.stderr, f"missing column: {r.stderr}")
        blob = bytearray(open(p("m.bin"), "rb").read())
        blob[len(blob) // 2] ^= 0xFF
        open(p("corrupt.bin"), "wb").write(blob)
        r = run(cli, "predict", "--model", p("corrupt.bin"), "--input", p("test.csv"), "--output", p("o.csv"))
        check(r.returncode == 1 and "checksum" in r.stderr, f"corrupt model: {r.stderr}")
        r = run(cli, "train", "--input", p("train.csv"))
        check(r.returncode == 2, "usage error exit code")

    print(f"{'FAILED' if failures else 'ok'}: gbdt CLI ({len(failures)} failures)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
