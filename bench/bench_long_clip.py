"""Long clips: what MediaPipe at a lower frame rate costs in accuracy and saves in time, and how long
a long clip takes through the clip path (`slr predict`, the Upload page).

1. Accuracy by keypoint frame rate: every --n-th PopSign studio clip of a sign (30 fps) through the
   clip path with keypoints at every frame, at 15 and at 10 frames per second: the share of clips
   that give the right single sign, and the frames MediaPipe processed (its time dominates).
2. A long clip: --minutes of studio clips joined (30 fps, 640x360), through the clip path at each
   frame rate: wall time against the clip's own length.
Usage: python bench/bench_long_clip.py [--model DIR] [--n 4] [--minutes 1] [--rates 0,15,10]
"""

import argparse
import time

import numpy as np
from common import DATA, REPO, require_shared

parser = argparse.ArgumentParser()
parser.add_argument("--model", default=str(REPO / "models" / "asl250-popsign-kaggle2"))
parser.add_argument("--n", type=int, default=4, help="take every n-th sign clip")
parser.add_argument("--minutes", type=float, default=1.0, help="length of the joined long clip")
parser.add_argument("--rates", default="0,15,10", help="keypoint frame rates (0: every frame)")
parser.add_argument("--parts", default="accuracy,long")
args = parser.parse_args()
require_shared()

import pandas as pd  # noqa: E402

from slr_core.checkpoint import load_model  # noqa: E402
from slr_core.extract import Extractor, iter_frames  # noqa: E402
from slr_core.predict import Classifier  # noqa: E402
from slr_core.streaming import recognize_clip  # noqa: E402

REF = DATA / "popsign-reference"
labels = pd.read_csv(REF / "labels.csv").dropna(subset=["sign"])
clips = labels.iloc[:: args.n]
classifier = Classifier(load_model(args.model))
rates = [float(r) for r in args.rates.split(",")]
extractor = Extractor()

if "accuracy" in args.parts:
    print(f"1. {len(clips)} studio clips of signs (every {args.n}th), clip path, default model")
    for rate in rates:
        right = frames = 0
        t0 = time.perf_counter()
        for path, sign in zip(clips["path"], clips["sign"]):
            result = recognize_clip(REF / path, classifier, extractor=extractor, max_fps=rate or None)
            right += [e.label for e in result.events] == [sign]
            frames += len(result.keypoints)
        took = time.perf_counter() - t0
        print(f"  keypoints at {'every frame' if not rate else f'{rate:.0f} fps'}: right single sign "
              f"{right / len(clips):.3f}; {frames} frames through MediaPipe; {took:.0f} s")  # fmt: skip

if "long" in args.parts:
    import av

    out = REPO / "runs" / "bench-long-clip.mp4"
    out.parent.mkdir(exist_ok=True)
    target = int(args.minutes * 60 * 30)
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        n = 0
        for path in labels["path"]:
            for _, rgb in iter_frames(REF / path):
                if rgb.shape[:2] != (360, 640):
                    continue
                for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), "rgb24")):
                    container.mux(packet)
                n += 1
            if n >= target:
                break
        for packet in stream.encode():
            container.mux(packet)
    print(f"\n2. a {n / 30:.0f} s clip ({n} frames at 30 fps, 640x360) of studio clips joined")
    for rate in rates:
        t0 = time.perf_counter()
        result = recognize_clip(out, classifier, extractor=extractor, max_fps=rate or None)
        took = time.perf_counter() - t0
        print(f"  keypoints at {'every frame' if not rate else f'{rate:.0f} fps'}: {took:.0f} s "
              f"({took / (n / 30):.2f} x the clip's length), {len(result.events)} signs found")  # fmt: skip
extractor.close()
