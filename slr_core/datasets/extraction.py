"""`slr extract`: a folder of labelled clips -> a Kaggle-layout dataset, in parallel worker processes
(one MediaPipe graph each, reused for every clip), resuming where it stopped. ``datasets.eaf`` uses
the same workers for corpora annotated in ELAN.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..capture.keypoints import KeypointsError, write_parquet
from .data import (
    SIGN_MAP_NAME,
    UNKNOWN_LABEL,
    DatasetError,
    _check_signs,
    default_sign_map,
    find_sign_map,
    load_sign_map,
)

# --- `slr extract`: labelled clips -> a Kaggle-layout dataset --------------------------------------


@dataclass
class ExtractReport:
    out: Path
    written: int = 0
    skipped_existing: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"{self.written} clip(s) extracted, {self.skipped_existing} already there, "
            f"{len(self.failures)} failed -> {self.out}"
            + (" (the dataset lists the others)" if self.failures else "")
        ]
        lines += [f"  FAILED {path}: {why}" for path, why in self.failures]
        return "\n".join(lines)


def read_labels(labels_csv: str | Path, sign_map: dict[str, int]) -> pd.DataFrame:
    """labels.csv (path, sign[, participant_id][, word]) -> one row per clip, checked."""
    labels_csv = Path(labels_csv)
    if not labels_csv.is_file():
        raise DatasetError(f"{labels_csv}: no such labels file")
    try:
        table = pd.read_csv(labels_csv, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise DatasetError(f"{labels_csv}: not a readable CSV ({exc})") from None
    for column in ("path", "sign"):
        if column not in table.columns:
            raise DatasetError(
                f"{labels_csv}: missing column '{column}' (expected path,sign[,participant_id])"
            )
    table = table[table["path"].str.strip() != ""].copy()
    table["sign"] = table["sign"].str.strip().replace("", UNKNOWN_LABEL)
    _check_signs(table["sign"], sign_map, labels_csv)
    if "participant_id" not in table.columns:
        table["participant_id"] = "0"
    bad = table[~table["participant_id"].str.fullmatch(r"\d+")]
    if len(bad):
        raise DatasetError(f"{labels_csv}: participant_id must be a whole number (row {bad.index[0] + 2})")
    if "word" not in table.columns:
        table["word"] = table["sign"]
    table["sequence_id"] = [zlib.crc32(p.encode()) for p in table["path"]]
    twice = table["path"][table["sequence_id"].duplicated(keep=False)]
    if len(twice):
        rows = ", ".join(str(i + 2) for i in twice.index[:4])
        raise DatasetError(f"{labels_csv}: the clip {twice.iloc[0]!r} is listed more than once (rows {rows})")
    return table.reset_index(drop=True)


_worker_extractor = None


def _init_worker() -> None:
    global _worker_extractor
    from ..capture.extract import Extractor

    _worker_extractor = Extractor()  # one Holistic per worker, reused for every clip


def _extract_one(job: tuple[str, str]) -> tuple[str, str | None]:
    from ..capture.extract import VideoError, extract_video

    clip, out = job
    try:
        kp = extract_video(clip, _worker_extractor)
        if not kp.hands_present().any():
            return clip, "no hands were detected in any frame"
        write_parquet(kp, out)
        return clip, None
    except (VideoError, KeypointsError, OSError) as exc:
        return clip, str(exc)


def _run_extraction(
    jobs: list[tuple[str, str]],
    workers: int,
    report: ExtractReport,
    progress: bool | Callable[[int, int], None],
) -> None:
    """Extract (clip, parquet) jobs in worker processes, one MediaPipe graph each; fills the report.
    progress: a tqdm bar (True), nothing (False), or a callback (clips done, clips in all)."""
    failed: dict[str, str] = {}
    if jobs:
        workers = max(1, min(workers, len(jobs)))
        ctx = mp.get_context("spawn")  # fork after torch/MediaPipe threads start is unsafe
        with ctx.Pool(workers, initializer=_init_worker) as pool:
            results = pool.imap_unordered(_extract_one, jobs)
            bar = tqdm(results, total=len(jobs), desc="extract", disable=progress is not True)
            for done, (clip, error) in enumerate(bar, start=1):
                if error is None:
                    report.written += 1
                else:
                    failed[clip] = error
                if callable(progress):
                    progress(done, len(jobs))
    report.failures = sorted(failed.items())


def extract_dataset(
    labels_csv: str | Path,
    out_dir: str | Path,
    workers: int = 1,
    sign_map_path: str | Path | None = None,
    progress: bool | Callable[[int, int], None] = True,
) -> ExtractReport:
    """Turn a folder of labelled clips into a Kaggle-layout dataset, in parallel.

    Clips already extracted are kept (a re-run resumes); clips that fail are reported, not fatal.
    """
    labels_csv = Path(labels_csv)
    map_path = Path(sign_map_path) if sign_map_path else find_sign_map(labels_csv.parent)
    sign_map = load_sign_map(map_path) if map_path is not None else default_sign_map(labels_csv.parent)
    table = read_labels(labels_csv, sign_map)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / SIGN_MAP_NAME).write_text(json.dumps(sign_map, indent=1))
    report = ExtractReport(out)

    rel = [
        f"train_landmark_files/{p}/{s}.parquet" for p, s in zip(table["participant_id"], table["sequence_id"])
    ]
    clips = [str((labels_csv.parent / p).resolve()) for p in table["path"]]
    jobs = []
    for clip, r in zip(clips, rel):
        if (out / r).is_file():
            report.skipped_existing += 1
        else:
            jobs.append((clip, str(out / r)))
    _run_extraction(jobs, workers, report, progress)
    ok = np.array([(out / r).is_file() for r in rel], dtype=bool)
    train = pd.DataFrame(
        {
            "path": rel,
            "participant_id": table["participant_id"].astype(np.int64),
            "sequence_id": table["sequence_id"].astype(np.int64),
            "sign": table["sign"],
            "word": table["word"],
            "clip": table["path"],
        }
    )[ok]
    tmp = out / "train.csv.tmp"
    train.to_csv(tmp, index=False)
    tmp.replace(out / "train.csv")
    (out / "extract_report.json").write_text(
        json.dumps(
            {"labels": str(labels_csv.resolve()), "clips": len(table), "failures": report.failures}, indent=1
        )
    )
    return report
