"""A compact on-disk cache of a dataset, so training does not re-read every parquet file each epoch.

The cache keeps only what the pipeline reads: the pipeline rows (94 of the 543) and x, y, z as float32
(exactly what inference sees, so training and live tensors are identical) in one flat file that is
memory-mapped on load, plus an index of where each sequence starts. The full Kaggle set (94,477
sequences) takes a few GB on disk and almost no RAM to open. The cache is keyed by a hash of
``train.csv`` and the pipeline layout: a changed dataset is rebuilt, not silently reused.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..base import settings
from ..capture.keypoints import KeypointsError
from ..capture.landmarks import N_PIPELINE_ROWS, PIPELINE_HAND_ROWS, PIPELINE_ROWS
from ..capture.poseformat import read_keypoints
from .data import Dataset, DatasetError

CACHE_VERSION = 5
FRAMES_FILE = "frames.f32"
COORDS = 3  # x, y, z (z for the 3D hand shapes)
INDEX_FILE = "index.npz"
META_FILE = "meta.json"


def default_cache_root() -> Path:
    return settings.cache_dir()


def fingerprint(dataset: Dataset) -> str:
    """What the cache is built from: train.csv, the size and modification time of every file it
    lists (a changed parquet file means a new cache), the pipeline layout and the cache version."""
    h = hashlib.sha1()
    h.update((dataset.root / "train.csv").read_bytes())
    for i in range(len(dataset)):
        try:
            st = dataset.path(i).stat()
            h.update(f"{st.st_size}:{st.st_mtime_ns};".encode())
        except OSError:
            h.update(b"missing;")
    h.update(np.asarray(PIPELINE_ROWS).tobytes())
    h.update(str(CACHE_VERSION).encode())
    return h.hexdigest()[:16]


def cache_dir_for(dataset: Dataset, cache_root: str | Path | None = None) -> Path:
    root = Path(cache_root) if cache_root else default_cache_root()
    name = dataset.root.resolve().name or "dataset"
    return root / f"{name}-{fingerprint(dataset)}"


@dataclass
class SequenceCache:
    """Memory-mapped sequences in the pipeline layout: get(i) -> ((T, 94, 3) float32, (T,) seconds)."""

    path: Path
    frames: np.ndarray  # (N_total, 94, 3) float32, memory-mapped
    times: np.ndarray  # (N_total,) float64 seconds
    offsets: np.ndarray  # (n + 1,) int64
    keep: np.ndarray  # (n,) int64: dataset row of each cached sequence
    skipped: list

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.offsets[i], self.offsets[i + 1]
        return np.array(self.frames[a:b]), np.asarray(self.times[a:b], np.float64)

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def _read_one(path: str):
    try:
        kp = read_keypoints(path)
    except KeypointsError as exc:
        return None, None, str(exc)
    data = np.ascontiguousarray(kp.data[:, PIPELINE_ROWS, :COORDS])
    problem = usable(data)
    if problem:
        return None, None, f"{path}: {problem}"
    return data, kp.times, None


def usable(data: np.ndarray) -> str:
    """Why a sequence (T, rows, C) cannot be used, or '' when it can."""
    if len(data) == 0:
        return "no frames (zero rows)"
    if np.isinf(data).any():
        return "infinite coordinates"
    if not np.isfinite(data).any():
        return "no landmark values at all (every coordinate is NaN)"
    if not np.isfinite(data[:, PIPELINE_HAND_ROWS, 0]).any():
        return "no hand in any frame (nothing to learn a sign from)"
    return ""


def build_cache(
    dataset: Dataset,
    cache_root: str | Path | None = None,
    workers: int = 1,
    progress: bool = True,
) -> SequenceCache:
    """Read every sequence once and write the cache (atomically); returns it opened."""
    if len(dataset) == 0:
        raise DatasetError(f"{dataset.root / 'train.csv'}: lists no sequences")
    target = cache_dir_for(dataset, cache_root)
    tmp = target.with_name(f"{target.name}.building-{os.getpid()}")  # builders never share a folder
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    paths = [str(dataset.path(i)) for i in range(len(dataset))]
    offsets, times, keep, skipped = _write_frames(paths, tmp / FRAMES_FILE, workers, progress)
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DatasetError(f"{dataset.root}: none of the {len(paths)} sequences could be read")
    np.savez(
        tmp / INDEX_FILE,
        offsets=np.array(offsets, np.int64),
        times=np.concatenate(times) if times else np.zeros(0, np.float64),
        keep=np.array(keep, np.int64),
    )
    meta = {
        "version": CACHE_VERSION,
        "dataset": str(dataset.root.resolve()),
        "fingerprint": fingerprint(dataset),
        "sequences": len(keep),
        "frames": int(offsets[-1]),
        "rows": N_PIPELINE_ROWS,
        "skipped": skipped,
    }
    (tmp / META_FILE).write_text(json.dumps(meta, indent=1))
    shutil.rmtree(target, ignore_errors=True)  # a damaged or stale cache of the same key
    try:
        tmp.rename(target)
    except OSError:  # another process finished the same cache first: use theirs
        shutil.rmtree(tmp, ignore_errors=True)
    return open_cache(target)


def _write_frames(
    paths: list[str], file: Path, workers: int, progress: bool
) -> tuple[list, list, list, list]:
    """Read each parquet file (in `workers` processes) and append its frames to `file`; returns
    (offsets, times, kept file numbers, skipped (path, why))."""
    offsets, times, keep, skipped = [0], [], [], []
    results: Iterable
    with open(file, "wb") as out:
        if workers > 1:
            pool = mp.get_context("spawn").Pool(workers)
            results = pool.imap(_read_one, paths, chunksize=64)
        else:
            pool, results = None, map(_read_one, paths)
        try:
            for i, (frames, t, error) in enumerate(
                tqdm(results, total=len(paths), desc="cache", disable=not progress)
            ):
                if error is not None:
                    skipped.append((paths[i], error))
                    continue
                out.write(np.ascontiguousarray(frames).tobytes())
                times.append(t)
                offsets.append(offsets[-1] + len(frames))
                keep.append(i)
        finally:
            if pool is not None:
                pool.terminate()
    return offsets, times, keep, skipped


def open_cache(path: str | Path) -> SequenceCache:
    path = Path(path)
    try:
        meta = json.loads((path / META_FILE).read_text())
        index = np.load(path / INDEX_FILE)
        shape = (meta["frames"], N_PIPELINE_ROWS, COORDS)
        frames: np.ndarray
        if meta["frames"]:
            frames = np.memmap(path / FRAMES_FILE, dtype=np.float32, mode="r", shape=shape)
        else:  # an empty file cannot be memory-mapped
            frames = np.zeros(shape, np.float32)
    except (OSError, ValueError, KeyError) as exc:
        raise DatasetError(f"{path}: not a usable cache ({exc}); delete it to rebuild") from None
    return SequenceCache(path, frames, index["times"], index["offsets"], index["keep"], meta["skipped"])


def load_or_build_cache(
    dataset: Dataset,
    cache_root: str | Path | None = None,
    workers: int = 1,
    progress: bool = True,
) -> SequenceCache:
    """Open the dataset's cache if it matches the dataset, else build it."""
    target = cache_dir_for(dataset, cache_root)
    if (target / META_FILE).is_file():
        try:
            return open_cache(target)
        except DatasetError:
            pass  # damaged: rebuild below
    return build_cache(dataset, cache_root, workers, progress)
