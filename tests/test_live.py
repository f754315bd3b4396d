"""The live camera's session object with real frames: MediaPipe, the recogniser, the bounded event
queue between threads, the statistics snapshot, and close/reopen as the camera stops and starts."""

import threading

import numpy as np
import pytest

from slr_core.app.live import LiveSession
from slr_core.models.checkpoint import load_model
from slr_core.recognition.predict import Classifier

from .conftest import REPO, needs_shared, popsign_clip, read_rgb_frames

pytestmark = needs_shared
MODEL = REPO / "models" / "asl250-popsign-kaggle2"
SIGNS = ("apple", "dog", "please")  # studio clips the bundled model trained on (the flow is tested)


@pytest.fixture(scope="module")
def classifier():
    return Classifier(load_model(MODEL))


@pytest.fixture(scope="module")
def stream():
    """Three real clips back to back as camera frames, with their times (each clip ends hands down)."""
    frames, times, t = [], [], 0.0
    for word in SIGNS:
        f, fps = read_rgb_frames(popsign_clip(word))
        frames += f
        times += [t + i / fps for i in range(len(f))]
        t = times[-1] + 1 / fps
    return frames, times


def feed(session, frames, times):
    for rgb, t in zip(frames, times):
        before = rgb.copy()
        out = session.process(rgb, t)
        assert out.shape == rgb.shape and out.dtype == np.uint8
        assert np.array_equal(rgb, before)  # the skeleton is drawn on a copy, never on the camera's frame


def test_signs_cross_threads_through_a_bounded_queue(classifier, stream):
    frames, times = stream
    session = LiveSession(classifier, max_events=2)
    worker = threading.Thread(target=feed, args=(session, frames, times))  # as streamlit-webrtc's worker
    worker.start()
    worker.join(timeout=600)
    assert not worker.is_alive()
    # nobody drained while three signs were recognised: the queue kept the newest two
    assert [e.label for e in session.drain()] == list(SIGNS[1:])
    assert session.drain() == []
    snap = session.snapshot()
    assert snap["frames"] == len(frames) and 0 < snap["hand_frames"] < len(frames)
    assert snap["fps"] > 0 and snap["last_ms"] > 0
    session.close()
    assert session.extractor is None and session.snapshot()["fps"] == 0.0


def test_close_then_reopen_starts_a_fresh_stream(classifier, stream):
    frames, times = stream
    session = LiveSession(classifier)
    n = len(read_rgb_frames(popsign_clip(SIGNS[0]))[0])
    feed(session, frames[: n // 2], times[: n // 2])  # half a sign, then the camera stops
    session.close()
    assert session.drain() == []
    # the camera starts again (the clock restarts at 0): the sign, then the signer steps away
    rest = [np.full_like(frames[0], 90)] * 15
    feed(session, frames[:n] + rest, times[:n] + [times[n - 1] + (i + 1) / 30 for i in range(len(rest))])
    assert session.extractor is not None
    assert [e.label for e in session.drain()] == [SIGNS[0]]
    session.close()
    session.close()  # closing twice is harmless


def test_a_session_that_falls_behind_says_so_and_still_recognises(classifier, stream):
    frames, times = stream
    session = LiveSession(classifier, slow_ms=0.0)  # every frame counts as slow: behind at once
    feed(session, frames, times)
    assert session.snapshot()["behind"]
    assert [e.label for e in session.drain()] == list(SIGNS)
    session.close()
    assert not session.snapshot()["behind"]  # a new stream starts with no history
    fast = LiveSession(classifier, slow_ms=float("inf"))
    feed(fast, frames[:20], times[:20])
    assert not fast.snapshot()["behind"]
    fast.close()


def test_a_sign_is_read_from_10_frames_a_second_as_from_30(classifier, stream):
    frames, times = stream  # 30 fps studio clips; a busy server hands over about every third frame
    session = LiveSession(classifier)
    feed(session, frames[::3], times[::3])
    assert [e.label for e in session.drain()] == list(SIGNS)
    session.close()


def test_sessions_share_the_servers_mediapipe_budget_and_each_recognises(classifier, stream, monkeypatch):
    import slr_core.app.live as live

    monkeypatch.setattr(live, "ACTIVE_S", 600.0)  # "active" = processed a frame within 10 minutes
    frames, times = stream
    budget = live.Budget(workers=1)  # one frame at a time over both sessions
    sessions = [LiveSession(classifier, budget=budget) for _ in range(2)]
    assert budget.active() == 0
    workers = [threading.Thread(target=feed, args=(s, frames, times)) for s in sessions]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=900)
    assert [[e.label for e in s.drain()] for s in sessions] == [list(SIGNS)] * 2
    assert budget.active() == 2 and budget.active(besides=sessions[0]) == 1
    assert budget.peak == 1 and budget.busy == 0  # never two frames in MediaPipe at once
    for s in sessions:
        s.close()
    assert budget.active() == 0


def test_one_repetition_read_twice_is_one_sign():
    """The recogniser may cut one repetition into two events (apple 42%, then apple 93% 0.3 s later):
    the page keeps one, the more confident, and adds one keyword."""
    from slr_core.recognition.events import REPEAT_GAP_S, merge_repeats
    from slr_core.recognition.streaming import SignEvent

    events: list = []
    first = SignEvent("apple", 0.42, [("apple", 0.42)], 1.0, 1.6)
    again = SignEvent("apple", 0.93, [("apple", 0.93)], 1.9, 2.4)
    assert merge_repeats(events, [first]) == [first]
    assert merge_repeats(events, [again]) == [] and len(events) == 1
    assert events[0].confidence == 0.93 and (events[0].start, events[0].end) == (1.0, 2.4)
    later = SignEvent("apple", 0.8, [("apple", 0.8)], 2.4 + REPEAT_GAP_S + 0.5, 4.0)  # signed again
    other = SignEvent("drink", 0.7, [("drink", 0.7)], 4.1, 4.5)
    assert merge_repeats(events, [later, other]) == [later, other] and len(events) == 3
