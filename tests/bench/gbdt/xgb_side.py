"""xgboost's side of the gradient-boosting benchmark: same files, same settings.

usage: xgb_side.py DIR NTRAIN NTEST ROUNDS LEAVES DEPTH LR THREADS
Prints one line of key=value figures, like bench_gbdt run.
"""
import sys
import time

import numpy as np
import xgboost as xgb

NF = 20


def main(a):
    d, ntr, nte = a[0], int(a[1]), int(a[2])
    rounds, leaves, depth, lr, threads = int(a[3]), int(a[4]), int(a[5]), float(a[6]), int(a[7])
    x = np.fromfile(f"{d}/xtrain.f64", dtype="<f8").reshape(ntr, NF)
    y = np.fromfile(f"{d}/ytrain.f64", dtype="<f8")
    xt = np.fromfile(f"{d}/xtest.f64", dtype="<f8").reshape(nte, NF)
    yt = np.fromfile(f"{d}/ytest.f64", dtype="<f8")
    params = {
        "tree_method": "hist", "grow_policy": "lossguide", "max_leaves": leaves,
        "max_depth": depth if depth > 0 else 0, "eta": lr, "nthread": threads,
        "max_bin": 255, "min_child_weight": 20, "reg_lambda": 1.0,
        "objective": "reg:squarederror", "verbosity": 0,
    }
    t0, c0 = time.perf_counter(), time.process_time()
    dtrain = xgb.DMatrix(x, label=y, nthread=threads)
    booster = xgb.train(params, dtrain, num_boost_round=rounds)
    t_train, c_train = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    dtest = xgb.DMatrix(xt, nthread=threads)
    pred = booster.predict(dtest)
    t_pred = time.perf_counter() - t0
    rmse = float(np.sqrt(np.mean((pred - yt) ** 2)))
    print(f"train_s={t_train:.3f} train_cpu_s={c_train:.3f} predict_s={t_pred:.3f} rmse={rmse:.4f} trees={rounds}")


if __name__ == "__main__":
    main(sys.argv[1:])
