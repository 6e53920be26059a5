"""M4 Hourly global gradient-boosting benchmark: floatcast versus xgboost hist.

usage: /usr/bin/python3 tests/bench/gbdt/m4_run.py BUILD_DIR [ORIGINS] [ROUNDS]

bench_m4gbdt builds one table of per-series normalised lag features over all
414 M4 Hourly series (direct multi-horizon, horizon 48 as a feature; see
bench_m4gbdt.c), then floatcast and xgboost each train a squared-error model
(point forecast) and 0.1 / 0.9 quantile models on the same rows with the same
settings, predict the 48 test hours of every series, and bench_m4gbdt scores
both the same way: sMAPE, MASE, OWA against Naive2, and the share of test
values inside the p10-p90 band (nominal 80 %). Times are wall seconds for
training plus prediction of the three models.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
M4 = os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "m4-hourly")


def figures(out):
    return dict(kv.split("=") for kv in out.split())


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    origins = sys.argv[2] if len(sys.argv) > 2 else "12"
    rounds = sys.argv[3] if len(sys.argv) > 3 else "100"
    settings = [rounds, "63", "8", "0.1", "2"]  # rounds leaves depth lr threads
    bench = os.path.join(build, "bin", "bench_m4gbdt")
    m4 = os.path.abspath(M4)
    with tempfile.TemporaryDirectory() as d:
        meta = figures(run([bench, "table", m4, d, origins]))
        t = {"floatcast": figures(run([bench, "fit", d] + settings)),
             "xgboost": figures(run([sys.executable, os.path.join(HERE, "m4_xgb_side.py"), d] + settings))}
        s = {"floatcast": figures(run([bench, "score", m4, d, "fc"])),
             "xgboost": figures(run([bench, "score", m4, d, "xgb"]))}
    print(f"M4 Hourly, one global model: {meta['ntrain']} training rows x {meta['nf']} features "
          f"({origins} origins per series), {meta['ntest']} test rows; rounds/leaves/depth/lr/threads = "
          + "/".join(settings))
    print(f"{'':32}{'floatcast':>12}{'xgboost hist':>14}")
    for key, label in (("smape", "sMAPE (%)"), ("mase", "MASE"), ("owa", "OWA (Naive2 = 1)"),
                       ("coverage", "p10-p90 coverage (nominal 0.8)")):
        print(f"{label:32}{float(s['floatcast'][key]):12.4f}{float(s['xgboost'][key]):14.4f}")
    for key, label in (("mean_fc_s", "time l2 model (s)"), ("lo_fc_s", "time q0.1 model (s)"),
                       ("hi_fc_s", "time q0.9 model (s)"), ("total_s", "time, all three (s)")):
        xk = key.replace("_fc_", "_xgb_")
        print(f"{label:32}{float(t['floatcast'][key]):12.3f}{float(t['xgboost'][xk]):14.3f}")
    print(f"Naive2: sMAPE {s['floatcast']['naive2_smape']}, MASE {s['floatcast']['naive2_mase']}")
    print(f"load average: {open('/proc/loadavg').read().split()[0]}")


if __name__ == "__main__":
    main()
