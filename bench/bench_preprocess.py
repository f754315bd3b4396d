"""Preprocessing speed: one sequence at a time, on one core, over real asl-signs sequences.

Usage: python bench/bench_preprocess.py [--runs 5]
"""

import argparse

from common import DATA, median, report, require_shared

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=5)
args = parser.parse_args()
require_shared()

import os  # noqa: E402
import time  # noqa: E402

os.environ.setdefault("OMP_NUM_THREADS", "1")
from slr_core.datasets.data import load_dataset  # noqa: E402
from slr_core.features.preprocess import preprocess  # noqa: E402

ds = load_dataset(DATA / "asl-signs-subset")
seqs = [ds.keypoints(i) for i in range(len(ds))]
lengths = sorted(len(k) for k in seqs)
print(f"{len(seqs)} sequences, frames: median {median(lengths)}, max {lengths[-1]}")
for kp in seqs[:20]:
    preprocess(kp)  # warm-up
per_seq_runs, worst_runs = [], []
for _ in range(args.runs):
    times = []
    for kp in seqs:
        t0 = time.perf_counter()
        preprocess(kp)
        times.append(time.perf_counter() - t0)
    per_seq_runs.append(median(times))
    worst_runs.append(sorted(times)[int(0.99 * len(times))])
report("preprocess, median per sequence", per_seq_runs, "ms")
report("preprocess, 99th percentile    ", worst_runs, "ms")
