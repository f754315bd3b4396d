"""Extraction speed on a real 640-px clip: MediaPipe Holistic alone versus our wrapper.

Both sides get the same decoded RGB frames; runs alternate so that machine noise hits both.
Prints ms/frame medians over several runs and the wrapper's overhead.
Usage: python bench/bench_extract.py [--runs 5] [--clip PATH]
"""

import argparse

from common import DATA, median, report, require_shared, timed

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--clip", default=None)
args = parser.parse_args()
require_shared()

import mediapipe as mp  # noqa: E402

from slr_core.capture.extract import Extractor, extract_video, iter_frames  # noqa: E402

clip = args.clip or str(DATA / "popsign-reference" / "clips" / "hello.mp4")
frames = [rgb for _, rgb in iter_frames(clip)]
h, w = frames[0].shape[:2]
print(f"clip {clip}: {len(frames)} frames of {w}x{h}")

raw_runs, wrapped_runs, file_runs, ratios = [], [], [], []
holistic = mp.solutions.holistic.Holistic(model_complexity=1)


def run_raw():
    holistic.reset()
    t, _ = timed(lambda: [holistic.process(f) for f in frames])
    return t / len(frames)


def run_wrapped():
    ex.reset()
    t, _ = timed(lambda: [ex.process(f) for f in frames])
    return t / len(frames)


with Extractor() as ex:
    run_raw(), run_wrapped()  # warm-up
    for i in range(args.runs):
        # ABBA order, so that drift on this shared machine does not favour either side
        if i % 2 == 0:
            a, b = run_raw(), run_wrapped()
        else:
            b, a = run_wrapped(), run_raw()
        raw_runs.append(a)
        wrapped_runs.append(b)
        ratios.append(b / a)
        t, kp = timed(extract_video, clip, ex)
        file_runs.append(t / len(kp))
    # The wrapper's own work per frame: turning MediaPipe's result into the (543, 3) array.
    results = [holistic.process(f) for f in frames]
    conversion = []
    for r in results:
        t, _ = timed(ex._to_array, r)
        conversion.append(t)
holistic.close()
report("MediaPipe Holistic alone        ", raw_runs, "ms/frame")
report("Extractor.process (wrapper)     ", wrapped_runs, "ms/frame")
report("extract_video (decode included) ", file_runs, "ms/frame")
report("result -> array conversion      ", conversion, "ms/frame")
print(
    f"wrapper overhead: median of paired runs {100 * (median(ratios) - 1):+.1f}%, "
    f"conversion alone {100 * median(conversion) / median(raw_runs):.1f}% of MediaPipe's time"
)
