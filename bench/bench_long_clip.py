"""Long clips: what MediaPipe at a lower frame rate costs in accuracy and saves in time, and how long
a long clip takes through the clip path (`slr predict`, the Upload page).

1. Accuracy by keypoint frame rate: every --n-th PopSign studio clip of a sign (30 fps) through the
   clip path with keypoints at every frame, at 15 and at 10 frames per second: the share of clips
   that give the right single sign, and the frames MediaPipe processed (its time dominates).
2. A long clip: --minutes of studio clips joined (30 fps, 640x360), through the clip path at each
   frame rate and each number of processes sharing it (--processes): wall time against the clip's
   own length, and the word error rate of the signs found against the signs joined (the bundled
   model trained on these clips: the level is optimistic, the comparison between settings is the point).
Usage: python bench/bench_long_clip.py [--model DIR] [--n 4] [--minutes 1] [--rates 0,15,10]
       [--processes 1,2] [--parts accuracy,long]
"""

import argparse
import time

from common import DATA, REPO, edit_distance, require_shared


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(REPO / "models" / "asl250-popsign-kaggle2"))
    parser.add_argument("--n", type=int, default=4, help="take every n-th sign clip")
    parser.add_argument("--minutes", type=float, default=1.0, help="length of the joined long clip")
    parser.add_argument("--rates", default="0,15,10", help="keypoint frame rates (0: every frame)")
    parser.add_argument("--processes", default="1", help="processes sharing the long clip, e.g. 1,2")
    parser.add_argument("--parts", default="accuracy,long")
    return parser.parse_args()


def accuracy(clips, classifier, rates, extractor, every: int) -> None:
    from slr_core.recognition.streaming import recognize_clip

    print(f"1. {len(clips)} studio clips of signs (every {every}th), clip path, default model")
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


def join_clips(labels, minutes: float):
    """Studio clips of signs joined into one 30 fps 640x360 clip; returns (path, frames, signs)."""
    from slr_core.capture.extract import iter_frames
    from slr_core.capture.videofile import write_video

    out = REPO / "runs" / "bench-long-clip.mp4"
    out.parent.mkdir(exist_ok=True)
    target, signs, written = int(minutes * 60 * 30), [], [0]

    def frames():
        for path, sign in zip(labels["path"], labels["sign"]):
            clip = [rgb for _, rgb in iter_frames(REF / path) if rgb.shape[:2] == (360, 640)]
            yield from clip
            written[0] += len(clip)
            signs.extend([sign] if clip else [])
            if written[0] >= target:
                return

    write_video(out, frames(), 30)
    return out, written[0], signs


def long_clip(labels, classifier, rates, processes, minutes, extractor) -> None:
    from slr_core.recognition.streaming import recognize_clip

    out, n, signs = join_clips(labels, minutes)
    print(f"\n2. a {n / 30:.0f} s clip ({n} frames at 30 fps, 640x360) of {len(signs)} studio clips joined")
    for rate in rates:
        for procs in processes:
            t0 = time.perf_counter()
            result = recognize_clip(
                out, classifier, extractor=extractor, max_fps=rate or None, processes=procs
            )
            took = time.perf_counter() - t0
            found = [e.label for e in result.events]
            wer = edit_distance(found, signs) / len(signs)
            print(f"  keypoints at {'every frame' if not rate else f'{rate:.0f} fps'}, {procs} process(es): "
                  f"{took:.0f} s ({took / (n / 30):.2f} x the clip's length), {len(found)} signs found, "
                  f"word error rate {wer:.3f}", flush=True)  # fmt: skip


def main() -> None:
    args = parse_args()
    require_shared()
    import pandas as pd

    from slr_core.capture.extract import Extractor
    from slr_core.models.checkpoint import load_model
    from slr_core.recognition.predict import Classifier

    labels = pd.read_csv(REF / "labels.csv").dropna(subset=["sign"])
    classifier = Classifier(load_model(args.model))
    rates = [float(r) for r in args.rates.split(",")]
    with Extractor() as extractor:
        if "accuracy" in args.parts:
            accuracy(labels.iloc[:: args.n], classifier, rates, extractor, args.n)
        if "long" in args.parts:
            processes = [int(p) for p in args.processes.split(",")]
            long_clip(labels, classifier, rates, processes, args.minutes, extractor)


REF = DATA / "popsign-reference"

if __name__ == "__main__":
    main()
