"""Continuous-stream recognition, measured on joined real sequences.

Streams are built from real keypoints: asl-signs-subset sequences of the validation participants
(fold 0 of 5, never trained on), PopSign reference clips of in-vocabulary signs (which the default
model trained on: their recognition is optimistic), and held-out PopSign clips of words outside the
vocabulary (which must not produce events). Between items: real resting frames (the PopSign clips'
own opening frames, hands down), 0.3-1.0 s; a second scenario strings signs back to back. Frames are
timed at 30 fps and then 10% are dropped with jittered timestamps, as from a live camera.

Prints, per segmentation mode: sign-level precision and recall, the word error rate of the emitted
sequence, and the latency from the end of a sign to its event (stream time, plus the recogniser's
own compute time per event). Usage: python bench/bench_streaming.py [--model DIR] [--streams 40]
"""

import argparse
import time

import numpy as np
from common import DATA, REPO, edit_distance, require_shared

parser = argparse.ArgumentParser()
parser.add_argument("--model", default=str(REPO / "models" / "asl250-popsign-kaggle2"))
parser.add_argument("--popsign-kp", default=str(REPO / "data" / "popsign-kp"),
                    help="keypoints of popsign-reference made by slr extract")  # fmt: skip
parser.add_argument("--streams", type=int, default=40)
parser.add_argument("--seed", type=int, default=0, help="streams are drawn with this seed")
parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a StreamConfig setting")
parser.add_argument("--modes", default="activity,window")
args = parser.parse_args()
require_shared()

from slr_core.capture.landmarks import PIPELINE_HAND_ROWS  # noqa: E402
from slr_core.datasets.cache import load_or_build_cache  # noqa: E402
from slr_core.datasets.data import UNKNOWN_LABEL, load_dataset, participant_folds  # noqa: E402
from slr_core.models.checkpoint import load_model  # noqa: E402
from slr_core.recognition.predict import Classifier  # noqa: E402
from slr_core.recognition.streaming import Recognizer, StreamConfig  # noqa: E402
from slr_core.training.trainset import _hash_fraction  # noqa: E402

FPS = 30.0
HANDS = PIPELINE_HAND_ROWS


def items_from(path, pick):
    ds = load_dataset(path)
    cache = load_or_build_cache(ds, progress=False)
    out = []
    for i in range(len(cache)):
        row = ds.table.iloc[int(cache.keep[i])]
        if pick(ds, row, int(cache.keep[i])):
            data, _ = cache.get(i)
            out.append((None if row["sign"] == UNKNOWN_LABEL else row["sign"], data))
    return ds, cache, out


subset = load_dataset(DATA / "asl-signs-subset")
val_parts = set(subset.participants()[participant_folds(subset.participants(), 5) == 0])
_, _, kaggle = items_from(DATA / "asl-signs-subset", lambda ds, r, i: r["participant_id"] in val_parts)
_, _, pop_in = items_from(args.popsign_kp, lambda ds, r, i: r["sign"] != UNKNOWN_LABEL)
_, pop_cache, pop_oov = items_from(args.popsign_kp, lambda ds, r, i: r["sign"] == UNKNOWN_LABEL
                                   and _hash_fraction(str(r["word"])) < 0.5)  # fmt: skip
rests = []
for _, data in pop_in[:60]:  # real resting frames: each clip's opening, before a hand shows
    seen = np.isfinite(data[:, HANDS, 0]).any(1)
    first = int(np.argmax(seen)) if seen.any() else 0
    if first >= 6:
        rests.append(data[: first - 2])
print(f"{len(kaggle)} held-out asl-signs sequences, {len(pop_in)} PopSign signs, {len(pop_oov)} held-out "
      f"out-of-vocabulary clips, {len(rests)} resting stretches")  # fmt: skip


def build_stream(rng, with_rest: bool):
    frames, truth, t = [], [], 0
    n = int(rng.integers(3, 7))
    for k in range(n):
        r = rng.random()
        pool = kaggle if r < 0.45 else pop_in if r < 0.8 else pop_oov
        label, data = pool[int(rng.integers(len(pool)))]
        if with_rest or k == 0:
            rest = rests[int(rng.integers(len(rests)))]
            take = int(rng.uniform(0.3, 1.0) * FPS)
            frames.append(np.resize(rest, (take, *rest.shape[1:])))
            t += take
        seen = np.isfinite(data[:, HANDS, 0]).any(1)
        idx = np.flatnonzero(seen)
        if label is not None and len(idx):
            truth.append((label, (t + idx[0]) / FPS, (t + idx[-1]) / FPS))
        frames.append(data)
        t += len(data)
    rest = rests[int(rng.integers(len(rests)))]
    frames.append(np.resize(rest, (int(0.6 * FPS), *rest.shape[1:])))
    data = np.concatenate(frames)
    times = np.arange(len(data)) / FPS
    keep = rng.random(len(data)) > 0.1  # a live camera drops frames ...
    times = times + rng.normal(0, 0.004, len(times))  # ... and delivers them unevenly
    return data[keep], np.maximum.accumulate(times[keep]) + np.arange(keep.sum()) * 1e-6, truth


def run(mode: str, with_rest: bool, classifier):
    rng = np.random.default_rng(args.seed)
    tp = fp = fn = 0
    errors = words = 0
    lat, compute = [], []
    for _ in range(args.streams):
        data, times, truth = build_stream(rng, with_rest)
        rec = Recognizer(classifier, StreamConfig(**{**overrides, "mode": mode}))
        events = []
        for frame, t in zip(data, times):
            t0 = time.perf_counter()
            new = rec.push(frame, float(t))
            if new:
                compute.append(time.perf_counter() - t0)
            events += new
        events += rec.flush()
        used = set()
        for e in events:
            match = next((k for k, (lab, s, en) in enumerate(truth) if k not in used and lab == e.label
                          and e.start <= en + 0.1 and e.end >= s - 0.1), None)  # fmt: skip
            if match is None:
                fp += 1
            else:
                used.add(match)
                tp += 1
                lat.append(e.emitted_at - truth[match][2])
        fn += len(truth) - len(used)
        errors += edit_distance([e.label for e in events], [lab for lab, _, _ in truth])
        words += len(truth)
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    lat_ms = np.array(lat) * 1000
    comp_ms = np.array(compute) * 1000 if compute else np.zeros(1)
    print(f"  {mode:8s} precision {p:.3f}  recall {r:.3f}  WER {errors / max(words, 1):.3f}  "
          f"({tp} right, {fp} wrong or extra, {fn} missed of {words} signs)")  # fmt: skip
    if len(lat_ms):
        print(f"           latency after the sign ends: median {np.median(lat_ms):.0f} ms, 90th percentile "
              f"{np.percentile(lat_ms, 90):.0f} ms (stream time); recogniser compute per event: "
              f"median {np.median(comp_ms):.1f} ms")  # fmt: skip


overrides = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
loaded = load_model(args.model)
classifier = Classifier(loaded)
print(f"model {loaded.name}, threshold {classifier.threshold:.2f}, {args.streams} streams per scenario, "
      f"seed {args.seed}, settings {StreamConfig(**overrides)}")  # fmt: skip
for with_rest, title in ((True, "signs separated by rest (hands down)"), (False, "signs back to back")):
    print(title)
    for mode in args.modes.split(","):
        run(mode, with_rest, classifier)
