"""The streaming recogniser: landmarks frame by frame in, sign events out.

One Recognizer serves a whole uploaded clip (push every frame, then flush) and the live camera
(push frames as they arrive, with their timestamps; some are dropped, the rate is uneven).

Segmentation ("activity" mode, the default): a sign is a stretch of frames with a hand in the
signing space (in view, and not lowered below the chest: ``features.in_signing_space``); it ends
when no such hand has been seen for `gap_s` seconds. The stretch is classified once, as a whole,
with the shared preprocessing and the model, and becomes an event if the model accepts it (a sign,
not `_unknown`, with probability at least the threshold). A stretch longer than `max_sign_s`
(signs strung together without lowering the hands) is cut into sliding windows, and each run of
windows that agree on a sign gives one event. "window" mode classifies sliding windows online
instead and emits a sign once `min_votes` windows in a row agree. bench/bench_streaming.py
measures both on joined real sequences.

A whole clip (``recognize``, ``recognize_clip``: the Upload page and ``slr predict``) is segmented
knowing all of it: the same stretches, but a burst of hands too short to be a sign joins a
neighbouring stretch less than `merge_gap_s` away, and a clip with hands but no stretch long enough
is read whole (as ``slr eval`` reads a sequence).

A sign is emitted once per performance: a run of windows agreeing on a label gives one event.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..base.errors import ConfigError
from ..capture.keypoints import Keypoints
from ..capture.landmarks import N_PIPELINE_ROWS, to_pipeline_rows
from ..features.preprocess import in_signing_space
from .events import SignEvent, merge_repeats
from .predict import Classifier, Guess


@dataclass
class StreamConfig:
    mode: str = "activity"  # activity | window
    gap_s: float = 0.2  # no hand for this long ends a sign
    min_sign_s: float = 0.15  # shorter bursts of hands are ignored
    min_hand_frames: int = 4
    max_sign_s: float = 2.0  # longer stretches are cut into windows (activity mode)
    window_s: float = 1.2
    stride_s: float = 0.25
    min_votes: int = 2  # windows in a row that must agree (window mode)
    threshold: float | None = None  # None: the model's own, chosen on validation data
    buffer_s: float = 12.0  # the longest stretch kept in memory
    merge_gap_s: float = 0.6  # whole clips: a too-short burst joins a stretch this close
    gap_frames: float = 2.5  # ... and never fewer frame intervals than this (one lost frame at 10 fps)

    def __post_init__(self) -> None:
        if self.mode not in ("activity", "window"):
            raise ConfigError("mode must be 'activity' or 'window'")


@dataclass
class _Run:
    """A run of consecutive windows that agree on one sign."""

    label: str
    start: float
    end: float
    best: Guess  # the most confident window of the run
    votes: int = 0
    emitted: bool = False

    def extend(self, g: Guess, times: np.ndarray) -> _Run:
        """Grow the run by one window that agrees."""
        self.votes += 1
        self.end = float(times[-1])
        if g.probability > self.best.probability:
            self.best = g
        return self

    @classmethod
    def grow(cls, run: _Run | None, g: Guess, times: np.ndarray) -> _Run:
        """`run` grown by one window (a new run when None)."""
        run = run or cls(g.label, float(times[0]), float(times[-1]), g)
        return run.extend(g, times)

    def event(self, now: float) -> list[SignEvent]:
        g = self.best
        return [SignEvent(g.label, g.probability, g.top5, self.start, self.end, now, g.personal)]


class Recognizer:
    """Push landmarks with timestamps, get SignEvents. Not thread-safe: one per stream."""

    def __init__(self, classifier: Classifier, config: StreamConfig | None = None) -> None:
        self.classifier = classifier
        self.cfg = config or StreamConfig()
        self.dropped = 0  # frames dropped as late or duplicate, over the recogniser's life
        self.reset()

    def reset(self) -> None:
        self._frames: deque[np.ndarray] = deque()
        self._times: deque[float] = deque()
        self._hands: deque[bool] = deque()
        self._last_t: float | None = None
        self._last_hand_t: float | None = None
        self._intervals: deque[float] = deque(maxlen=15)  # recent frame intervals (the stream's rate)
        self._seg_start: float | None = None
        self._next_window = 0.0
        self._run: _Run | None = None  # window mode: the current run of agreeing windows
        self._had_window = False

    @property
    def signing(self) -> bool:
        """A stretch of signing is under way (hands in the signing space, not yet ended)."""
        return self._seg_start is not None

    def _guess(self, data: np.ndarray, times: np.ndarray) -> Guess | None:
        return self.classifier.guess(data, times, self.cfg.threshold)

    def _accepted(self, data: np.ndarray, times: np.ndarray) -> Guess | None:
        """The window's guess if the open-set rule accepts it, else None."""
        g = self._guess(data, times)
        return g if g is not None and g.accepted else None

    # --- input -------------------------------------------------------------------------------------

    def push(self, landmarks: np.ndarray, t: float) -> list[SignEvent]:
        """One frame of landmarks ((543, 3) or (94, 3); NaN where missing) at stream time t (s)."""
        events: list[SignEvent] = []
        if self._last_t is not None and t <= self._last_t:
            if t < self._last_t - 1.0:  # the clock went back (a new stream): start over
                events += self.flush()
                self.reset()
            else:  # a duplicate or slightly out-of-order frame: drop it
                self.dropped += 1
                return events
        if self._last_t is not None:
            self._intervals.append(t - self._last_t)
        if self._last_hand_t is not None and t - self._last_hand_t > self.gap():
            events += self._end_segment(t)  # the hands have been gone long enough (or time jumped)
        row = to_pipeline_rows(np.asarray(landmarks, dtype=np.float32))[:, :3]  # x, y, z
        hand = bool(in_signing_space(row[None])[0])
        self._last_t = t
        if hand:
            if self._seg_start is None:
                self._seg_start = t
                self._next_window = t + self.cfg.window_s * 0.5
            self._last_hand_t = t
        if self._seg_start is not None:
            self._frames.append(row)
            self._times.append(t)
            self._hands.append(hand)
            while self._times and t - self._times[0] > self.cfg.buffer_s:
                self._frames.popleft(), self._times.popleft(), self._hands.popleft()
            if self.cfg.mode == "window" and hand and t >= self._next_window:
                self._next_window = t + self.cfg.stride_s
                events += self._window_step(t)
        return events

    def gap(self) -> float:
        """How long the hands may be gone inside a sign: gap_s, or gap_frames frame intervals of a
        slow stream (a server that is behind hands over every third frame: one frame without a hand
        at 10 fps is a 0.2 s hole, not the end of a sign)."""
        if not self._intervals:
            return self.cfg.gap_s
        return max(self.cfg.gap_s, self.cfg.gap_frames * float(np.median(self._intervals)))

    def flush(self) -> list[SignEvent]:
        """End of stream: close the sign in progress."""
        t = self._last_t if self._last_t is not None else 0.0
        return self._end_segment(t)

    # --- segments ------------------------------------------------------------------------------------

    def _segment_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._frames:
            return np.zeros((0, N_PIPELINE_ROWS, 3), np.float32), np.zeros(0), np.zeros(0, bool)
        return np.stack(self._frames), np.asarray(self._times), np.asarray(self._hands)

    def _end_segment(self, now: float) -> list[SignEvent]:
        events: list[SignEvent] = []
        data, times, hands = self._segment_arrays()
        if self._seg_start is not None and hands.any():
            last = np.flatnonzero(hands)[-1]
            data, times, hands = data[: last + 1], times[: last + 1], hands[: last + 1]
            long_enough = (
                times[-1] - times[0] >= self.cfg.min_sign_s and hands.sum() >= self.cfg.min_hand_frames
            )
            if self.cfg.mode == "window":
                if not self._had_window and long_enough:  # a short sign no window covered yet
                    events += self._whole(data, times, now)
            elif long_enough:
                if times[-1] - times[0] <= self.cfg.max_sign_s:
                    events += self._whole(data, times, now)
                else:
                    events += self._windows_over(data, times, now)
        self._frames.clear()
        self._times.clear()
        self._hands.clear()
        self._seg_start = None
        self._last_hand_t = None
        self._run = None
        self._had_window = False
        return events

    def _whole(self, data, times, now) -> list[SignEvent]:
        g = self._guess(data, times)
        if g is None or not g.accepted:
            return []
        return [SignEvent(g.label, g.probability, g.top5, float(times[0]), float(times[-1]), now, g.personal)]

    def _windows_over(self, data, times, now) -> list[SignEvent]:
        """Offline: slide windows over a long stretch; each run of agreeing windows is one sign."""
        events: list[SignEvent] = []
        run: _Run | None = None
        t = times[0] + self.cfg.window_s
        while True:
            sel = (times > t - self.cfg.window_s) & (times <= t)
            g = self._accepted(data[sel], times[sel]) if sel.sum() >= self.cfg.min_hand_frames else None
            if run is not None and (g is None or g.label != run.label):
                events += run.event(now)
                run = None
            if g is not None:
                run = _Run.grow(run, g, times[sel])
            if t >= times[-1]:
                break
            t = min(t + self.cfg.stride_s, times[-1])
        if run is not None:
            events += run.event(now)
        return events

    # --- window mode (online) ------------------------------------------------------------------------

    def _window_step(self, now: float) -> list[SignEvent]:
        data, times, hands = self._segment_arrays()
        sel = times > now - self.cfg.window_s
        if hands[sel].sum() < self.cfg.min_hand_frames:
            return []
        self._had_window = True
        g = self._accepted(data[sel], times[sel])
        events: list[SignEvent] = []
        if self._run is not None and (g is None or g.label != self._run.label):
            self._run = None  # the run is over (it was emitted once, or never reached min_votes)
        if g is None:
            return events
        run = self._run = _Run.grow(self._run, g, times[sel])
        if run.votes >= self.cfg.min_votes and not run.emitted:
            run.emitted = True  # once per performance
            events += run.event(now)
        return events


def recognize(
    kp: Keypoints | tuple[np.ndarray, np.ndarray], classifier: Classifier, config: StreamConfig | None = None
) -> list[SignEvent]:
    """Offline: the signs of a whole clip (Keypoints, or (data, times) in either layout).

    Window mode runs the live recogniser over the frames; activity mode segments knowing the
    whole clip (see the module's docstring) and classifies each stretch as the live one does."""
    data, times = (kp.data, kp.times) if isinstance(kp, Keypoints) else kp
    rows = to_pipeline_rows(np.asarray(data, dtype=np.float32))[:, :, :3]
    times = np.asarray(times, dtype=np.float64)
    rec = Recognizer(classifier, config)
    found: list[SignEvent] = []
    if rec.cfg.mode == "window":
        for frame, t in zip(rows, times):
            found += rec.push(frame, float(t))
        found += rec.flush()
    else:
        now = float(times[-1]) if len(times) else 0.0
        for i, j in clip_stretches(in_signing_space(rows), times, rec.cfg):
            if times[j] - times[i] <= rec.cfg.max_sign_s:
                found += rec._whole(rows[i : j + 1], times[i : j + 1], now)
            else:
                found += rec._windows_over(rows[i : j + 1], times[i : j + 1], now)
    events: list[SignEvent] = []
    merge_repeats(events, found)  # one sign read twice is one event, as the live page shows it
    return events


def sign_span(data: np.ndarray, times: np.ndarray, config: StreamConfig | None = None) -> slice:
    """The frames of the one sign in a recording of one sign (the longest stretch of signing, as a
    whole clip is segmented); all frames when nothing looks like signing."""
    rows = to_pipeline_rows(np.asarray(data, dtype=np.float32))
    spans = clip_stretches(in_signing_space(rows), np.asarray(times, np.float64), config or StreamConfig())
    if not spans:
        return slice(0, len(rows))
    i, j = max(spans, key=lambda s: times[s[1]] - times[s[0]])
    return slice(i, j + 1)


def clip_guess(kp: Keypoints, classifier: Classifier) -> Guess | None:
    """What the classifier makes of a clip's longest stretch of signing, accepted or not (shown when
    no sign passed the threshold, so the person sees what it thought); None without hands."""
    span = sign_span(kp.data, kp.times)
    return classifier.guess(kp.data[span], kp.times[span])


def clip_stretches(signing: np.ndarray, times: np.ndarray, cfg: StreamConfig) -> list[tuple[int, int]]:
    """(first, last) frame of each stretch of signing in a whole clip: hands apart by at most gap_s;
    too-short bursts merged into a neighbour closer than merge_gap_s, else dropped; the whole span
    of hands when nothing else is left."""
    idx = np.flatnonzero(signing)
    if not len(idx):
        return []
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0  # the clip's frame interval
    breaks = np.flatnonzero(np.diff(times[idx]) > max(cfg.gap_s, cfg.gap_frames * step))
    runs = [[int(r[0]), int(r[-1])] for r in np.split(idx, breaks + 1)]

    def short(r: list[int]) -> bool:
        n = int(signing[r[0] : r[1] + 1].sum())
        return times[r[1]] - times[r[0]] < cfg.min_sign_s or n < cfg.min_hand_frames

    merged = True
    while merged and len(runs) > 1:
        merged = False
        for k, r in enumerate(runs):
            if not short(r):
                continue
            gaps = [(times[r[0]] - times[runs[k - 1][1]], k - 1) if k > 0 else (np.inf, -1),
                    (times[runs[k + 1][0]] - times[r[1]], k + 1) if k + 1 < len(runs) else (np.inf, -1)]  # fmt: skip
            gap, other = min(gaps)
            if gap <= cfg.merge_gap_s:
                a, b = sorted((k, other))
                runs[a : b + 1] = [[runs[a][0], runs[b][1]]]
                merged = True
                break
    kept = [(a, b) for a, b in runs if not short([a, b])]
    return kept or [(int(idx[0]), int(idx[-1]))]


@dataclass
class ClipResult:
    """A clip's keypoints and the signs found in it."""

    keypoints: Keypoints
    events: list[SignEvent]

    @property
    def hand_frames(self) -> int:
        return int(self.keypoints.hands_present().sum())

    def why_nothing(self) -> str:
        """Why no sign came out (for messages); empty when signs were found."""
        if self.events:
            return ""
        kp = self.keypoints
        if self.hand_frames == 0:
            return "no hands were seen"
        return f"hands in {self.hand_frames} of {len(kp)} frames, nothing recognised with confidence"


def recognize_clip(
    path: str | Path,
    classifier: Classifier,
    config: StreamConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
    extractor=None,
    max_fps: float | None = None,
    processes: int = 1,
) -> ClipResult:
    """A video file -> keypoints (MediaPipe) -> the streaming recogniser -> its sign events.

    The one clip path, for `slr predict` and the Upload page. Raises extract.VideoError for a file
    that is not a usable video. processes > 1: a clip of a minute or more is cut into that many parts,
    each read by its own process (extract.extract_split).
    """
    from ..capture.extract import extract_video

    kp = extract_video(path, extractor, progress, max_fps, processes)
    return ClipResult(kp, recognize(kp, classifier, config))
