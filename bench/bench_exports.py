"""The formats researchers and captioners use: how long the exports take, and the ELAN extraction
against `slr extract` on the same clips.

* Exports: a 5-minute stretch of real keypoints (the 12 sequences of asl-signs-full-fixture, one
  after another, over and over) through the clip path once, then each format written (eaf, srt, vtt,
  json, pose), median of 5 runs each. The goal: all of them within 2 s after recognition ends.
* Extraction: a folder of real videos (PopSign studio clips joined three at a time), once as labelled
  clips (`slr extract`, one sequence per clip) and once as ELAN files with one annotation per sign
  (`slr extract --eaf`): seconds of video per second of work, both ways (the same MediaPipe work).

Usage: python bench/bench_exports.py [--minutes 5] [--videos 6] [--workers 2] [--parts exports,extract]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import DATA, median, require_shared


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--videos", type=int, default=6, help="extraction part: videos of three joined clips")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--parts", default="exports,extract")
    args = parser.parse_args()
    require_shared()

    from slr_core.base import settings  # noqa: E402
    from slr_core.capture.keypoints import Keypoints  # noqa: E402
    from slr_core.datasets.data import load_dataset  # noqa: E402
    from slr_core.models.checkpoint import load_model  # noqa: E402
    from slr_core.recognition import exports  # noqa: E402
    from slr_core.recognition.predict import Classifier  # noqa: E402
    from slr_core.recognition.streaming import recognize  # noqa: E402

    if "exports" in args.parts:
        ds = load_dataset(DATA / "asl-signs-full-fixture")
        seqs = [ds.keypoints(i) for i in range(len(ds))]
        gap = np.full((15, *seqs[0].data.shape[1:]), np.nan, np.float32)  # half a second of no hands between
        blocks, seconds = [], 0.0
        while seconds < args.minutes * 60:
            for kp in seqs:
                blocks += [kp.data, gap]
                seconds += (len(kp) + len(gap)) / 30.0
        data = np.concatenate(blocks)
        kp = Keypoints(data, 30.0, meta={"width": 640, "height": 480})
        classifier = Classifier(load_model(settings.default_model()))
        t0 = time.perf_counter()
        events = recognize(kp, classifier)
        print(f"{kp.duration / 60:.1f} minutes of keypoints ({len(kp)} frames): {len(events)} signs found in "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
        found = exports.Found(events, kp, "clip.mp4", "A sentence of the signs.", classifier.loaded.name)
        total = []
        with tempfile.TemporaryDirectory() as tmp:
            for fmt in exports.FORMATS:
                times = []
                for _ in range(5):
                    t0 = time.perf_counter()
                    path = exports.export(found, fmt, Path(tmp) / f"x.{fmt}")
                    times.append(time.perf_counter() - t0)
                total.append(median(times))
                print(f"  {fmt}: median {median(times) * 1000:.0f} ms ({path.stat().st_size / 1e6:.2f} MB)")
        print(f"  all five formats: {sum(total):.2f} s (goal: within 2 s)")

    if "extract" in args.parts:
        from pympi.Elan import Eaf

        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from conftest import popsign_clip, read_rgb_frames  # noqa: E402

        from slr_core.capture import videofile
        from slr_core.cli import main as slr

        words = ["please", "bed", "apple", "book", "drink", "mom", "dog", "bird", "blue", "cat", "hungry", "water",
                 "milk", "yes", "no", "happy", "sad", "bye"]  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "eaf").mkdir()
            rows, seconds = ["path,sign"], 0.0
            for v in range(args.videos):
                frames, spans, t, fps = [], [], 0.0, None
                for w in words[3 * v % len(words) : 3 * v % len(words) + 3]:
                    f, rate = read_rgb_frames(popsign_clip(w))
                    fps = fps or rate
                    spans.append((t, t + len(f) / fps, w))
                    frames += f
                    t += len(f) / fps
                name = f"video{v}.mp4"
                videofile.write_video(root / "eaf" / name, frames, fps, "libx264", bit_rate=2_000_000)
                eaf = Eaf(author="bench")
                eaf.add_linked_file(name, relpath=name, mimetype="video/mp4")
                eaf.add_tier("glosses")
                for a, b, w in spans:
                    eaf.add_annotation("glosses", int(a * 1000) + 1, int(b * 1000) - 1, w)
                eaf.to_file(str(root / "eaf" / f"video{v}.eaf"))
                rows.append(f"eaf/{name},{words[3 * v % len(words)]}")
                seconds += t
            (root / "labels.csv").write_text("\n".join(rows) + "\n")
            sign_map = str(DATA / "sign_to_prediction_index_map.json")
            t0 = time.perf_counter()
            slr(["extract", str(root / "labels.csv"), "--out", str(root / "clips"), "--workers", str(args.workers),
                 "--sign-map", sign_map, "--quiet"])  # fmt: skip
            clips_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            slr(["extract", "--eaf", str(root / "eaf"), "--tier", "glosses", "--out", str(root / "elan"), "--workers",
                 str(args.workers), "--sign-map", sign_map, "--quiet"])  # fmt: skip
            elan_s = time.perf_counter() - t0
            print(f"\n{args.videos} videos, {seconds:.0f} s of video, {args.workers} workers: slr extract {clips_s:.1f} s "
                  f"({seconds / clips_s:.2f} s of video per second); slr extract --eaf {elan_s:.1f} s "
                  f"({seconds / elan_s:.2f} s of video per second, {3 * args.videos} annotations)")  # fmt: skip


if __name__ == "__main__":  # the extraction's worker processes import this file: nothing runs then
    main()
