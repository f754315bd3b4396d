"""Helpers for the benchmark scripts: where the shared data is, and timing summaries."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("SLR_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"


def require_shared() -> None:
    if not (DATA / "sign_to_prediction_index_map.json").is_file():
        sys.exit(f"benchmark needs the shared data folder ({SHARED}); set SLR_SHARED")


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def median(values) -> float:
    return statistics.median(values)


def report(name: str, values, unit: str = "ms", scale: float = 1000.0) -> None:
    v = sorted(x * scale for x in values)
    print(f"{name}: median {median(v):.2f} {unit} (min {v[0]:.2f}, max {v[-1]:.2f}, {len(v)} runs)")


def edit_distance(a, b) -> int:
    """Levenshtein distance between two sequences (of words or characters)."""
    import numpy as np

    d = np.arange(len(b) + 1)
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return int(d[len(b)])


def edit_ops(got, want) -> tuple[int, int, int]:
    """(substitutions, insertions, deletions) turning `want` into `got` along one shortest path."""
    import numpy as np

    n, m = len(want), len(got)
    d = np.zeros((n + 1, m + 1), int)
    d[:, 0], d[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (want[i - 1] != got[j - 1]))
    subs = ins = dels = 0
    i, j = n, m
    while i or j:
        if i and j and d[i, j] == d[i - 1, j - 1] + (want[i - 1] != got[j - 1]):
            subs += want[i - 1] != got[j - 1]
            i, j = i - 1, j - 1
        elif j and d[i, j] == d[i, j - 1] + 1:
            ins, j = ins + 1, j - 1
        else:
            dels, i = dels + 1, i - 1
    return subs, ins, dels


def window_inputs(config, b: int = 1, device: str = "cpu") -> tuple:
    """A batch of b random windows shaped for a model of this config (time does not depend on values)."""
    import torch

    from slr_core.features.handshape import N_HAND_FEATURES

    x = torch.randn(b, config.length, 87, 2, device=device)
    hands = torch.randn(b, config.length, 2, N_HAND_FEATURES, device=device)
    mask = torch.ones(b, config.length, dtype=torch.bool, device=device)
    groups = torch.ones(b, config.length, 4, dtype=torch.bool, device=device)
    pos = torch.arange(config.length, dtype=torch.float32, device=device).expand(b, -1).contiguous()
    return x, hands, mask, groups, pos


def call_ms(fn, runs: int, calls: int, warmup: int = 10) -> list[float]:
    """The median milliseconds of `calls` calls of fn(), per run (after `warmup` calls)."""
    for _ in range(warmup):
        fn()
    medians = []
    for _ in range(runs):
        times = []
        for _ in range(calls):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        medians.append(statistics.median(times) * 1000)
    return medians


def window_ms(model, threads: int, runs: int, calls: int) -> list[float]:
    """One window at batch 1 on `threads` torch threads: the median milliseconds of `calls` calls, per run
    (after 10 calls to warm up)."""
    import torch

    torch.set_num_threads(threads)
    batch = window_inputs(model.config)
    with torch.inference_mode():
        return call_ms(lambda: model(*batch), runs, calls)
