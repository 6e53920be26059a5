#!/usr/bin/python3
"""Segmentation benchmark: floatcast versus scikit-learn, one run.

Runs the floatcast driver (bench_segments) and scikit-learn on the same
matrices in the same process tree with the same thread count (1: OMP, BLAS
and floatcast are all single-threaded here), then prints a side-by-side
table. Usage (from the repository root, after building):

  tests/bench/segments/run.sh [build-dir]
"""
import argparse, json, os, subprocess, sys, tempfile, time

import numpy as np
import sklearn
from sklearn.cluster import DBSCAN, KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score


def fc(binary, *args):
    out = subprocess.run([binary, *map(str, args)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def sil(X, labels, seed):
    keep = labels >= 0
    if len(set(labels[keep])) < 2:
        return float("nan")
    return float(silhouette_score(X[keep], labels[keep], sample_size=min(5000, keep.sum()),
                                  random_state=seed))


def cdnow(binary, path, tmp, seed):
    f = fc(binary, "cdnow", path, tmp, seed)
    n, d = f["n_users"], f["d"]
    X = np.fromfile(os.path.join(tmp, "cdnow_X.f64"), dtype="<f8").reshape(n, d)
    fc_km = np.fromfile(os.path.join(tmp, "cdnow_km.i32"), dtype="<i4")
    fc_db = np.fromfile(os.path.join(tmp, "cdnow_db.i32"), dtype="<i4")
    t0, c0 = time.perf_counter(), time.process_time()
    km = KMeans(n_clusters=4, n_init=10, max_iter=300, tol=1e-4, random_state=seed).fit(X)
    t_km, c_km = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    db = DBSCAN(eps=f["dbscan_eps"], min_samples=f["dbscan_min_pts"], n_jobs=1).fit(X)
    t_db, c_db = time.perf_counter() - t0, time.process_time() - c0
    sk_db = db.labels_
    rows = [
        ("CDNOW users x features", f"{n} x {d}", f"{n} x {d}"),
        ("features from %d txns (s)" % f["n_txn"], "%.3f" % f["features_s"], "-"),
        ("KMeans k=4 n_init=10: s wall / s CPU", "%.3f / %.3f" % (f["kmeans_s"], f["kmeans_cpu_s"]),
         "%.3f / %.3f" % (t_km, c_km)),
        ("KMeans inertia", "%.2f" % f["kmeans_inertia"], "%.2f" % km.inertia_),
        ("KMeans silhouette (sklearn, 5000 sample)", "%.4f" % sil(X, fc_km, 0),
         "%.4f" % sil(X, km.labels_, 0)),
        ("KMeans ARI floatcast vs sklearn", "%.4f" % adjusted_rand_score(km.labels_, fc_km), ""),
        ("DBSCAN min_pts=%d, eps from knee (s)" % f["dbscan_min_pts"], "%.3f" % f["dbscan_s"], "-"),
        ("DBSCAN eps=%.4f given: s wall / s CPU" % f["dbscan_eps"],
         "%.3f / %.3f" % (f["dbscan_fixed_eps_s"], f["dbscan_fixed_eps_cpu_s"]),
         "%.3f / %.3f" % (t_db, c_db)),
        ("DBSCAN clusters / noise", "%d / %d" % (f["dbscan_clusters"], f["dbscan_noise"]),
         "%d / %d" % (sk_db.max() + 1, (sk_db < 0).sum())),
        ("DBSCAN labels identical", str(bool((sk_db == fc_db).all())), ""),
        ("DBSCAN silhouette (non-noise)", "%.4f" % sil(X, fc_db, 0), "%.4f" % sil(X, sk_db, 0)),
        ("DBSCAN speed-up, eps given / incl. knee", "%.1fx / %.1fx" % (
            t_db / f["dbscan_fixed_eps_s"], t_db / f["dbscan_s"]), ""),
    ]
    return rows


def synth(binary, tmp, n, d, k, seed, fits):
    f = fc(binary, "synth", n, d, k, tmp, seed, fits)["fits"]
    X = np.fromfile(os.path.join(tmp, "synth.f64"), dtype="<f8").reshape(n, d)
    sk = []
    for i in range(fits):
        t0, c0 = time.perf_counter(), time.process_time()
        m = KMeans(n_clusters=k, n_init=1, max_iter=300, tol=1e-4, random_state=seed + i).fit(X)
        sk.append({"s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                   "iter": m.n_iter_, "inertia": m.inertia_})
    rows = []
    for i in range(fits):
        a, b = f[i], sk[i]
        rows.append(("synth %dx%d k=%d seed %d: s wall / s CPU / iter / inertia" % (n, d, k, seed + i),
                     "%.3f / %.3f / %d / %.6g" % (a["s"], a["cpu_s"], a["iter"], a["inertia"]),
                     "%.3f / %.3f / %d / %.6g" % (b["s"], b["cpu_s"], b["iter"], b["inertia"])))
    med = lambda v: float(np.median(v))
    for key, what in (("s", "wall"), ("cpu_s", "CPU")):
        rows.append(("synth median %s s per fit" % what, "%.3f" % med([a[key] for a in f]),
                     "%.3f" % med([b[key] for b in sk])))
        rows.append(("synth median %s ms per iteration" % what,
                      "%.2f" % med([1e3 * a[key] / a["iter"] for a in f]),
                      "%.2f" % med([1e3 * b[key] / b["iter"] for b in sk])))
    rows.append(("synth median inertia", "%.6g" % med([a["inertia"] for a in f]),
                 "%.6g" % med([b["inertia"] for b in sk])))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--cdnow", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--fits", type=int, default=3)
    a = ap.parse_args()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        rows = cdnow(a.bin, a.cdnow, tmp, a.seed) + synth(a.bin, tmp, a.n, 8, 8, a.seed, a.fits)
    print("sklearn %s, numpy %s, threads: OMP_NUM_THREADS=%s, floatcast single-threaded" %
          (sklearn.__version__, np.__version__, os.environ.get("OMP_NUM_THREADS", "unset")))
    print("load average (1/5/15 min) before: %.2f %.2f %.2f, after: %.2f %.2f %.2f on %d CPUs" %
          (*load0, *os.getloadavg(), os.cpu_count()))
    w = max(len(r[0]) for r in rows)
    print("| %-*s | %-34s | %-34s |" % (w, "measure", "floatcast", "scikit-learn"))
    print("|%s|%s|%s|" % ("-" * (w + 2), "-" * 36, "-" * 36))
    for r in rows:
        print("| %-*s | %-34s | %-34s |" % (w, r[0], r[1], r[2]))


if __name__ == "__main__":
    main()
