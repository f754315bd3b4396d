"""The live path's throughput and latency on these cores: a real clip, looped as a 30 fps camera,
through the very callback the live page gives streamlit-webrtc (slr_core.live.make_video_callback).

A producer thread delivers a frame every 1/30 s; a worker thread does what streamlit-webrtc's
async processing does: take every frame queued so far, process only the newest (older ones are
dropped, so the stream never falls behind). Prints processed frames per second, the share of
frames dropped, the time each frame takes, and the time from the end of a sign (the signer's hands
leave the picture) to its event. Medians over several runs.

--sessions N runs N such camera streams at once in one process, as N people on one server: they
share the server's MediaPipe budget (SLR_MEDIAPIPE_WORKERS), and the script prints each session's
frames per second and the signs it recognised.

--memory-minutes M runs one session for M minutes and samples the process's resident memory every
10 s: it prints the memory at the start and end and its slope (least squares over the samples after
the first 2 minutes, in MB per 10 minutes): a session that keeps something per frame shows as a slope.
Usage: python bench/bench_live.py [--model DIR] [--seconds 20] [--runs 3] [--clip WORD] [--sessions N]
       [--mode signs|spelling|auto] [--memory-minutes 30] [--library DIR]
"""

import argparse
import queue
import statistics
import threading
import time
from fractions import Fraction

import numpy as np
from common import DATA, REPO, require_shared

parser = argparse.ArgumentParser()
parser.add_argument("--model", default=str(REPO / "models" / "asl250-popsign-kaggle2"))
parser.add_argument("--seconds", type=float, default=20.0)
parser.add_argument("--runs", type=int, default=3)
parser.add_argument("--clip", default="hello", help="a PopSign reference word")
parser.add_argument("--sessions", type=int, default=1, help="camera streams at once (people on one server)")
parser.add_argument("--mode", default="signs", choices=("signs", "spelling", "auto"),
                    help="the live page's mode (spelling and auto also run the letter model)")  # fmt: skip
parser.add_argument("--memory-minutes", type=float, default=0, help="one long session, its memory over time")
parser.add_argument("--library", help="a library of personal signs (a folder), matched as on the live page")
args = parser.parse_args()
require_shared()

import av  # noqa: E402
import torch  # noqa: E402

from slr_core.app.live import LiveSession, make_video_callback  # noqa: E402
from slr_core.capture.extract import iter_frames  # noqa: E402
from slr_core.models.checkpoint import load_model  # noqa: E402
from slr_core.recognition.predict import Classifier  # noqa: E402

torch.set_num_threads(1)  # as in the app
clip = DATA / "popsign-reference" / "clips" / f"{args.clip}.mp4"
frames = [rgb for _, rgb in iter_frames(clip)]
FPS = 30.0
period = len(frames) / FPS
classifier = Classifier(load_model(args.model))
if args.library:
    from slr_core.recognition.library import Library
    from slr_core.recognition.matcher import PersonalClassifier

    classifier = PersonalClassifier(classifier.loaded, Library.open(args.library))
    print(
        f"with the library {args.library}: "
        + ", ".join(f"{w} ({len(x)})" for w, x in classifier.library.words().items())
    )

# When does the sign end in each loop? The last frame with hands, found once with MediaPipe.
probe = LiveSession(classifier)
hands = []
for i, rgb in enumerate(frames):
    probe.process(rgb.copy(), i / FPS)
    hands.append(probe.snapshot()["hand_frames"])
probe.close()
hand_idx = np.flatnonzero(np.diff(np.r_[0, hands]) > 0)
sign_end = hand_idx[-1] / FPS if len(hand_idx) else None
print(f"clip {clip.name}: {len(frames)} frames of {frames[0].shape[1]}x{frames[0].shape[0]}, looped at 30 fps; "
      f"hands end at {sign_end:.2f} s of each {period:.2f} s loop")  # fmt: skip


letters = None
if args.mode != "signs":
    from slr_core.base import settings
    from slr_core.recognition.letters import LetterModel

    letters = LetterModel.load(settings.letters_model())


def one_run(seconds: float):
    session = LiveSession(classifier, letters=letters, mode=args.mode)
    callback = make_video_callback(session)
    inbox: queue.Queue = queue.Queue()
    stop = threading.Event()
    processed, per_frame, latencies, labels = [], [], [], []
    start = time.monotonic()

    def producer():
        n = 0
        while not stop.is_set():
            due = start + n / FPS
            time.sleep(max(0.0, due - time.monotonic()))
            frame = av.VideoFrame.from_ndarray(frames[n % len(frames)], format="rgb24")
            frame.pts, frame.time_base = n, Fraction(1, 30)
            inbox.put(frame)
            n += 1
            if time.monotonic() - start > seconds:
                stop.set()

    def worker():
        while not stop.is_set() or not inbox.empty():
            try:
                batch = [inbox.get(timeout=0.5)]
            except queue.Empty:
                continue
            while not inbox.empty():
                batch.append(inbox.get_nowait())  # streamlit-webrtc keeps only the newest
            t0 = time.perf_counter()
            callback(batch[-1])
            per_frame.append(time.perf_counter() - t0)
            processed.append(time.monotonic())
            for e in session.drain():
                labels.append(e.label)
                loop = int(e.end // period)
                end_wall = start + loop * period + sign_end
                latencies.append(time.monotonic() - end_wall)

    threads = [threading.Thread(target=producer), threading.Thread(target=worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    session.close()
    delivered = int(round(seconds * FPS))
    fps = (len(processed) - 1) / (processed[-1] - processed[0])
    return fps, 1 - len(processed) / delivered, statistics.median(per_frame) * 1000, latencies, labels


def several(n: int, seconds: float) -> None:
    """n sessions at once: each one's frames per second and what it recognised."""
    results: list = [None] * n

    def run(k: int) -> None:
        results[k] = one_run(seconds)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    loops = int(seconds // period)
    for k, (fps, dropped, ms, _, labels) in enumerate(results):
        right = sum(1 for x in labels if x == args.clip)
        print(f"  session {k + 1}: {fps:.1f} frames/s processed, {100 * dropped:.0f}% dropped, {ms:.0f} ms per "
              f"frame (incl. waiting for its turn); recognised {args.clip} {right} times in {loops} loops"
              + (f", other signs: {', '.join(x for x in labels if x != args.clip)}" if right < len(labels) else ""))  # fmt: skip


def rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory(minutes: float) -> None:
    """One session for `minutes`, its process's memory sampled every 10 s."""
    samples: list[tuple[float, float]] = []
    done = threading.Event()
    t0 = time.monotonic()

    def sample() -> None:
        while not done.wait(10.0 if samples else 0.0):
            samples.append(((time.monotonic() - t0) / 60, rss_mb()))

    sampler = threading.Thread(target=sample)
    sampler.start()
    fps, dropped, ms, _, labels = one_run(minutes * 60)
    done.set()
    sampler.join()
    t, mb = np.array(samples).T
    late = t >= min(2.0, t[-1] / 2)
    slope = np.polyfit(t[late], mb[late], 1)[0] * 10
    right = sum(1 for x in labels if x == args.clip)
    print(f"{minutes:g} minutes, one session: {fps:.1f} frames/s, {100 * dropped:.0f}% dropped; "
          f"recognised {args.clip} {right} times in {int(minutes * 60 // period)} loops")  # fmt: skip
    print(f"resident memory: {mb[0]:.0f} MB at the start, {mb[late][0]:.0f} MB at {t[late][0]:.1f} min, "
          f"{mb[-1]:.0f} MB at the end (peak {mb.max():.0f}); slope after the first minutes "
          f"{slope:+.1f} MB per 10 minutes ({late.sum()} samples)")  # fmt: skip


if args.memory_minutes:
    memory(args.memory_minutes)
    raise SystemExit(0)

if args.sessions > 1:
    for r in range(args.runs):
        print(f"{args.sessions} sessions at once, run {r + 1}:")
        several(args.sessions, args.seconds)
    raise SystemExit(0)

fps_runs, drop_runs, ms_runs, lat_all = [], [], [], []
for _ in range(args.runs):
    fps, dropped, ms, lat, _ = one_run(args.seconds)
    fps_runs.append(fps)
    drop_runs.append(dropped)
    ms_runs.append(ms)
    lat_all += lat
print(f"processed frames per second: median {statistics.median(fps_runs):.1f} "
      f"(runs: {', '.join(f'{f:.1f}' for f in fps_runs)}) of 30 delivered")  # fmt: skip
print(f"frames dropped: median {100 * statistics.median(drop_runs):.0f}%")
print(
    f"time per processed frame (MediaPipe + recogniser + drawing): median {statistics.median(ms_runs):.1f} ms"
)
if lat_all:
    lat = np.array(lat_all) * 1000
    print(f"end of sign -> event: median {np.median(lat):.0f} ms, 90th percentile {np.percentile(lat, 90):.0f} ms "
          f"({len(lat)} events; the page polls every 200 ms on top)")  # fmt: skip
else:
    print("no sign was recognised in the looped clip")
