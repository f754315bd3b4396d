"""The machinery at full size: a synthetic dataset the size and shape of Kaggle's asl-signs
(94,477 sequences, 250 signs, 21 participants, all 543 rows per frame), then `slr cache`,
`slr train` (one epoch, one process and two DDP processes) and `slr eval` on it, each timed with
its peak memory.

It measures the machinery, not accuracy: the sequences are augmented copies of the 518 real
asl-signs-subset sequences (hello and thankyou) spread over labels they do not show, so whatever the
model learns from them means nothing. What it tells: how long the cache takes to build and how much
disk it needs, whether training and evaluation fit in memory and how fast they go at that size.

Usage: python bench/bench_scale.py [--root /tmp/slr-scale] [--sequences 94477] [--preset conv]
       [--samples-per-epoch 0] [--skip cache,train,ddp,eval] [--json figures.json]
The dataset is generated once under --root and reused while its spec (spec.json) matches.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from common import DATA, REPO, require_shared

KAGGLE = dict(sequences=94477, signs=250, participants=21)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default="/tmp/slr-scale", help="where the synthetic dataset, cache and runs go")
    p.add_argument("--sequences", type=int, default=KAGGLE["sequences"])
    p.add_argument("--participants", type=int, default=KAGGLE["participants"])
    p.add_argument("--workers", type=int, default=2, help="processes for generation and the cache")
    p.add_argument("--preset", default="conv", help="model preset to train (the default model's is conv)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--samples-per-epoch", type=int, default=0, help="0: the whole training split")
    p.add_argument("--skip", default="", help="steps to leave out, comma-separated: cache (reuse the built "
                   "one), train, ddp, eval")  # fmt: skip
    p.add_argument("--json", help="write the figures here too")
    p.add_argument("--clean", action="store_true", help="delete the dataset, cache and runs at the end")
    return p.parse_args()


# ---------------------------------------------------------------- the synthetic dataset


def _sources():
    """The real sequences copies are made of (all 543 rows: the face rows the subset leaves out are
    filled from the full-fixture sequences, so each file is as big as a Kaggle one)."""
    from slr_core.capture.keypoints import read_parquet
    from slr_core.datasets.data import load_dataset

    subset = load_dataset(DATA / "asl-signs-subset")
    full = load_dataset(DATA / "asl-signs-full-fixture")
    faces = [read_parquet(full.path(i)).data for i in range(len(full))]
    out = []
    for i in range(len(subset)):
        data = read_parquet(subset.path(i)).data.copy()
        face = faces[i % len(faces)]
        absent = np.isnan(data).all(axis=(0, 2))
        fill = face[np.arange(len(data)) % len(face)]
        data[:, absent] = fill[:, absent]
        out.append(data)
    return out


_SOURCES: list = []
_TEMPLATES: dict = {}


def _init_worker() -> None:
    _SOURCES[:] = _sources()


def _template(n_frames: int):
    """The columns that depend only on the number of frames (Kaggle's row_id strings are the costly
    part to build, so they are built once per length)."""
    import pyarrow as pa

    from slr_core.capture.keypoints import row_names
    from slr_core.capture.landmarks import N_ROWS

    if n_frames not in _TEMPLATES:
        types, index = row_names()
        frames = np.repeat(np.arange(n_frames, dtype=np.int16), N_ROWS)
        row_id = [
            f"{f}-{t}-{i}" for f, t, i in zip(frames, np.tile(types, n_frames), np.tile(index, n_frames))
        ]
        _TEMPLATES[n_frames] = {
            "frame": pa.array(frames, pa.int16()),
            "row_id": pa.array(row_id, pa.large_string()),
            "type": pa.array(np.tile(types, n_frames).tolist(), pa.large_string()),
            "landmark_index": pa.array(np.tile(index, n_frames), pa.int16()),
        }
    return _TEMPLATES[n_frames]


def _copy(data: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An augmented copy: another speed, size, position and tilt of the same movement."""
    n = len(data)
    speed = rng.uniform(0.7, 1.4)
    length = int(np.clip(round(n / speed), 8, 380))
    out = data[np.minimum((np.arange(length) * n / length).astype(int), n - 1)].copy()
    angle = rng.uniform(-0.15, 0.15)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    centre = np.float32(0.5)
    xy = (out[..., :2] - centre) @ rot.T * rng.uniform(0.85, 1.15) + centre
    out[..., :2] = xy + rng.uniform(-0.08, 0.08, 2).astype(np.float32)
    return out


def _write_chunk(chunk: list[tuple[str, int, int]]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for path, source, seed in chunk:
        data = _copy(_SOURCES[source], np.random.default_rng(seed))
        columns = dict(_template(len(data)))
        flat = data.reshape(-1, 3)
        for c, name in enumerate("xyz"):
            columns[name] = pa.array(flat[:, c], pa.float32())
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(columns), path)
    return len(chunk)


def generate(root: Path, n: int, participants: int, workers: int) -> dict:
    """Write the dataset under root/data (Kaggle layout), or reuse it when its spec matches."""
    data = root / "data"
    spec = {"sequences": n, "participants": participants, "version": 1}
    spec_file = data / "spec.json"
    if spec_file.is_file() and json.loads(spec_file.read_text()).get("spec") == spec:
        return json.loads(spec_file.read_text())
    shutil.rmtree(data, ignore_errors=True)
    (data / "train_landmark_files").mkdir(parents=True)
    signs = json.loads((DATA / "sign_to_prediction_index_map.json").read_text())
    shutil.copy(DATA / "sign_to_prediction_index_map.json", data)
    rng = np.random.default_rng(0)
    n_sources = len(list((DATA / "asl-signs-subset" / "train_landmark_files").glob("*/*.parquet")))
    people = rng.choice(np.arange(10000, 70000), participants, replace=False)
    sign_names = sorted(signs)
    rows, jobs = [], []
    for k in range(n):
        person, sign, seq = (
            int(people[k % participants]),
            sign_names[rng.integers(len(sign_names))],
            10**9 + k,
        )
        rel = f"train_landmark_files/{person}/{seq}.parquet"
        rows.append(f"{rel},{person},{seq},{sign}")
        jobs.append((str(data / rel), int(rng.integers(n_sources)), k))
    chunks = [jobs[i : i + 200] for i in range(0, n, 200)]
    t0, done = time.perf_counter(), 0
    with mp.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
        for count in pool.imap_unordered(_write_chunk, chunks):
            done += count
            print(f"\rgenerating: {done}/{n} files, {time.perf_counter() - t0:.0f} s", end="", flush=True)
    print()
    (data / "train.csv").write_text("path,participant_id,sequence_id,sign\n" + "\n".join(rows) + "\n")
    info = {
        "spec": spec,
        "seconds": round(time.perf_counter() - t0, 1),
        "bytes": sum(p.stat().st_size for p in (data / "train_landmark_files").rglob("*.parquet")),
    }
    spec_file.write_text(json.dumps(info))
    return info


# ---------------------------------------------------------------- measuring a command


def _tree(pid: int) -> list[int]:
    """pid and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _memory_mb(pids: list[int]) -> tuple[float, float]:
    """(proportional set size, anonymous memory) of the processes together, in MB. PSS counts pages
    several processes share once, not once per process (as a sum of RSS would); it includes the
    pages of the memory-mapped cache the process has read, which the kernel can drop at any time.
    Anonymous memory is what the processes hold themselves (arrays, the model, the optimizer)."""
    pss = anon = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Anonymous:"):
                    anon += int(line.split()[1])
        except OSError:
            pass
    return pss / 1024, anon / 1024


def measure(name: str, cmd: list[str], env: dict | None = None) -> dict:
    """Run a command to its end, sampling the memory of its whole process tree twice a second."""
    print(f"\n== {name}: {' '.join(cmd)}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **(env or {})})
    peak = [0.0, 0.0]

    def sample():
        while proc.poll() is None:
            pss, anon = _memory_mb(_tree(proc.pid))
            peak[0], peak[1] = max(peak[0], pss), max(peak[1], anon)
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rc = proc.wait()
    sampler.join()
    seconds = time.perf_counter() - t0
    if rc != 0:
        sys.exit(f"{name} failed (exit {rc})")
    print(f"{name}: {seconds:.0f} s, peak memory {peak[0]:.0f} MB (PSS of every process), of it held by "
          f"the processes themselves (anonymous) {peak[1]:.0f} MB", flush=True)  # fmt: skip
    return {"seconds": round(seconds, 1), "peak_mb": round(peak[0]), "peak_anonymous_mb": round(peak[1])}


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _train_figures(run: Path) -> dict:
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x.strip()]
    speed = [r["samples_per_s"] for r in rows if "samples_per_s" in r]
    epoch = [r for r in rows if r.get("type") == "epoch"]
    status = json.loads((run / "status.json").read_text()) if (run / "status.json").is_file() else {}
    return {
        "samples_per_s": round(speed[-1], 1) if speed else None,  # training steps only, all processes
        "steps": epoch[-1]["step"] if epoch else None,
        "epoch_s": round(epoch[-1]["seconds"]) if epoch else None,  # training and validation
        "status": status.get("state"),
    }


def main() -> None:
    args = parse_args()
    require_shared()
    skip = {s for s in args.skip.split(",") if s}
    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    slr = [sys.executable, "-m", "slr_core.cli"]
    figures: dict = {"note": "synthetic copies of 518 real sequences: machinery, not accuracy"}

    info = generate(root, args.sequences, args.participants, args.workers)
    figures["dataset"] = {**info["spec"], "gigabytes": round(info["bytes"] / 1e9, 2),
                          "generation_s": info["seconds"]}  # fmt: skip
    print(f"dataset: {args.sequences} sequences, {info['bytes'] / 1e9:.1f} GB of parquet", flush=True)
    data, cache = root / "data", root / "cache"
    cmd = [*slr, "cache", "--data", str(data), "--cache-dir", str(cache), "--workers", str(args.workers)]
    if "cache" not in skip:
        shutil.rmtree(cache, ignore_errors=True)
        figures["cache_build"] = measure("cache build", [*cmd, "--quiet"])
        figures["cache_build"]["gigabytes"] = round(_dir_bytes(cache) / 1e9, 2)
    figures["cache_open"] = measure("cache open (or build, when --skip cache finds none)", [*cmd, "--quiet"])

    train = [*slr, "train", "--data", str(data), "--cache-dir", str(cache), "--epochs", "1",
             "--preset", args.preset, "--batch-size", str(args.batch_size), "--device", "cpu",
             "--set", f"samples_per_epoch={args.samples_per_epoch}", "--quiet"]  # fmt: skip
    run = root / "runs" / "one"
    if "train" not in skip:
        shutil.rmtree(run, ignore_errors=True)
        figures["train"] = measure("train, 1 process, 1 epoch", [*train, "--out", str(run)])
        figures["train"].update(_train_figures(run))
    if "ddp" not in skip:
        ddp_run = root / "runs" / "ddp"
        shutil.rmtree(ddp_run, ignore_errors=True)
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
        cmd = [*torchrun, "-m", "slr_core.cli", *train[3:], "--out", str(ddp_run)]
        figures["train_ddp2"] = measure("train, 2 DDP processes, 1 epoch", cmd, {"SLR_TORCH_THREADS": "1"})
        figures["train_ddp2"].update(_train_figures(ddp_run))
    if "eval" not in skip and (run / "model" / "model.json").is_file():
        out = root / "eval.json"
        cmd = [*slr, "eval", "--model", str(run / "model"), "--data", str(data), "--cache-dir", str(cache),
               "--json", str(out), "--quiet"]  # fmt: skip
        figures["eval"] = measure("eval, every sequence", cmd)
        figures["eval"]["sequences"] = json.loads(out.read_text()).get("n")

    print("\n" + json.dumps(figures, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    if args.clean:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
