"""xgboost's side of the M4 Hourly global-model benchmark: same files, same settings.

usage: m4_xgb_side.py DIR ROUNDS LEAVES DEPTH LR THREADS
Trains squared error (the point forecast) and the 0.1 / 0.9 quantiles and
writes DIR/{mean,lo,hi}_xgb.f64. xgboost 1.7 has no quantile objective, so
the quantiles use a custom pinball-loss objective (gradient alpha - 1{y < f},
unit hessian) started from the training targets' quantile, the usual recipe
before xgboost 2.0's reg:quantileerror. Prints key=value timings.
"""
import sys
import time

import numpy as np
import xgboost as xgb


def pinball(alpha):
    def obj(pred, dtrain):
        y = dtrain.get_label()
        grad = np.where(y < pred, 1.0 - alpha, -alpha)
        return grad, np.ones_like(pred)
    return obj


def main(a):
    d = a[0]
    rounds, leaves, depth, lr, threads = int(a[1]), int(a[2]), int(a[3]), float(a[4]), int(a[5])
    meta = dict(kv.split("=") for kv in open(f"{d}/meta.txt").read().split())
    ntr, nte, nf = int(meta["ntrain"]), int(meta["ntest"]), int(meta["nf"])
    x = np.fromfile(f"{d}/xtrain.f64", dtype="<f8").reshape(ntr, nf)
    y = np.fromfile(f"{d}/ytrain.f64", dtype="<f8")
    xt = np.fromfile(f"{d}/xtest.f64", dtype="<f8").reshape(nte, nf)
    base = {
        "tree_method": "hist", "grow_policy": "lossguide", "max_leaves": leaves,
        "max_depth": depth if depth > 0 else 0, "eta": lr, "nthread": threads,
        "max_bin": 255, "reg_lambda": 1.0, "verbosity": 0,
    }
    total = 0.0
    out = []
    for name, alpha in (("mean_xgb", None), ("lo_xgb", 0.1), ("hi_xgb", 0.9)):
        t0 = time.perf_counter()
        params = dict(base)
        if alpha is None:
            params.update(objective="reg:squarederror", min_child_weight=20)
            dtrain = xgb.DMatrix(x, label=y, nthread=threads)
            booster = xgb.train(params, dtrain, num_boost_round=rounds)
        else:
            params.update(min_child_weight=20, base_score=float(np.quantile(y, alpha)))
            dtrain = xgb.DMatrix(x, label=y, nthread=threads)
            booster = xgb.train(params, dtrain, num_boost_round=rounds, obj=pinball(alpha))
        pred = booster.predict(xgb.DMatrix(xt, nthread=threads))
        dt = time.perf_counter() - t0
        total += dt
        out.append(f"{name}_s={dt:.3f}")
        pred.astype("<f8").tofile(f"{d}/{name}.f64")
    print(" ".join(out) + f" total_s={total:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
