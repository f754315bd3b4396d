"""The streaming recogniser: landmarks frame by frame in, sign events out.

One Recognizer serves a whole uploaded clip (push every frame, then flush) and the live camera
(push frames as they arrive, with their timestamps; some are dropped, the rate is uneven).

Segmentation ("activity" mode, the default): a sign is a stretch of frames with a hand in view;
it ends when no hand has been seen for `gap_s` seconds. The stretch is classified once, as a whole,
with the shared preprocessing and the model, and becomes an event if the model accepts it (a sign,
not `_unknown`, with probability at least the threshold). A stretch longer than `max_sign_s`
(signs strung together without lowering the hands) is cut into sliding windows, and each run of
windows that agree on a sign gives one event. "window" mode classifies sliding windows online
instead and emits a sign once `min_votes` windows in a row agree. bench/bench_streaming.py
measures both on joined real sequences.

A sign is emitted once per performance: a run of windows agreeing on a label gives one event.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from .data import UNKNOWN_LABEL
from .evaluate import accept
from .features import preprocess
from .keypoints import Keypoints
from .landmarks import N_PIPELINE_ROWS, PIPELINE_HAND_ROWS, to_pipeline_rows


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

    def __post_init__(self) -> None:
        if self.mode not in ("activity", "window"):
            raise ValueError("mode must be 'activity' or 'window'")


@dataclass
class SignEvent:
    label: str
    confidence: float
    top5: list[tuple[str, float]]
    start: float  # seconds, first frame of the sign
    end: float  # seconds, last frame of the sign
    emitted_at: float = 0.0  # stream time when the recogniser emitted it

    def to_dict(self) -> dict:
        d = asdict(self)
        d["top5"] = [[name, round(p, 4)] for name, p in self.top5]
        return d

    def line(self) -> str:
        top = ", ".join(f"{n} {p:.2f}" for n, p in self.top5)
        return f"{self.start:6.2f}-{self.end:6.2f}s  {self.label:16s} {self.confidence:.2f}   top-5: {top}"


@dataclass
class Guess:
    index: int
    label: str
    probability: float
    accepted: bool
    top5: list[tuple[str, float]] = field(default_factory=list)


class Classifier:
    """One window of landmarks -> the model's guess. Thread-safe for inference (no state)."""

    def __init__(self, loaded, threshold: float | None = None, device: str | torch.device = "cpu") -> None:
        self.loaded = loaded
        self.model = loaded.model.to(device).eval()
        self.device = device
        self.labels = loaded.labels
        self.threshold = loaded.threshold if threshold is None else threshold
        self.length = loaded.config.length

    @torch.inference_mode()
    def probabilities(self, data: np.ndarray, times: np.ndarray) -> np.ndarray | None:
        f = preprocess(data, times, self.length)
        if f.empty:
            return None
        out = self.model(
            *(torch.as_tensor(a[None], device=self.device) for a in (f.x, f.mask, f.groups, f.positions))
        )
        return torch.softmax(out["logits"].float(), -1)[0].cpu().numpy()

    def guess(self, data: np.ndarray, times: np.ndarray, threshold: float | None = None) -> Guess | None:
        """The best sign for a window (None without hands); accepted when at least the threshold
        (the given one, else the model's own)."""
        probs = self.probabilities(data, times)
        if probs is None:
            return None
        best, p, ok = accept(probs[None], self.labels, self.threshold if threshold is None else threshold)
        order = [i for i in np.argsort(-probs) if self.labels[i] != UNKNOWN_LABEL][:5]
        top5 = [(self.labels[i], float(probs[i])) for i in order]
        return Guess(int(best[0]), self.labels[int(best[0])], float(p[0]), bool(ok[0]), top5)


class Recognizer:
    """Push landmarks with timestamps, get SignEvents. Not thread-safe: one per stream."""

    def __init__(self, classifier: Classifier, config: StreamConfig | None = None) -> None:
        self.classifier = classifier
        self.cfg = config or StreamConfig()
        self.reset()

    def reset(self) -> None:
        self._frames: deque[np.ndarray] = deque()
        self._times: deque[float] = deque()
        self._hands: deque[bool] = deque()
        self._last_t: float | None = None
        self._last_hand_t: float | None = None
        self._seg_start: float | None = None
        self._next_window = 0.0
        self._run: dict | None = None  # window mode: the current run of agreeing windows
        self._had_window = False

    def _guess(self, data: np.ndarray, times: np.ndarray) -> Guess | None:
        return self.classifier.guess(data, times, self.cfg.threshold)

    # --- input -------------------------------------------------------------------------------------

    def push(self, landmarks: np.ndarray, t: float) -> list[SignEvent]:
        """One frame of landmarks ((543, 3) or (94, 3); NaN where missing) at stream time t (s)."""
        events: list[SignEvent] = []
        if self._last_t is not None and t <= self._last_t:
            if t < self._last_t - 1.0:  # the clock went back (a new stream): start over
                events += self.flush()
                self.reset()
            else:  # a duplicate or slightly out-of-order frame: drop it
                return events
        if self._last_hand_t is not None and t - self._last_hand_t > self.cfg.gap_s:
            events += self._end_segment(t)  # the hands have been gone long enough (or time jumped)
        row = to_pipeline_rows(np.asarray(landmarks, dtype=np.float32))[:, :2]  # x, y are all it needs
        hand = bool(np.isfinite(row[PIPELINE_HAND_ROWS, 0]).any())
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

    def flush(self) -> list[SignEvent]:
        """End of stream: close the sign in progress."""
        t = self._last_t if self._last_t is not None else 0.0
        return self._end_segment(t)

    # --- segments ------------------------------------------------------------------------------------

    def _segment_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._frames:
            return np.zeros((0, N_PIPELINE_ROWS, 2), np.float32), np.zeros(0), np.zeros(0, bool)
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
        self._frames.clear(), self._times.clear(), self._hands.clear()
        self._seg_start = None
        self._last_hand_t = None
        self._run = None
        self._had_window = False
        return events

    def _whole(self, data, times, now) -> list[SignEvent]:
        g = self._guess(data, times)
        if g is None or not g.accepted:
            return []
        return [SignEvent(g.label, g.probability, g.top5, float(times[0]), float(times[-1]), now)]

    def _windows_over(self, data, times, now) -> list[SignEvent]:
        """Offline: slide windows over a long stretch; each run of agreeing windows is one sign."""
        events, run = [], None
        t = times[0] + self.cfg.window_s
        while True:
            sel = (times > t - self.cfg.window_s) & (times <= t)
            g = self._guess(data[sel], times[sel]) if sel.sum() >= self.cfg.min_hand_frames else None
            label = g.label if g is not None and g.accepted else None
            if run is not None and label != run["label"]:
                events += self._event_from_run(run, now)
                run = None
            if label is not None:
                run = _extend_run(run, g, times[sel])
            if t >= times[-1]:
                break
            t = min(t + self.cfg.stride_s, times[-1])
        if run is not None:
            events += self._event_from_run(run, now)
        return events

    def _event_from_run(self, run: dict, now: float) -> list[SignEvent]:
        g = run["best"]
        return [SignEvent(g.label, g.probability, g.top5, run["start"], run["end"], now)]

    # --- window mode (online) ------------------------------------------------------------------------

    def _window_step(self, now: float) -> list[SignEvent]:
        data, times, hands = self._segment_arrays()
        sel = times > now - self.cfg.window_s
        if hands[sel].sum() < self.cfg.min_hand_frames:
            return []
        self._had_window = True
        g = self._guess(data[sel], times[sel])
        label = g.label if g is not None and g.accepted else None
        events = []
        if self._run is not None and label != self._run["label"]:
            self._run = None  # the run is over (it was emitted once, or never reached min_votes)
        if label is None:
            return events
        run = self._run = _extend_run(self._run, g, times[sel])
        if run["votes"] >= self.cfg.min_votes and not run["emitted"]:
            run["emitted"] = True  # once per performance
            events += self._event_from_run(run, now)
        return events


def _extend_run(run: dict | None, g: Guess, times: np.ndarray) -> dict:
    """A run of windows agreeing on g.label, grown by one window (a new run when None)."""
    if run is None:
        run = {"label": g.label, "votes": 0, "start": float(times[0]), "best": g, "emitted": False}
    run["votes"] += 1
    run["end"] = float(times[-1])
    if g.probability > run["best"].probability:
        run["best"] = g
    return run


def recognize(kp: Keypoints, classifier: Classifier, config: StreamConfig | None = None) -> list[SignEvent]:
    """Offline: every frame of a clip through a Recognizer, in order."""
    rec = Recognizer(classifier, config)
    events = []
    for frame, t in zip(kp.data, kp.times):
        events += rec.push(frame, float(t))
    return events + rec.flush()
