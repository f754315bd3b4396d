"""The streaming recogniser on real keypoints and real video, with the bundled model."""

import json

import numpy as np
import pytest

from slr_core.capture.extract import extract_video
from slr_core.capture.keypoints import write_parquet
from slr_core.cli import main as slr
from slr_core.datasets.cache import load_or_build_cache
from slr_core.datasets.data import load_dataset
from slr_core.features.preprocess import preprocess
from slr_core.models.checkpoint import load_model
from slr_core.recognition.predict import Classifier
from slr_core.recognition.streaming import Recognizer, StreamConfig, recognize
from slr_core.training.trainset import SequenceSet, Split

from .conftest import REPO, SIGN_MAP, needs_shared, popsign_clip, read_rgb_frames, write_video

pytestmark = needs_shared
MODEL = REPO / "models" / "asl250-popsign-kaggle2"
# Reference clips the bundled model recognises (it trained on them: this tests the recogniser's
# flow, not the model's generalisation, which bench/bench_streaming.py measures on held-out data).
SIGNS = ("apple", "dog", "please")


@pytest.fixture(scope="module")
def classifier():
    return Classifier(load_model(MODEL))


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    """One real video: three PopSign clips back to back (each starts and ends with hands down)."""
    frames = []
    for word in SIGNS:
        f, fps = read_rgb_frames(popsign_clip(word))
        frames += f
    clip = tmp_path_factory.mktemp("joined") / "three_signs.mp4"
    return write_video(clip, frames, fps, "libx264")


def test_slr_predict_lists_joined_signs_in_order(joined, capsys):
    assert slr(["predict", str(joined), "--model", str(MODEL), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    labels = [e["label"] for e in out["events"]]
    assert labels == list(SIGNS), out["events"]
    spans = [(e["start"], e["end"]) for e in out["events"]]
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))  # in time order, not overlapping
    assert all(len(e["top5"]) == 5 and 0 < e["confidence"] <= 1 for e in out["events"])
    assert slr(["predict", str(joined), "--model", str(MODEL), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and SIGNS[0] in lines[0] and "top-5:" in lines[0]


def test_slr_predict_splits_a_long_clip_across_processes(joined, capsys, monkeypatch):
    """The clip path with the clip cut in two, each half read by its own process and MediaPipe
    (clips of a minute or more; the limit is lowered here so a 6 s clip is split): the same signs."""
    from slr_core.capture import extract

    monkeypatch.setattr(extract, "SPLIT_MIN_S", 1.0)
    split, calls = extract.extract_split, []
    monkeypatch.setattr(extract, "extract_split", lambda *a, **k: calls.append(a[1]) or split(*a, **k))
    assert slr(["predict", str(joined), "--model", str(MODEL), "--json", "--processes", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert calls == [2]
    assert [e["label"] for e in out["events"]] == list(SIGNS), out["events"]


def test_window_mode_emits_each_performance_once(joined, classifier):
    kp = extract_video(joined)
    events = recognize(kp, classifier, StreamConfig(mode="window"))
    labels = [e.label for e in events]
    for word in SIGNS:
        assert labels.count(word) <= 1
    assert len(set(labels) & set(SIGNS)) >= 2, labels


def test_a_clip_without_signs_gives_no_events(tmp_path, capsys):
    frames = [np.full((240, 320, 3), 100, np.uint8) for _ in range(15)]
    clip = write_video(tmp_path / "room.mp4", frames, 15, "libx264")
    assert slr(["predict", str(clip), "--model", str(MODEL), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "no sign recognised" in out and "no hands were seen" in out


@needs_shared
def test_predict_says_what_it_thought_when_nothing_passes(tmp_path, capsys):
    """A word outside the vocabulary: nothing accepted, and the same top-5 the Upload page shows."""
    from slr_core.recognition.streaming import clip_guess

    clip = popsign_clip("about")
    assert slr(["predict", str(clip), "--model", str(MODEL), "--quiet", "--fps", "0"]) == 0  # every frame
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("no sign recognised") and lines[1].startswith("what it thought: ")
    guess = clip_guess(extract_video(clip), Classifier(load_model(MODEL)))
    assert lines[1] == "what it thought: " + ", ".join(f"{n} {p:.1%}" for n, p in guess.top5)


def test_threshold_decides_what_is_emitted(classifier, hello_keypoints):
    assert recognize(hello_keypoints, classifier, StreamConfig(threshold=1.01)) == []
    events = recognize(hello_keypoints, classifier, StreamConfig(threshold=0.0))
    assert len(events) == 1 and events[0].start >= hello_keypoints.times[hello_keypoints.hands_present()][0]


def test_stalls_jumps_and_reordered_frames_do_not_corrupt_the_stream(classifier, hello_keypoints):
    kp = hello_keypoints
    rec = Recognizer(classifier, StreamConfig(buffer_s=1.0))
    events = []
    t = 0.0
    for i, frame in enumerate(kp.data):
        t += 1 / 30
        if i == 20:
            kept = list(rec._times)
            events += rec.push(frame, t - 0.5)  # a late frame from the past: dropped
            assert list(rec._times) == kept and rec.dropped == 21  # 20 duplicates so far, and this
            t += 5.0  # the stream stalls for 5 s, then goes on
        events += rec.push(frame, t)
        kept = list(rec._times)
        events += rec.push(frame, t)  # a duplicate timestamp: dropped
        assert list(rec._times) == kept
        assert len(rec._frames) <= 31  # the buffer stays bounded (1 s at 30 fps)
    assert rec.dropped == len(kp.data) + 1  # every duplicate and the late frame, nothing else
    assert all(b > a for a, b in zip(rec._times, list(rec._times)[1:]))
    events += rec.push(kp.data[0], 0.0)  # the clock restarts (a new stream): no crash
    assert rec.dropped == len(kp.data) + 1 and list(rec._times) in ([], [0.0])
    events += rec.flush()
    for e in events:
        assert e.end >= e.start and np.isfinite(e.confidence)


class Recording(Classifier):
    """The real classifier, also keeping the exact tensors it was given."""

    seen: list

    def probabilities(self, data, times):
        self.seen = getattr(self, "seen", []) + [preprocess(data, times, self.length)]
        return super().probabilities(data, times)


def test_training_and_live_paths_give_identical_tensors(tmp_path, hello_keypoints):
    """The same frames: through the training data path (parquet -> cache -> SequenceSet) and
    through the live recogniser's buffer, frame by frame."""
    kp = hello_keypoints
    root = tmp_path / "ds"
    write_parquet(kp, root / "train_landmark_files" / "1" / "1.parquet")
    (root / "train.csv").write_text(
        "path,participant_id,sequence_id,sign\ntrain_landmark_files/1/1.parquet,1,1,hello\n"
    )
    (root / SIGN_MAP.name).write_text(SIGN_MAP.read_text())
    ds = load_dataset(root)
    cache = load_or_build_cache(ds, tmp_path / "cache", progress=False)
    x, hands, mask, groups, pos, _ = SequenceSet([cache], Split([(0, 0)], [0]), 64)[(0, 0)]

    live = Recording(load_model(MODEL))
    rec = Recognizer(live)
    for frame, t in zip(kp.data, kp.times):
        rec.push(frame, float(t))
    rec.flush()
    f = live.seen[-1]
    assert np.array_equal(f.x, x.numpy()) and np.array_equal(f.mask, mask.numpy())
    assert np.array_equal(f.hands, hands.numpy())
    assert np.array_equal(f.groups, groups.numpy()) and np.array_equal(f.positions, pos.numpy())
    assert np.array_equal(preprocess(kp).x, f.x)  # and the upload path (whole clip) too


def test_bad_config():
    with pytest.raises(ValueError, match="mode"):
        StreamConfig(mode="magic")


def test_whole_clip_stretches():
    from slr_core.recognition.streaming import clip_stretches

    cfg = StreamConfig()  # gap 0.2 s, at least 0.15 s and 4 hand frames, merge within 0.6 s
    t = np.arange(120) / 30

    def stretches(frames):
        signing = np.zeros(len(t), bool)
        signing[list(frames)] = True
        return clip_stretches(signing, t, cfg)

    assert stretches([]) == []
    assert stretches(range(10, 30)) == [(10, 29)]
    # a sign, then a flicker of the hand 0.3 s later: one sign
    assert stretches([*range(10, 30), 39, 40]) == [(10, 40)]
    # two signs with the hands down for 1 s between them: two
    assert stretches([*range(10, 30), *range(60, 80)]) == [(10, 29), (60, 79)]
    # a flicker far from anything is not a sign, unless it is all the clip has
    assert stretches([*range(10, 30), 100, 101]) == [(10, 29)]
    assert stretches([50, 51]) == [(50, 51)]
