"""Time kNN prediction: striate's chunked no-loop KNearestNeighbor against scikit-learn's
brute-force KNeighborsClassifier on the same data, with the same number of threads.

The default case is the issue's: 10,000 float32 queries of 3,072 values (CIFAR-sized) against
5,000 training points, k = 5. Both run in one process, interleaved round by round; the script
prints the median seconds, the ratio striate / scikit-learn (below 1: striate is faster), and
how many predictions agree (all of them, but for exact ties).

    python bench/bench_knn.py                 # the default case, all cores
    python bench/bench_knn.py --threads 1 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import striate  # noqa: F401  (first: it sets the BLAS thread wait policy before NumPy starts)
from striate.classic import KNearestNeighbor


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--num-test", type=int, default=10_000)
    p.add_argument("--num-train", type=int, default=5_000)
    p.add_argument("--dim", type=int, default=3_072)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()

    from sklearn.neighbors import KNeighborsClassifier
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    Xtr = rng.standard_normal((args.num_train, args.dim), dtype=np.float32)
    ytr = rng.integers(0, args.classes, args.num_train)
    Xte = rng.standard_normal((args.num_test, args.dim), dtype=np.float32)

    ours = KNearestNeighbor()
    ours.train(Xtr, ytr)
    ref = KNeighborsClassifier(n_neighbors=args.k, algorithm="brute").fit(Xtr, ytr)

    times: dict[str, list[float]] = {"striate": [], "scikit-learn": []}
    preds = {}
    # threadpool_limits caps BLAS (our GEMM) and OpenMP (scikit-learn's Cython loops) alike
    with threadpool_limits(limits=args.threads):
        for _ in range(args.rounds):
            for name, fn in (("striate", lambda: ours.predict(Xte, k=args.k)),
                             ("scikit-learn", lambda: ref.predict(Xte))):
                t = time.perf_counter()
                preds[name] = fn()
                times[name].append(time.perf_counter() - t)
    med = {name: float(np.median(v)) for name, v in times.items()}
    agree = float(np.mean(preds["striate"] == preds["scikit-learn"]))
    print(f"kNN predict: {args.num_test} x {args.dim} float32 queries, {args.num_train} "
          f"training points, k = {args.k}, {args.threads} threads, median of {args.rounds}")
    for name, v in med.items():
        print(f"  {name:13s} {v:8.3f} s")
    print(f"  ratio striate / scikit-learn: {med['striate'] / med['scikit-learn']:.2f}")
    print(f"  predictions agreeing: {100 * agree:.2f}%")


if __name__ == "__main__":
    main()
