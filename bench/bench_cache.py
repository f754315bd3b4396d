"""Dataset cache: build it for asl-signs-subset, then load it back (several runs each).

Usage: python bench/bench_cache.py [--runs 3] [--workers 1]
"""

import argparse
import tempfile

from common import DATA, report, require_shared, timed

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=3)
parser.add_argument("--workers", type=int, default=1)
args = parser.parse_args()
require_shared()

from slr_core.datasets.cache import build_cache, load_or_build_cache  # noqa: E402
from slr_core.datasets.data import load_dataset  # noqa: E402

build_runs, load_runs, read_runs = [], [], []
with tempfile.TemporaryDirectory() as tmp:
    for _ in range(args.runs):
        t, cache = timed(build_cache, load_dataset(DATA / "asl-signs-subset"), tmp, args.workers, False)
        build_runs.append(t)
        t, cache = timed(lambda: load_or_build_cache(load_dataset(DATA / "asl-signs-subset"), tmp, 1, False))
        load_runs.append(t)
        t, _ = timed(lambda c=cache: [c.get(i) for i in range(len(c))])
        read_runs.append(t)
    size = sum(p.stat().st_size for p in cache.path.iterdir())
print(f"{len(cache)} sequences, {int(cache.lengths().sum())} frames, {size / 1e6:.1f} MB on disk")
report(f"build (workers={args.workers})", build_runs, "s", 1.0)
report("load (dataset + open cache)", load_runs, "ms")
report("read every sequence from the cache", read_runs, "s", 1.0)
