"""MediaPipe Holistic on video files and on single frames.

One ``Extractor`` wraps one Holistic graph (``model_complexity=1``; the lite pose model is not in the
wheel). Reuse it: a Holistic created per clip and never closed leaks memory. Video frames keep the
graph's tracking state between them; ``reset()`` clears it between clips.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging: warnings and up only

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from ..base.errors import SLRError  # noqa: E402
from .keypoints import Keypoints  # noqa: E402
from .landmarks import FACE, LEFT_HAND, N_COORDS, N_ROWS, POSE, RIGHT_HAND  # noqa: E402

VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".avi", ".mkv", ".m4v")
MAX_SIDE = 1280  # larger frames are downscaled first: the landmarks are normalised anyway
FALLBACK_FPS = 30.0
SPLIT_MIN_S = 60.0  # shorter clips are read by one process: starting MediaPipe in another costs seconds
DAMAGED_SHARE = 0.5  # fewer decodable frames than this share of the container's count: a damaged file

Progress = Callable[[int, int], None]  # (frames done, frames expected or 0 when unknown)


class VideoError(SLRError, ValueError):
    """A video that cannot be used; the message names the file and the problem."""


class Extractor:
    """MediaPipe Holistic, one graph, reused for many frames and clips.

    Use as a context manager, or call ``close()``; the graph holds native memory.
    """

    def __init__(self, model_complexity: int = 1, min_detection_confidence: float = 0.5) -> None:
        import mediapipe as mp  # heavy import, kept out of module import time

        self._holistic = mp.solutions.holistic.Holistic(
            static_image_mode=False,
            model_complexity=model_complexity,
            smooth_landmarks=True,
            refine_face_landmarks=False,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=0.5,
        )

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._holistic is not None:
            self._holistic.close()
            self._holistic = None

    def reset(self) -> None:
        """Forget the tracking state (call between unrelated clips)."""
        self._holistic.reset()

    def process(self, rgb: np.ndarray) -> np.ndarray:
        """Landmarks of one RGB uint8 frame (H, W, 3) as a (543, 3) float32 array, NaN where missing."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {rgb.dtype} {rgb.shape}")
        return self._to_array(self._holistic.process(rgb))

    @staticmethod
    def _to_array(result) -> np.ndarray:
        out = np.full((N_ROWS, N_COORDS), np.nan, dtype=np.float32)
        for group, landmarks in (
            (FACE, result.face_landmarks),
            (LEFT_HAND, result.left_hand_landmarks),
            (POSE, result.pose_landmarks),
            (RIGHT_HAND, result.right_hand_landmarks),
        ):
            if landmarks is not None:
                pts = landmarks.landmark
                out[group.start : group.start + len(pts)] = [(p.x, p.y, p.z) for p in pts][: group.size]
        return out


def _fit(frame_bgr: np.ndarray) -> np.ndarray:
    h, w = frame_bgr.shape[:2]
    scale = MAX_SIDE / max(h, w)
    if scale < 1.0:
        frame_bgr = cv2.resize(frame_bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)


def open_video(path: str | Path) -> tuple[cv2.VideoCapture, float, int]:
    """Open a video file, checking it first; returns (capture, fps, frame count or 0)."""
    path = Path(path)
    if path.is_dir():
        raise VideoError(f"{path}: a folder, not a video file")
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty (0 bytes)")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise VideoError(f"{path}: not a video that can be decoded (unknown format or damaged file)")
    # Phones store portrait video sideways with a rotation flag; this OpenCV build reads the flag
    # (CAP_PROP_ORIENTATION_META) but hands out the frames unrotated unless asked to turn them.
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = float(fps) if fps and np.isfinite(fps) and 1.0 <= fps <= 240.0 else FALLBACK_FPS
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    count = int(count) if count and np.isfinite(count) and count > 0 else 0
    return cap, fps, count


def clip_seconds(path: str | Path) -> float:
    """A video's length in seconds from its header (0 when the header does not say)."""
    cap, fps, count = open_video(path)
    cap.release()
    return count / fps if count else 0.0


def iter_frames(path: str | Path):
    """Yield (time in seconds, RGB frame) for every decodable frame of a video, in order."""
    cap, fps, _ = open_video(path)
    yield from _read_frames(cap, fps)


def _read_frames(cap: cv2.VideoCapture, fps: float, first: int = 0):
    """(seconds, RGB frame) from where the capture stands; `first`: the number of that frame (for
    containers without usable timestamps)."""
    try:
        i = first
        last_t = -1.0
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if not np.isfinite(t) or t <= last_t:  # containers without usable timestamps
                t = max(i / fps, last_t + 1.0 / fps)
            last_t = t
            yield t, _fit(frame)
            i += 1
    finally:
        cap.release()


@dataclass
class _Part:
    """What one pass over (part of) a video collected."""

    rows: list = field(default_factory=list)
    times: list = field(default_factory=list)
    decoded: int = 0
    size: tuple = (0, 0)


def _extract_frames(frames, extractor: Extractor, fps: float, max_fps: float | None, on_frame) -> _Part:
    """Holistic over (time, RGB) frames; with max_fps only over frames at least 1/max_fps apart."""
    part = _Part()
    step = 1.0 / max_fps if max_fps and max_fps < fps else 0.0
    for t, rgb in frames:
        part.decoded += 1
        if step and part.times and t - part.times[-1] < step - 0.25 / fps:
            continue  # a frame between the kept ones
        part.rows.append(extractor.process(rgb))
        part.times.append(t)
        part.size = part.size if part.size[0] else rgb.shape[:2]
        on_frame(len(part.rows))
    return part


def _assemble(path: Path, parts: list[_Part], fps: float, expected: int) -> Keypoints:
    """Join the parts of a video in order into its Keypoints, checking the file was whole."""
    rows = [r for p in parts for r in p.rows]
    times = np.asarray([t for p in parts for t in p.times], dtype=np.float64)
    decoded = sum(p.decoded for p in parts)
    if not rows:
        raise VideoError(f"{path}: no video frame could be decoded (damaged or truncated file?)")
    keep = np.r_[True, np.diff(times) > 0]  # parts meet without repeating a frame
    size = next((p.size for p in parts if p.size[0]), (0, 0))
    meta: dict = {
        "frames_expected": expected,
        "height": int(size[0]),
        "width": int(size[1]),
        "decoded": decoded,
    }
    if len(parts) > 1:
        meta["processes"] = len(parts)
    if expected and decoded < DAMAGED_SHARE * expected:
        raise VideoError(
            f"{path}: damaged or truncated: only {decoded} of its {expected} frames could be decoded"
        )
    if expected and decoded < 0.9 * expected:
        meta["warning"] = f"decoded {decoded} of {expected} frames; the file may be truncated"
    data = np.stack(rows)[keep]
    times = times[keep]
    return Keypoints(data, fps, times - times[0], source=str(path), meta=meta)


def _wanted(expected: int, fps: float, max_fps: float | None) -> int:
    """The frames MediaPipe will see of a clip of `expected` frames (0: not known)."""
    return int(expected * min(1.0, (max_fps or fps) / fps)) if expected else 0


class ProcessBudget:
    """How many clips' keypoint processes this Python process runs at once, shared by every caller
    (the app's sessions each read their uploads in a thread of one server): a clip gets the cores
    that are free, and always at least one, so a second long upload waits for no one but cannot make
    the machine run more MediaPipes than it has cores, plus one per extra upload."""

    def __init__(self, total: int | None = None) -> None:
        self._total, self.used = total, 0
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        """The given total, else the cores or the processes one clip may have, whichever is more."""
        if self._total is not None:
            return max(1, self._total)
        from ..base import settings

        return max(os.cpu_count() or 1, settings.clip_processes())

    @contextmanager
    def take(self, wanted: int) -> Iterator[int]:
        """Processes granted for one clip: min(wanted, free), at least 1; given back on exit."""
        with self._lock:
            n = max(1, min(wanted, self.total - self.used))
            self.used += n
        try:
            yield n
        finally:
            with self._lock:
                self.used -= n


BUDGET = ProcessBudget()


def extract_video(
    path: str | Path,
    extractor: Extractor | None = None,
    progress: Progress | None = None,
    max_fps: float | None = None,
    processes: int = 1,
) -> Keypoints:
    """Run Holistic over every frame of a video file (with max_fps, over frames at most that many per
    second: every frame is decoded, MediaPipe sees only those at least 1/max_fps apart).

    With processes > 1, a clip of at least SPLIT_MIN_S seconds is cut into that many consecutive
    parts, each read by its own process and Holistic (``extract_split``); shorter clips are not worth
    starting MediaPipe again. Every clip counts against BUDGET, so clips read at the same time share
    the cores: a long clip gets fewer processes (at least one) while others are being read.

    Returns a Keypoints in the Kaggle layout (times from the container's timestamps). A clip in
    which nobody or no hand is visible gives a Keypoints whose hands are all NaN; check
    ``kp.hands_present().any()``. Raises VideoError for a file that is not a usable video.
    """
    path = Path(path)
    cap, fps, expected = open_video(path)
    long = processes > 1 and expected >= SPLIT_MIN_S * fps
    with BUDGET.take(processes if long else 1) as granted:
        if granted > 1:
            cap.release()
            return extract_split(path, granted, progress, max_fps)
        return _extract_here(path, cap, fps, expected, extractor, progress, max_fps)


def _extract_here(path: Path, cap, fps: float, expected: int, extractor, progress, max_fps) -> Keypoints:
    """extract_video in this thread, with the given Holistic or one of its own."""
    own = extractor is None
    extractor = extractor or Extractor()
    wanted = _wanted(expected, fps, max_fps)

    def on_frame(done: int) -> None:
        if progress is not None:
            progress(done, max(wanted, done))

    try:
        extractor.reset()
        part = _extract_frames(_read_frames(cap, fps), extractor, fps, max_fps, on_frame)
    finally:
        cap.release()
        if own:
            extractor.close()
    return _assemble(path, [part], fps, expected)


def _part_worker(path: str, k: int, start: int, stop: int, max_fps: float | None, queue) -> None:
    """Process k of extract_split: frames start..stop-1 of the video -> ("done", k, _Part)."""
    try:
        cap, fps, _ = open_video(path)
        if start and not (
            cap.set(cv2.CAP_PROP_POS_FRAMES, start) and int(cap.get(cv2.CAP_PROP_POS_FRAMES)) == start
        ):
            cap.release()  # the container cannot seek to a frame: walk there from the start
            cap, fps, _ = open_video(path)
            for _ in range(start):
                if not cap.grab():
                    break
        frames = itertools.islice(_read_frames(cap, fps, first=start), stop - start)

        def on_frame(done: int) -> None:
            if done % 10 == 0:
                queue.put(("frames", k, done))

        with Extractor() as extractor:
            part = _extract_frames(frames, extractor, fps, max_fps, on_frame)
        queue.put(("done", k, part))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        queue.put(("error", k, str(exc) if isinstance(exc, VideoError) else f"{type(exc).__name__}: {exc}"))


def extract_split(
    path: str | Path, processes: int, progress: Progress | None = None, max_fps: float | None = None
) -> Keypoints:
    """extract_video with the clip cut into `processes` consecutive parts of equal frame counts, each
    read by its own process with its own Holistic; the parts are joined in order. Tracking starts
    afresh at each cut, which costs a frame or two of landmarks there."""
    path = Path(path)
    cap, fps, expected = open_video(path)
    cap.release()
    if not expected:
        return extract_video(path, progress=progress, max_fps=max_fps)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    cuts = np.linspace(0, expected, processes + 1).astype(int)
    workers = [
        ctx.Process(
            target=_part_worker, args=(str(path), k, cuts[k], cuts[k + 1], max_fps, queue), daemon=True
        )
        for k in range(processes)
    ]
    for w in workers:
        w.start()
    try:
        parts = _collect(path, workers, queue, progress, _wanted(expected, fps, max_fps))
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
            w.join()
    return _assemble(path, parts, fps, expected)


def _collect(path: Path, workers: list, queue, progress: Progress | None, wanted: int) -> list[_Part]:
    """The parts of extract_split in order, passing the workers' frame counts on to progress."""
    parts: dict[int, _Part] = {}
    counts = [0] * len(workers)
    while len(parts) < len(workers):
        try:
            kind, k, payload = queue.get(timeout=5.0)
        except Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if dead:
                raise VideoError(f"{path}: a keypoint process stopped (exit code {dead[0]})") from None
            continue
        if kind == "error":
            raise VideoError(payload)
        if kind == "done":
            parts[k] = payload
        counts[k] = len(payload.rows) if kind == "done" else payload
        if progress is not None:
            progress(sum(counts), max(wanted, sum(counts)))
    return [parts[k] for k in range(len(workers))]


def keypoints_from_file(path: str | Path, extractor: Extractor | None = None) -> Keypoints:
    """Keypoints of a video clip (MediaPipe) or of a keypoint file (a Kaggle-layout parquet, a .pose)."""
    from .poseformat import KEYPOINT_SUFFIXES, read_keypoints

    path = Path(path)
    if path.suffix.lower() in KEYPOINT_SUFFIXES:
        return read_keypoints(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise VideoError(
            f"{path}: not a clip ({', '.join(VIDEO_SUFFIXES)}) or a keypoint file (.parquet, .pose)"
        )
    return extract_video(path, extractor)
