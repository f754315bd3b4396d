"""The live path: one webcam frame in, an annotated frame and sign events out.

A LiveSession belongs to one camera stream. Its ``process`` runs in streamlit-webrtc's worker
thread (which hands it only the newest frame, so slow processing drops frames instead of falling
behind); the Streamlit script thread reads events and statistics through a bounded queue and a
lock-guarded snapshot. Nothing here touches Streamlit.
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from collections import deque

import cv2
import numpy as np

from ..capture.extract import Extractor
from ..capture.landmarks import HAND_ROWS, to_pipeline_rows
from ..features.preprocess import in_signing_space
from ..recognition.letters import LetterModel
from ..recognition.predict import Classifier
from ..recognition.spelling import AUTO_MIN_LETTERS, SpelledWord, Speller, dominant_hand, plausible_spelling
from ..recognition.streaming import Recognizer, SignEvent, StreamConfig, sign_span
from .viz import draw_skeleton

MODES = ("signs", "spelling", "auto")
SHOW_S = 2.0  # how long the overlay shows a recognised sign
SLOW_MS = 90.0  # frames slower than this (under ~11 per second) to follow signing well
SLOW_FRAMES = 15  # the median over this many frames decides "behind"
ACTIVE_S = 5.0  # a session that processed a frame this recently holds a place on the server


class Budget:
    """The server's share of MediaPipe work: at most `workers` frames are processed at once over
    all live sessions. A session waiting for its turn skips the frames that arrive meanwhile (it
    is handed only the newest), so each of several sessions slows evenly instead of all thrashing."""

    def __init__(self, workers: int | None = None) -> None:
        from ..base import settings

        self.workers = workers or settings.mediapipe_workers()
        self._slots = threading.BoundedSemaphore(self.workers)
        self._sessions: weakref.WeakSet[LiveSession] = weakref.WeakSet()
        self._lock = threading.Lock()
        self.busy = 0  # frames in MediaPipe now
        self.peak = 0  # the most at once so far

    def __enter__(self) -> Budget:
        self._slots.acquire()
        with self._lock:
            self.busy += 1
            self.peak = max(self.peak, self.busy)
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self.busy -= 1
        self._slots.release()

    def register(self, session: LiveSession) -> None:
        with self._lock:
            self._sessions.add(session)

    def active(self, besides: LiveSession | None = None) -> int:
        """Live sessions that processed a frame in the last ACTIVE_S seconds (other than `besides`)."""
        with self._lock:
            return sum(1 for s in self._sessions if s is not besides and s.active)


_BUDGET: Budget | None = None


def server_budget() -> Budget:
    """The one Budget of this server process (made on first use, from the settings)."""
    global _BUDGET
    if _BUDGET is None:
        _BUDGET = Budget()
    return _BUDGET


class LiveSession:
    """One browser session's camera path. MediaPipe is started on the first frame and closed by
    close() (when the camera stops); the next frame starts it again.

    Modes: "signs" (the recogniser), "spelling" (held letter shapes become a word: spelling.Speller)
    and "auto" (both; a word spelled with at least 3 letters wins over a sign recognised over the
    same time, and a word of one letter repeated, which is how a sign's movement looks to the
    speller, is dropped)."""

    def __init__(
        self,
        classifier: Classifier,
        config: StreamConfig | None = None,
        max_events: int = 64,
        letters: LetterModel | None = None,
        mode: str = "signs",
        slow_ms: float = SLOW_MS,
        budget: Budget | None = None,
    ) -> None:
        if mode not in MODES or (mode != "signs" and letters is None):
            raise ValueError(f"mode must be one of {MODES} (spelling needs a letter model), got {mode!r}")
        self.classifier = classifier
        self.mode = mode
        self.extractor: Extractor | None = None
        self.recognizer = Recognizer(classifier, config)
        self.speller = Speller(letters) if letters is not None else None
        # NOTE: crosses threads: filled by the webrtc worker, drained by the script thread.
        self.events: queue.Queue[SignEvent] = queue.Queue(maxsize=max_events)
        self._lock = threading.Lock()  # guards the fields below and the extractor's life
        self._times: deque[float] = deque(maxlen=60)  # wall time of the last processed frames
        self._frames = 0
        self._hand_frames = 0
        self._last_ms = 0.0
        self._last_sign: SignEvent | None = None
        self._t0: float | None = None
        # Degrading by design: frames that arrive while one is processed are dropped (the webrtc
        # worker hands over only the newest), so the picture never lags; when the median frame
        # takes longer than slow_ms the snapshot says "behind" and the page tells the person.
        # (MediaPipe's lighter pose model is not inside the 0.10.21 wheel and would be downloaded
        # on first use; downscaling the picture measured no faster: neither is used.)
        self.slow_ms = slow_ms
        self._ms: deque[float] = deque(maxlen=SLOW_FRAMES)
        self.budget = budget or server_budget()
        self.budget.register(self)
        self.last_frame_at = -float("inf")  # monotonic time of the last processed frame

    @property
    def active(self) -> bool:
        """Whether this session processed a frame in the last ACTIVE_S seconds (holds a place)."""
        return time.monotonic() - self.last_frame_at <= ACTIVE_S

    def process(self, rgb: np.ndarray, t: float | None = None) -> np.ndarray:
        """Landmarks, recogniser and skeleton overlay for one RGB frame; returns the drawn frame."""
        start = time.perf_counter()
        with self._lock:
            if self.extractor is None:
                self.extractor = Extractor()
                self._reset_streams()
            if t is None:
                self._t0 = self._t0 or time.monotonic()
                t = time.monotonic() - self._t0
            with self.budget:  # a turn of the server's MediaPipe work (waits while others have it)
                landmarks = self.extractor.process(rgb)
            self._step(landmarks, float(t), rgb.shape[0] / rgb.shape[1])
            self.last_frame_at = time.monotonic()
            # never draw on the caller's frame (it may be reused or shown elsewhere)
            out = draw_skeleton(np.array(rgb, copy=True, order="C"), landmarks)
            self._last_ms = (time.perf_counter() - start) * 1000
            self._ms.append(self._last_ms)
            label = self._state_label(float(t))
            if label:
                cv2.putText(
                    out, label, (12, 34), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 3, cv2.LINE_AA
                )
            return out

    def _state_label(self, t: float) -> str:
        """What the overlay says now: what is being spelled, that a sign is under way, or the sign
        just recognised (for SHOW_S seconds); nothing at rest, so an old answer never lingers."""
        if self.speller is not None and self.speller.word.letters:
            return "spelling: " + self.speller.word.text.upper()
        if self.recognizer.signing:
            return "signing ..."
        e = self._last_sign
        if e is not None and t - e.emitted_at <= SHOW_S:
            return f"{e.label} {e.confidence:.0%}"
        return ""

    def process_landmarks(self, landmarks: np.ndarray, t: float, aspect: float = 1.0) -> None:
        """Everything after MediaPipe, for one frame's (543, 3) landmarks at stream time t (s);
        `aspect` is the picture's height over its width."""
        with self._lock:
            self._step(np.asarray(landmarks, np.float32), float(t), aspect)

    def _reset_streams(self) -> None:
        self.recognizer.reset()
        if self.speller is not None:
            self.speller.reset()

    def _step(self, landmarks: np.ndarray, t: float, aspect: float) -> None:
        signs = self.recognizer.push(landmarks, t) if self.mode != "spelling" else []
        spelled: list[SignEvent] = []
        if self.mode != "signs" and self.speller is not None:
            hand, left = dominant_hand(landmarks[None], aspect)
            h = hand[0] if np.isfinite(hand[0]).all() else None
            words = self.speller.push(h, t, left)[1]
            if self.mode == "auto":
                words = [w for w in words if plausible_spelling(w)]
            spelled = [_spelled_event(w, t) for w in words]
        if self.mode == "auto":
            long_words = [e for e in spelled if len(e.label) >= AUTO_MIN_LETTERS]
            signs = [
                e for e in signs if not self._spelling_over(e) and not any(_overlap(e, w) for w in long_words)
            ]
        self._frames += 1
        self._hand_frames += bool(np.isfinite(landmarks[HAND_ROWS, 0]).any())
        self._times.append(time.monotonic())
        for e in signs + spelled:
            self._last_sign = e
            while True:
                try:
                    self.events.put_nowait(e)
                    break
                except queue.Full:  # nobody is reading: keep the newest
                    self.events.get_nowait()

    def _spelling_over(self, sign: SignEvent) -> bool:
        """Auto mode: the speller is in the middle of a word of 3 or more letters over this sign."""
        word = self.speller.word if self.speller is not None else None
        return bool(
            word
            and len(word.letters) >= AUTO_MIN_LETTERS
            and plausible_spelling(word)
            and word.start <= sign.end
        )

    def spelling(self) -> str:
        """The word being spelled right now, letter by letter (script thread)."""
        with self._lock:
            return self.speller.word.text if self.speller is not None else ""

    def drain(self) -> list[SignEvent]:
        """Every event since the last call (script thread)."""
        return _drain(self.events)

    def snapshot(self) -> dict:
        with self._lock:
            fps = 0.0
            if len(self._times) > 1:
                fps = (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-6)
            return {
                "frames": self._frames,
                "hand_frames": self._hand_frames,
                "fps": fps,
                "last_ms": self._last_ms,
                "behind": len(self._ms) >= SLOW_FRAMES and float(np.median(self._ms)) > self.slow_ms,
                "spelling": self.speller.word.text if self.speller is not None else "",
            }

    def close(self) -> None:
        """Free MediaPipe (the camera stopped); events already queued stay readable."""
        with self._lock:
            if self.extractor is not None:
                self.extractor.close()
                self.extractor = None
            self._times.clear()
            self._ms.clear()
            self.last_frame_at = -float("inf")


def _drain(q: queue.Queue) -> list:
    """Everything in a queue now, without waiting."""
    out = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out


def make_video_callback(session: LiveSession):
    """The streamlit-webrtc `video_frame_callback` for a session (also used by the live bench)."""
    import av

    def callback(frame: av.VideoFrame) -> av.VideoFrame:
        rgb = frame.to_ndarray(format="rgb24")
        out = session.process(rgb, frame.time)
        return av.VideoFrame.from_ndarray(out, format="rgb24")

    return callback


def _spelled_event(word: SpelledWord, now: float) -> SignEvent:
    """A spelled word as an event; it keeps a capital (a name) when it joins the keywords."""
    conf = float(np.mean([x.probability for x in word.letters]))
    return SignEvent(word.text.capitalize(), conf, [], word.start, word.end, now, spelled=True)


def _overlap(a: SignEvent, b: SignEvent) -> bool:
    return a.start <= b.end and b.start <= a.end


class Recorder:
    """Records examples of one sign from the camera: every stretch of signing (cut as the live
    recogniser cuts them: hands in the signing space, ended by a short pause) becomes one example,
    queued for the page to show back (keep or drop). Runs in streamlit-webrtc's worker thread."""

    def __init__(self, config: StreamConfig | None = None, max_examples: int = 8) -> None:
        self.cfg = config or StreamConfig()
        self.extractor: Extractor | None = None
        # NOTE: crosses threads: filled by the webrtc worker, drained by the script thread.
        self.examples: queue.Queue[tuple[np.ndarray, np.ndarray]] = queue.Queue(maxsize=max_examples)
        self._lock = threading.Lock()
        self._frames: list[np.ndarray] = []
        self._times: list[float] = []
        self._last_sign: float | None = None
        self._t0: float | None = None
        self.signing = False

    def process(self, rgb: np.ndarray, t: float | None = None) -> np.ndarray:
        with self._lock:
            if self.extractor is None:
                self.extractor = Extractor()
            if t is None:
                self._t0 = self._t0 or time.monotonic()
                t = time.monotonic() - self._t0
            landmarks = self.extractor.process(rgb)
            self.push(landmarks, float(t))
            out = draw_skeleton(np.array(rgb, copy=True, order="C"), landmarks)
            cv2.putText(out, "recording: signing" if self.signing else "recording: ready", (12, 34),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 60, 60), 2, cv2.LINE_AA)  # fmt: skip
            return out

    def push(self, landmarks: np.ndarray, t: float) -> None:
        """One frame's landmarks (after MediaPipe): collect while signing, queue a finished stretch."""
        row = to_pipeline_rows(np.asarray(landmarks, np.float32))[:, :3]
        self.signing = bool(in_signing_space(row[None])[0])
        if self.signing:
            self._last_sign = t
        if self._last_sign is None:
            return
        self._frames.append(row)
        self._times.append(t)
        if t - self._last_sign > self.cfg.gap_s:  # the hands came down: the example is complete
            data, times = np.stack(self._frames), np.asarray(self._times)
            self._frames, self._times, self._last_sign = [], [], None
            span = sign_span(data, times, self.cfg)
            keep = in_signing_space(data[span])
            if (
                keep.sum() >= self.cfg.min_hand_frames
                and times[span][-1] - times[span][0] >= self.cfg.min_sign_s
            ):
                try:
                    self.examples.put_nowait((data[span], times[span] - times[span][0]))
                except queue.Full:
                    pass  # the page has not taken the last ones yet

    def drain(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return _drain(self.examples)

    def close(self) -> None:
        with self._lock:
            if self.extractor is not None:
                self.extractor.close()
                self.extractor = None
