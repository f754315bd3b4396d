"""`slr extract --eaf`: a folder of videos annotated in ELAN -> a Kaggle-layout dataset.

Sign-language corpora are made in ELAN: a video, and tiers of time-aligned glosses (.eaf). Each
annotation on the chosen tier becomes one sequence: its span of the video's keypoints (MediaPipe
Holistic over the whole video once, as ``slr extract`` does for a clip, so a corpus goes at the same
speed), with its gloss mapped to a sign of the sign map. Glosses are compared by their letters and
digits only, case aside ("THANK-YOU", "thank you" and "thankyou" are one sign); a gloss map
(CSV: gloss,sign) maps others, and glosses outside both are skipped and counted.

Every problem names its file and annotation: an .eaf that cannot be read, a tier that is missing or
empty, a media file that cannot be found, annotations that overlap one before them, that start after
the video ends or end well past it, spans with no hand: the rest goes on, and the summary counts what
was skipped and why. Parquet files and train.csv are written atomically; a run again resumes.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd
from tqdm.auto import tqdm

from ..capture.keypoints import Keypoints
from . import extraction as _data
from .data import SIGN_MAP_NAME, DatasetError, default_sign_map, find_sign_map, load_sign_map

VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".avi", ".mkv", ".mpg", ".mpeg")
PAST_END_S = 0.5  # an annotation may end this far past the video's last frame (rounding in ELAN)


@dataclass
class Span:
    """One annotation to extract."""

    eaf: str
    index: int  # its place on the tier, from 1
    start: float  # seconds
    end: float
    gloss: str
    sign: str
    participant: int
    rel: str  # the parquet's path inside the dataset


@dataclass
class EafReport:
    out: Path
    files: int = 0
    written: int = 0
    already: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file or file#annotation, why)
    unmapped: Counter = field(default_factory=Counter)  # gloss -> how many annotations

    def summary(self) -> str:
        lines = [f"{self.files} annotated file(s): {self.written} annotation(s) extracted, {self.already} already "
                 f"there, {len(self.skipped) + sum(self.unmapped.values())} skipped -> {self.out}"]  # fmt: skip
        if self.unmapped:
            top = ", ".join(f"{g!r} ({n})" for g, n in self.unmapped.most_common(12))
            lines.append(f"  glosses with no sign in the sign map or gloss map: {top}"
                         + (" ..." if len(self.unmapped) > 12 else ""))  # fmt: skip
        lines += [f"  SKIPPED {where}: {why}" for where, why in self.skipped]
        return "\n".join(lines)


def gloss_key(text: str) -> str:
    """What two glosses must share to be one sign: their letters and digits, lower case."""
    return re.sub(r"[^0-9a-z]+", "", str(text).lower())


def read_gloss_map(path: str | Path | None, sign_map: dict[str, int]) -> dict[str, str]:
    """A gloss map CSV (gloss,sign) as {gloss key: sign}; every sign must be in the sign map."""
    if path is None:
        return {}
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise DatasetError(f"{path}: not a readable gloss map CSV ({exc})") from None
    if not {"gloss", "sign"} <= set(table.columns):
        raise DatasetError(f"{path}: a gloss map needs the columns gloss,sign")
    bad = sorted(set(table["sign"]) - set(sign_map))
    if bad:
        raise DatasetError(f"{path}: sign(s) not in the sign map: {', '.join(bad[:10])}")
    return {gloss_key(g): s for g, s in zip(table["gloss"], table["sign"]) if gloss_key(g)}


def _media_of(eaf, eaf_path: Path) -> Path | None:
    """The video an .eaf links (its relative path first, then its absolute one, then the file's name
    beside the .eaf), or a video beside it with the .eaf's name."""
    folder = eaf_path.parent
    tried: list[Path] = []
    for d in eaf.media_descriptors:
        rel = d.get("RELATIVE_MEDIA_URL") or ""
        if rel:
            tried.append(folder / unquote(rel.removeprefix("file:")).lstrip("/") if rel.startswith("file:/")
                         else folder / unquote(rel))  # fmt: skip
        url = d.get("MEDIA_URL") or ""
        if url:
            path = Path(unquote(urlparse(url).path)) if url.startswith("file:") else Path(url)
            tried += [path, folder / path.name]
    tried += [eaf_path.with_suffix(s) for s in VIDEO_SUFFIXES]
    for p in tried:
        if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file():
            return p
    return None


def _participant(eaf, tier: str, eaf_path: Path) -> int:
    """The tier's PARTICIPANT (one number per name, the same across files), else the file's name."""
    name = (eaf.tiers.get(tier, [None, None, {}])[2] or {}).get("PARTICIPANT") or eaf_path.stem
    return 100_000 + zlib.crc32(str(name).strip().encode()) % 900_000


def plan_file(
    eaf_path: Path, tier: str | None, keys: dict[str, str], report: EafReport
) -> tuple[Path, list[Span]] | None:
    """The spans to extract from one .eaf (and its video), or None when the file cannot be used
    (said in the report)."""
    from pympi.Elan import Eaf

    where = eaf_path.name
    try:
        eaf = Eaf(str(eaf_path), suppress_version_warning=True)
    except Exception as exc:  # pympi raises several types for malformed XML
        report.skipped.append((where, f"not a readable ELAN file ({type(exc).__name__}: {exc})"))
        return None
    tiers = sorted(eaf.get_tier_names())
    if tier is None:
        filled = [t for t in tiers if eaf.get_annotation_data_for_tier(t)]
        if len(filled) != 1:
            report.skipped.append((where, f"{len(filled)} tiers with annotations ({', '.join(filled) or 'none'}); "
                                          "choose one with --tier"))  # fmt: skip
            return None
        tier = filled[0]
    if tier not in tiers:
        report.skipped.append((where, f"no tier {tier!r} (its tiers: {', '.join(tiers) or 'none'})"))
        return None
    rows = sorted(eaf.get_annotation_data_for_tier(tier))[:]
    if not rows:
        report.skipped.append((where, f"the tier {tier!r} has no annotations"))
        return None
    media = _media_of(eaf, eaf_path)
    if media is None:
        linked = ", ".join(d.get("MEDIA_URL", "") for d in eaf.media_descriptors) or "none linked"
        report.skipped.append(
            (where, f"its video was not found ({linked}; nor a video named {eaf_path.stem}.*)")
        )
        return None
    person = _participant(eaf, tier, eaf_path)
    spans, last_end = [], -1
    for k, row in enumerate(rows, start=1):
        start_ms, end_ms, value = int(row[0]), int(row[1]), str(row[2])
        at = f"{where} #{k} ({start_ms / 1000:.2f}-{end_ms / 1000:.2f} s, {value.strip()!r})"
        if end_ms <= start_ms:
            report.skipped.append((at, "ends before it starts"))
            continue
        if start_ms < last_end:
            report.skipped.append(
                (at, f"overlaps the annotation before it (which ends at {last_end / 1000:.2f} s)")
            )
            continue
        last_end = end_ms
        sign = keys.get(gloss_key(value))
        if sign is None:
            report.unmapped[value.strip()] += 1
            continue
        seq = zlib.crc32(f"{eaf_path.name}:{tier}:{start_ms}:{end_ms}".encode())
        spans.append(Span(where, k, start_ms / 1000, end_ms / 1000, value.strip(), sign, person,
                          f"train_landmark_files/{person}/{seq}.parquet"))  # fmt: skip
    return media, spans


def _extract_spans(job: tuple[str, list[Span], str]) -> tuple[list[tuple[Span, str | None]], str | None]:
    """Worker: the video's keypoints once, then each span's frames written as a parquet file."""
    from ..capture.extract import VideoError, extract_video
    from ..capture.keypoints import KeypointsError, write_parquet

    media, spans, out = job
    try:
        kp = extract_video(media, _data._worker_extractor)
    except (VideoError, KeypointsError, OSError) as exc:
        return [], str(exc)
    end = float(kp.times[-1]) if len(kp) else 0.0
    results: list[tuple[Span, str | None]] = []
    for s in spans:
        if s.start >= end:
            results.append((s, f"starts after the video ends ({end:.2f} s)"))
            continue
        if s.end > end + PAST_END_S:
            results.append((s, f"ends at {s.end:.2f} s, past the video's end ({end:.2f} s): another length?"))
            continue
        sel = (kp.times >= s.start) & (kp.times <= s.end)
        part = Keypoints(kp.data[sel], kp.fps, times=kp.times[sel] - (kp.times[sel][0] if sel.any() else 0.0),
                         source=media, meta=dict(kp.meta))  # fmt: skip
        if not sel.any() or not part.hands_present().any():
            results.append((s, "no hand in its span"))
            continue
        write_parquet(part, Path(out) / s.rel)
        results.append((s, None))
    return results, None


def extract_eaf(
    folder: str | Path,
    out_dir: str | Path,
    tier: str | None = None,
    sign_map_path: str | Path | None = None,
    gloss_map: str | Path | None = None,
    workers: int = 1,
    progress: bool = True,
) -> EafReport:
    """Every .eaf in a folder (and below) with its video -> a Kaggle-layout dataset of its annotations."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such folder")
    files = sorted(folder.rglob("*.eaf"))
    if not files:
        raise DatasetError(f"{folder}: no .eaf files in it")
    map_path = Path(sign_map_path) if sign_map_path else find_sign_map(folder)
    sign_map = load_sign_map(map_path) if map_path is not None else default_sign_map(folder)
    keys = {gloss_key(s): s for s in sign_map}
    keys.update(read_gloss_map(gloss_map, sign_map))
    out = Path(out_dir)
    report = EafReport(out, files=len(files))
    jobs, planned = _plan(files, tier, keys, out, report)
    out.mkdir(parents=True, exist_ok=True)
    (out / SIGN_MAP_NAME).write_text(json.dumps(sign_map, indent=1))
    failed = _run(jobs, workers, progress, report)
    kept = [s for s in planned if s.rel not in failed and (out / s.rel).is_file()]
    if not kept:
        raise DatasetError(f"{folder}: no annotation could be extracted\n{report.summary()}")
    _write_table(out, kept)
    return report


def _plan(files: list[Path], tier: str | None, keys: dict[str, str], out: Path, report: EafReport):
    """The extraction jobs (one per video: its spans not extracted yet) and every span planned."""
    jobs, planned = [], []
    for f in files:
        plan = plan_file(f, tier, keys, report)
        if plan is None or not plan[1]:
            continue
        media, spans = plan
        planned += spans
        todo = [s for s in spans if not (out / s.rel).is_file()]
        report.already += len(spans) - len(todo)
        if todo:
            jobs.append((str(media), todo, str(out)))
    return jobs, planned


def _run(jobs: list, workers: int, progress: bool, report: EafReport) -> set[str]:
    """The jobs in worker processes (one MediaPipe graph each); the spans that failed."""
    failed: set[str] = set()
    if not jobs:
        return failed
    ctx = mp.get_context("spawn")  # fork after torch/MediaPipe threads start is unsafe
    with ctx.Pool(max(1, min(workers, len(jobs))), initializer=_data._init_worker) as pool:
        done = pool.imap(_extract_spans, jobs)
        for (results, problem), job in zip(
            tqdm(done, total=len(jobs), desc="extract", disable=not progress), jobs
        ):
            if problem is not None:  # the whole video could not be read: its spans go
                failed |= {s.rel for s in job[1]}
                report.skipped.append((Path(job[0]).name, problem))
            for s, why in results:
                if why is None:
                    report.written += 1
                else:
                    failed.add(s.rel)
                    report.skipped.append(
                        (f"{s.eaf} #{s.index} ({s.start:.2f}-{s.end:.2f} s, {s.gloss!r})", why)
                    )
    return failed


def _write_table(out: Path, kept: list[Span]) -> None:
    """train.csv of the spans extracted (atomically), with each one's gloss, file and span."""
    table = pd.DataFrame({
        "path": [s.rel for s in kept], "participant_id": [s.participant for s in kept],
        "sequence_id": [int(Path(s.rel).stem) for s in kept], "sign": [s.sign for s in kept],
        "word": [s.gloss for s in kept], "eaf": [s.eaf for s in kept],
        "start": [round(s.start, 3) for s in kept], "end": [round(s.end, 3) for s in kept],
    })  # fmt: skip
    tmp = out / "train.csv.tmp"
    table.to_csv(tmp, index=False)
    tmp.replace(out / "train.csv")
