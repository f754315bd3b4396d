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
from collections import deque

import cv2
import numpy as np

from .extract import Extractor
from .landmarks import HAND_ROWS
from .predict import Classifier
from .streaming import Recognizer, SignEvent, StreamConfig
from .viz import draw_skeleton


class LiveSession:
    """One browser session's camera path. MediaPipe is started on the first frame and closed by
    close() (when the camera stops); the next frame starts it again."""

    def __init__(
        self, classifier: Classifier, config: StreamConfig | None = None, max_events: int = 64
    ) -> None:
        self.classifier = classifier
        self.extractor: Extractor | None = None
        self.recognizer = Recognizer(classifier, config)
        # NOTE: crosses threads: filled by the webrtc worker, drained by the script thread.
        self.events: queue.Queue[SignEvent] = queue.Queue(maxsize=max_events)
        self._lock = threading.Lock()  # guards the fields below and the extractor's life
        self._times: deque[float] = deque(maxlen=60)  # wall time of the last processed frames
        self._frames = 0
        self._hand_frames = 0
        self._last_ms = 0.0
        self._last_sign: SignEvent | None = None
        self._t0: float | None = None

    def process(self, rgb: np.ndarray, t: float | None = None) -> np.ndarray:
        """Landmarks, recogniser and skeleton overlay for one RGB frame; returns the drawn frame."""
        start = time.perf_counter()
        with self._lock:
            if self.extractor is None:
                self.extractor = Extractor()
                self.recognizer.reset()
            if t is None:
                self._t0 = self._t0 or time.monotonic()
                t = time.monotonic() - self._t0
            landmarks = self.extractor.process(rgb)
            events = self.recognizer.push(landmarks, float(t))
            # never draw on the caller's frame (it may be reused or shown elsewhere)
            out = draw_skeleton(np.array(rgb, copy=True, order="C"), landmarks)
            self._frames += 1
            self._hand_frames += bool(np.isfinite(landmarks[HAND_ROWS, 0]).any())
            self._times.append(time.monotonic())
            for e in events:
                self._last_sign = e
                while True:
                    try:
                        self.events.put_nowait(e)
                        break
                    except queue.Full:  # nobody is reading: keep the newest
                        self.events.get_nowait()
            self._last_ms = (time.perf_counter() - start) * 1000
            if self._last_sign is not None:
                cv2.putText(out, f"{self._last_sign.label} {self._last_sign.confidence:.0%}", (12, 34),
                            cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 3, cv2.LINE_AA)  # fmt: skip
            return out

    def drain(self) -> list[SignEvent]:
        """Every event since the last call (script thread)."""
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

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
            }

    def close(self) -> None:
        """Free MediaPipe (the camera stopped); events already queued stay readable."""
        with self._lock:
            if self.extractor is not None:
                self.extractor.close()
                self.extractor = None
            self._times.clear()


def make_video_callback(session: LiveSession):
    """The streamlit-webrtc `video_frame_callback` for a session (also used by the live bench)."""
    import av

    def callback(frame: av.VideoFrame) -> av.VideoFrame:
        rgb = frame.to_ndarray(format="rgb24")
        out = session.process(rgb, frame.time)
        return av.VideoFrame.from_ndarray(out, format="rgb24")

    return callback
