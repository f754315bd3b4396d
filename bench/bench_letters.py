"""Fingerspelling: letter accuracy on people the model never saw, spelled words, and the cost per frame.

* Leave one person out over 9 people: the 4 of asl-letters-massey (photos, through MediaPipe Hands)
  and the 5 of letters-webcam (webcam users' 2D landmark rows): each person read by a reader trained
  on the other 8, per person and per letter, for each --readers (2d, both, 3d: what the reader reads;
  "-massey": trained on the Massey people only; "today" is 3d-massey, the reader before letters-webcam),
  with the most frequent confusions of the first.
* Spelled words: for each held-out person, words spelled with that person's own letter hands
  (a model trained on the other three): each letter held 0.35-0.8 s with jitter, hands
  interpolated between letters over 0.1-0.3 s, a small bounce between repeated letters, then the
  hand drops. Scored as the character error rate of the spelled word.
* Time per frame of the letter model (the live path pays it on frames with a hand).
* What the automatic mode costs real signing: the 518 real asl-signs-subset sequences (14 signers
  signing hello and thankyou, no fingerspelling) through the bundled letter model's speller, as the
  live page's "Both (automatic)" mode runs it beside the sign recogniser: how often a spelled word
  appears where only a sign was made (a word of 3 or more letters also hides the sign).

Usage: python bench/bench_letters.py [--epochs 40] [--words 60] [--parts lopo,words,auto]
"""

import argparse
import time

import numpy as np
from common import DATA, edit_distance, edit_ops, require_shared

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=40)
parser.add_argument("--words", type=int, default=60, help="spelled words per held-out person")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--parts", default="lopo,words,auto")
parser.add_argument("--readers", default="both,2d,3d-massey",
                    help="lopo part: the readers measured side by side (2d, both, 3d; -massey: Massey people only)")  # fmt: skip
args = parser.parse_args()
require_shared()

from slr_core.recognition.spelling import Speller  # noqa: E402
from slr_core.training.letters import (  # noqa: E402
    LetterData,
    find_hands,
    fit,
    leave_one_person_out,
    read_landmark_rows,
)

LETTERS = DATA / "asl-letters-massey" / "labels.csv"
data = find_hands(LETTERS, progress=False)
print(f"asl-letters-massey: hands found in {len(data.label)} images, missed in {len(data.missed)}; people "
      f"{dict(zip(*np.unique(data.person, return_counts=True)))}")  # fmt: skip

webcam = read_landmark_rows(DATA / "letters-webcam" / "letters.csv")
both = LetterData.join([data, webcam])
massey_rows = np.isin(both.person, np.unique(data.person))
READER = args.readers.split(",")[0]  # the words part spells with the first reader

if "lopo" in args.parts:
    people = sorted(set(both.person.tolist()), key=lambda p: (not massey_rows[both.person == p][0], p))
    print(f"\nleave one person out over {len(people)} people: Massey {sorted(set(data.person.tolist()))} (photos), "
          f"letters-webcam {sorted(set(webcam.person.tolist()))} ({len(webcam.label)} 2D landmark rows)")  # fmt: skip
    reports = {}
    for reader in args.readers.split(","):
        kind, massey_only = reader.removesuffix("-massey"), reader.endswith("-massey")
        t0 = time.perf_counter()
        report = leave_one_person_out(both, args.epochs, args.seed, kind, per_person=not massey_only,
                                      train_on=massey_rows if massey_only else None)  # fmt: skip
        reports[reader] = report
        acc = {p: report["per_person"][p]["accuracy"] for p in people}
        print(f"  {reader}: mean over people {np.mean(list(acc.values())):.3f}, lowest {min(acc.values()):.3f}; "
              f"Massey people {np.mean([acc[p] for p in people if massey_rows[both.person == p][0]]):.3f}, "
              f"webcam people {np.mean([acc[p] for p in people if not massey_rows[both.person == p][0]]):.3f} "
              f"({time.perf_counter() - t0:.0f} s)")  # fmt: skip
        print(
            "    per person: "
            + ", ".join(f"{p} {acc[p]:.3f} (n={report['per_person'][p]['n']})" for p in people)
        )
    first = reports[args.readers.split(",")[0]]
    print(
        "  per letter ("
        + args.readers.split(",")[0]
        + "): "
        + ", ".join(f"{c} {a:.2f}" for c, a in first["per_letter"].items())
    )
    print(
        "  most frequent confusions (true->read: count): "
        + ", ".join(f"{k} {v}" for k, v in first["confusions"].items())
    )
if "auto" in args.parts:
    from slr_core.base import settings
    from slr_core.capture.keypoints import read_parquet
    from slr_core.datasets.data import load_dataset
    from slr_core.recognition.letters import LetterModel
    from slr_core.recognition.spelling import AUTO_MIN_LETTERS, plausible_spelling, spell_sequence

    letter_model = LetterModel.load(settings.letters_model())
    subset = load_dataset(DATA / "asl-signs-subset")
    raw = kept = hiding = 0
    examples = []
    for i in range(len(subset)):
        kp = read_parquet(subset.path(i))
        spelled = spell_sequence(letter_model, kp.data, kp.times)  # phone clips: aspect unknown, 1 assumed
        live = [w for w in spelled if plausible_spelling(w)]  # what the automatic mode keeps
        raw, kept = raw + bool(spelled), kept + bool(live)
        hiding += any(len(w.letters) >= AUTO_MIN_LETTERS for w in live)
        if spelled and len(examples) < 6:
            examples.append(f"{subset.table['sign'].iloc[i]}->{'/'.join(w.text for w in spelled)}")
    n = len(subset)
    print(f"\nautomatic mode on {n} real sign sequences (asl-signs-subset, 14 signers, no fingerspelling): "
          f"the speller finds a word in {raw} ({raw / n:.3f}; e.g. {', '.join(examples) or 'none'}); the "
          f"automatic mode keeps {kept} ({kept / n:.3f}) of them, {hiding} ({hiding / n:.3f}) long enough "
          f"to hide the sign")  # fmt: skip
if "words" not in args.parts:
    raise SystemExit(0)

WORDS = ["hello", "maria", "boston", "anna", "kim", "zoe", "jj", "bob", "coffee", "pizza", "lee", "sam",
         "apple", "dallas", "ottawa", "kyoto", "jazz", "quinn", "wyatt", "felix", "hugo", "vera", "bella",
         "otto", "emma", "luis", "noah", "ivan", "eric", "grace"]  # fmt: skip


def spell_stream(word, person_rows, labels_of, rng, fps=30.0):
    """Frames (hand points or None) and times of a word spelled with one person's letter hands."""
    frames = [None] * int(0.4 * fps)  # no hand yet
    prev = None
    for k, ch in enumerate(word):
        choices = person_rows[labels_of == ch]
        pose = data.points[rng.choice(choices)]
        left = bool(data.left[choices[0]])
        if prev is not None:
            if word[k - 1] == ch:  # a small bounce between repeated letters
                palm = np.linalg.norm(pose[9] - pose[0])
                lift = np.array([0.0, -0.5 * palm, 0.0], np.float32)
                for a in np.sin(np.linspace(0, np.pi, int(0.25 * fps))):
                    frames.append(pose + a * lift)
            else:
                for a in np.linspace(0, 1, int(rng.uniform(0.1, 0.3) * fps))[1:-1]:
                    frames.append((1 - a) * prev + a * pose)
        scale = np.linalg.norm(pose[9] - pose[0])
        for _ in range(int(rng.uniform(0.35, 0.8) * fps)):
            frames.append(pose + rng.normal(0, 0.03 * scale, pose.shape).astype(np.float32))
        prev = pose
    frames += [None] * int(0.8 * fps)
    return frames, np.arange(len(frames)) / fps, left


rng = np.random.default_rng(args.seed)
labels = sorted(set(both.label.tolist()))
errors = chars = 0
ops = [0, 0, 0]  # substituted, inserted, left out
timings = []
kind, massey_only = READER.removesuffix("-massey"), READER.endswith("-massey")
print(f"\nspelled words ({args.words} per held-out Massey person, the {READER} reader trained on the other "
      f"{'three' if massey_only else 'eight'} people):")  # fmt: skip
for person in sorted(set(data.person.tolist())):
    test = both.person == person
    train_rows = np.flatnonzero(~test & (massey_rows if massey_only else True))
    model = fit(both, train_rows, labels, args.epochs, args.seed, kind, per_person=not massey_only)
    test = data.person == person
    rows = np.flatnonzero(test)
    e = c = 0
    shown = []
    for n in range(args.words):
        word = WORDS[n % len(WORDS)]
        if any((data.label[rows] == ch).sum() == 0 for ch in word):
            continue
        frames, times, left = spell_stream(word, rows, data.label[rows], rng)
        speller = Speller(model)
        got = []
        for hand, t in zip(frames, times):
            t0 = time.perf_counter()
            _, words = speller.push(hand, float(t), left)
            if hand is not None:
                timings.append(time.perf_counter() - t0)
            got += [w.text for w in words]
        got += [w.text for w in speller.flush()]
        spelled = got[0] if got else ""
        e += edit_distance(spelled, word)
        ops = [a + b for a, b in zip(ops, edit_ops(spelled, word))]
        c += len(word)
        if len(shown) < 4:
            shown.append(f"{word}->{spelled or '(nothing)'}")
    errors, chars = errors + e, chars + c
    print(f"  {person}: character error rate {e / max(c, 1):.3f} ({c} characters); e.g. {', '.join(shown)}")
print(f"  all: character error rate {errors / max(chars, 1):.3f} ({ops[0]} letters read wrong, {ops[1]} extra, "
      f"{ops[2]} missed)")  # fmt: skip
ms = np.array(timings) * 1000
print(f"\nletter model per frame with a hand (features + network + speller): median {np.median(ms):.2f} ms, "
      f"90th percentile {np.percentile(ms, 90):.2f} ms")  # fmt: skip
