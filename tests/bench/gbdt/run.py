"""Gradient-boosting benchmark: floatcast versus xgboost hist.

usage: /usr/bin/python3 tests/bench/gbdt/run.py BUILD_DIR [NTRAIN] [NTEST]

Generates one data set with bench_gbdt (Friedman #1 widened to 20 features),
then trains and predicts with both on the same files and the same settings
(100 rounds, 63 leaves, depth 8, learning rate 0.1, 2 threads, 255 bins,
lambda 1, min 20 rows/hessian per leaf) and prints a side-by-side table.
Training time includes binning (floatcast) and DMatrix construction
(xgboost); prediction time includes xgboost's DMatrix construction.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SETTINGS = ["100", "63", "8", "0.1", "2"]  # rounds leaves depth lr threads


def figures(line):
    return dict(kv.split("=") for kv in line.split())


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    ntr = sys.argv[2] if len(sys.argv) > 2 else "1000000"
    nte = sys.argv[3] if len(sys.argv) > 3 else "200000"
    bench = os.path.join(build, "bin", "bench_gbdt")
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([bench, "gen", d, ntr, nte, "42"], check=True)
        fc = figures(subprocess.run([bench, "run", d, ntr, nte] + SETTINGS, check=True,
                                    capture_output=True, text=True).stdout)
        xg = figures(subprocess.run([sys.executable, os.path.join(HERE, "xgb_side.py"), d, ntr,
                                     nte] + SETTINGS, check=True, capture_output=True,
                                    text=True).stdout)
    print(f"data: {ntr} x 20 train, {nte} test; rounds/leaves/depth/lr/threads = "
          + "/".join(SETTINGS))
    print(f"{'':28}{'floatcast':>12}{'xgboost hist':>14}{'ratio':>8}")
    for key, label in (("train_s", "train time (s)"), ("train_cpu_s", "train CPU, all threads (s)"),
                       ("predict_s", "predict time (s)"),
                       ("rmse", "test RMSE")):
        a, b = float(fc[key]), float(xg[key])
        print(f"{label:28}{a:12.3f}{b:14.3f}{b / a:8.2f}")
    print(f"load average: {open('/proc/loadavg').read().split()[0]} (ratio = xgboost / floatcast)")


if __name__ == "__main__":
    main()
