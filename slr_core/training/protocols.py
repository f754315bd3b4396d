"""How well signs carry to people a model never saw: the measurement protocols.

* **Protocol A** (one example per sign): a model trained on the studio clips only (one signer, one
  clip per sign), tested on every sequence of other signers; ranks over the 250 signs.
* **Protocol B** (the default recipe): participant-disjoint folds of a multi-signer dataset, the
  studio clips always in training; the held-out signers' signs, and words outside the vocabulary
  held out by word (rejected?).
* Both through the classifier on whole sequences (what ``slr eval`` does) and through the clip path
  (the streaming recogniser that ``slr predict`` and the Upload page run), and how often they agree.
* The floor: nearest neighbour over the training clips with no training at all, on the same data.

``bench/bench_cross_signer.py`` runs them at full size and prints the figures; the tests run them
small. Every figure says which sequences and signers it covers.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from ..capture.landmarks import MODEL_GROUPS, PIPELINE_HAND_ROWS
from ..datasets.cache import load_or_build_cache
from ..datasets.data import UNKNOWN_LABEL, load_dataset
from ..features.preprocess import preprocess, stack
from ..recognition.events import merge_repeats
from ..recognition.predict import Classifier, accept, predict_features
from ..recognition.streaming import Recognizer, StreamConfig, recognize


@dataclass
class Sequence:
    """One recorded sequence in the pipeline layout, with what it is."""

    sign: str  # UNKNOWN_LABEL for a word outside the vocabulary
    participant: int
    data: np.ndarray  # (T, 94, 3)
    times: np.ndarray  # (T,)
    word: str = ""

    @property
    def hand_frames(self) -> int:
        """Frames in which a hand was seen (Kaggle sequences often have only a few)."""
        return int(np.isfinite(self.data[:, PIPELINE_HAND_ROWS, 0]).any(1).sum())


def load_sequences(dataset_dir, cache_dir=None) -> list[Sequence]:
    """Every readable sequence of a Kaggle-layout dataset (through its cache)."""
    ds = load_dataset(dataset_dir)
    cache = load_or_build_cache(ds, cache_dir, progress=False)
    return [sequence_at(ds, cache, i) for i in range(len(cache))]


def sequence_at(ds, cache, i: int) -> Sequence:
    """The i-th cached sequence of a dataset, with its sign, participant and word."""
    table = ds.table
    row = int(cache.keep[i])
    data, times = cache.get(i)
    word = table["word"].iat[row] if "word" in table else table["sign"].iat[row]
    return Sequence(
        str(table["sign"].iat[row]), int(table["participant_id"].iat[row]), data, times, str(word)
    )


def held_out_word(word: str, fraction: float = 0.5) -> bool:
    """The rule training uses to hold out words outside the vocabulary (trainset._hash_fraction)."""
    return zlib.crc32(word.encode()) / 2**32 < fraction


# --- ranks over the signs ----------------------------------------------------------------------------


@dataclass
class RankReport:
    """Where the right sign ranks among the signs (never `_unknown`), per sequence."""

    ranks: np.ndarray  # (N,) 0 = first
    participants: np.ndarray  # (N,)
    signs: list[str]  # (N,) true signs

    def top(self, k: int, where: np.ndarray | None = None) -> float:
        r = self.ranks if where is None else self.ranks[where]
        return float((r < k).mean()) if len(r) else float("nan")

    def per(self, key: str) -> dict:
        """top-1 and top-5 per participant ('participant') or per sign ('sign'), with n."""
        values = self.participants if key == "participant" else np.array(self.signs)
        return {
            v: {
                "top1": self.top(1, values == v),
                "top5": self.top(5, values == v),
                "n": int((values == v).sum()),
            }
            for v in sorted(set(values.tolist()))
        }

    def to_dict(self) -> dict:
        return {"n": len(self.ranks), "top1": self.top(1), "top5": self.top(5),
                "per_participant": self.per("participant"), "per_sign": self.per("sign")}  # fmt: skip


def sign_ranks(scores: np.ndarray, labels: list[str], seqs: list[Sequence]) -> RankReport:
    """Ranks of each sequence's sign from class scores (N, C) (higher is better)."""
    signs = [i for i, name in enumerate(labels) if name != UNKNOWN_LABEL]
    s = scores[:, signs]
    index = {labels[c]: j for j, c in enumerate(signs)}
    truth = np.array([index[q.sign] for q in seqs])
    ranks = (s > s[np.arange(len(s)), truth][:, None]).sum(1)
    return RankReport(ranks, np.array([q.participant for q in seqs]), [q.sign for q in seqs])


def model_probabilities(loaded, seqs: list[Sequence], embed: bool = False, bank=None):
    """The classifier on whole sequences, as ``slr eval`` runs it: Predictions for each (with a bank
    of examples' votes blended in when given)."""
    feats = stack([preprocess(q.data, q.times, loaded.config.length) for q in seqs], loaded.config.length)
    return predict_features(loaded.model, feats, embed=embed, bank=bank)


def people_per_sign(seqs: list[Sequence]) -> dict[str, int]:
    """How many people recorded each sign among the sequences."""
    out: dict[str, set] = {}
    for q in seqs:
        out.setdefault(q.sign, set()).add(q.participant)
    return {s: len(p) for s, p in sorted(out.items())}


def top1_per_sign(probs: np.ndarray, labels: list[str], seqs: list[Sequence]) -> dict[str, dict]:
    """Top-1 over all the model's classes per sign (every sequence once), with the sequences, the
    people and the commonest wrong answers."""
    got = [labels[i] for i in probs.argmax(1)]
    out: dict[str, dict] = {}
    people = people_per_sign(seqs)
    for sign in sorted({q.sign for q in seqs}):
        mine = [g for g, q in zip(got, seqs) if q.sign == sign]
        wrong: dict[str, int] = {}
        for g in mine:
            if g != sign:
                wrong[g] = wrong.get(g, 0) + 1
        out[sign] = {"top1": float(np.mean([g == sign for g in mine])), "n": len(mine), "people": people[sign],
                     "read_as": sorted(wrong.items(), key=lambda kv: -kv[1])[:3]}  # fmt: skip
    return out


# --- the floor: nearest neighbour with no training ------------------------------------------------------

FLOOR_LENGTH = 32
_RIGHT = MODEL_GROUPS["right_hand"]


def _floor_features(q: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """The dominant hand (canonical right after preprocessing: its wrist's body position and its
    wrist-relative shape), at FLOOR_LENGTH even steps, and where it is present."""
    f = preprocess(q.data, q.times, FLOOR_LENGTH)
    return f.x[:, _RIGHT].reshape(FLOOR_LENGTH, -1), f.groups[:, 2] & f.mask


def nearest_neighbour_scores(refs: list[Sequence], labels: list[str], queries: list[Sequence]) -> np.ndarray:
    """Scores (N, C): minus the distance to the nearest reference of each class (-inf for a class
    with no reference). The distance is the mean squared difference over the steps where both have
    the hand."""
    ra, rm = (np.stack(a) for a in zip(*(_floor_features(r) for r in refs)))
    rm = rm.astype(np.float32)
    ref_class = np.array([labels.index(r.sign) for r in refs])
    out = np.full((len(queries), len(labels)), -np.inf, np.float32)
    for n, q in enumerate(queries):
        qa, qm = _floor_features(q)
        w = rm * qm[None]
        d = (((ra - qa[None]) ** 2).sum(-1) * w).sum(1) / np.maximum(w.sum(1), 1)
        d[w.sum(1) == 0] = np.inf
        np.maximum.at(out[n], ref_class, -d)
    return out


def fused_scores(first: np.ndarray, second: np.ndarray, weight: float = 1.0) -> np.ndarray:
    """Rank fusion of two scorers' class scores (N, C), higher is better: minus the sum of each class's
    ranks (0 = first) under the two, the second's weighted; ties go to the first scorer's order. Ranks,
    not scores, so that a classifier's probabilities and the floor's distances need no common scale."""

    def ranks(s: np.ndarray) -> np.ndarray:
        return np.argsort(np.argsort(-s, axis=1, kind="stable"), axis=1).astype(np.float64)

    r1 = ranks(first)
    return -(r1 + weight * ranks(second)) - r1 / (2 * first.shape[1])


# --- the clip path ------------------------------------------------------------------------------------


@dataclass
class ClipPathReport:
    """The streaming recogniser on each sequence as a clip, against the classifier on the whole."""

    single_right: float  # exactly one event, the right sign
    none: float  # no event
    several: float  # more than one event
    wrong: float  # one event, another sign
    accepted: int  # sequences the whole-sequence classifier accepts
    agreement: float  # of those, the share whose clip path gives that very sign as its only event
    n: int
    labels: list[list[str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "labels"}


def live_events(classifier: Classifier, q: Sequence, config: StreamConfig | None = None) -> list[str]:
    """A sequence replayed through the live recogniser: frame by frame at its own times, then the
    hands gone for a second (as a person lowers them), as the Live camera page runs it."""
    rec = Recognizer(classifier, config)
    events: list = []
    for frame, t in zip(q.data, q.times):
        merge_repeats(events, rec.push(frame, float(t)))
    empty = np.full_like(q.data[0], np.nan)
    end = float(q.times[-1]) if len(q.times) else 0.0
    for t in end + np.arange(1, 31) / 30.0:
        merge_repeats(events, rec.push(empty, float(t)))
    merge_repeats(events, rec.flush())  # one sign read twice is one, as the live page keeps it
    return [e.label for e in events]


def clip_path(classifier: Classifier, seqs: list[Sequence], probs: np.ndarray,
              config: StreamConfig | None = None, live: bool = False) -> ClipPathReport:  # fmt: skip
    """Each sequence through the clip path (streaming.recognize, as an uploaded clip goes), or with
    `live` replayed through the live recogniser frame by frame (``live_events``); against the
    classifier's answer on the whole sequence (`probs`, at the classifier's threshold)."""
    if live:
        labels = [live_events(classifier, q, config) for q in seqs]
    else:
        labels = [[e.label for e in recognize((q.data, q.times), classifier, config)] for q in seqs]
    best, _, ok = accept(probs, classifier.labels, classifier.threshold)
    whole = [classifier.labels[b] for b in best]
    n = len(seqs)
    single = [len(x) == 1 for x in labels]
    right = [s and x[0] == q.sign for s, x, q in zip(single, labels, seqs)]
    agree = [x == [w] for x, w, a in zip(labels, whole, ok) if a]
    return ClipPathReport(
        single_right=float(np.mean(right)) if n else float("nan"),
        none=float(np.mean([not x for x in labels])) if n else float("nan"),
        several=float(np.mean([len(x) > 1 for x in labels])) if n else float("nan"),
        wrong=float(np.mean([s and not r for s, r in zip(single, right)])) if n else float("nan"),
        accepted=int(ok.sum()),
        agreement=float(np.mean(agree)) if agree else float("nan"),
        n=n,
        labels=labels,
    )


# --- open set ---------------------------------------------------------------------------------------------


def open_set(loaded, in_vocab: list[Sequence], oov: list[Sequence], threshold: float | None = None,
             bank=None) -> dict:  # fmt: skip
    """At the model's threshold: in-vocabulary sequences accepted (and accepted with the right
    sign), words outside the vocabulary rejected (with a bank's votes blended in when given)."""
    t = loaded.threshold if threshold is None else threshold
    out: dict = {"threshold": t, "n_in_vocab": len(in_vocab), "n_oov": len(oov)}
    if in_vocab:
        p = model_probabilities(loaded, in_vocab, bank=bank).probs
        best, _, ok = accept(p, loaded.labels, t)
        truth = np.array([loaded.labels.index(q.sign) for q in in_vocab])
        out["in_vocab_top1"] = float((p.argmax(1) == truth).mean())
        out["in_vocab_accepted"] = float(ok.mean())
        out["in_vocab_accepted_right"] = float((ok & (best == truth)).mean())
    if oov:
        _, _, ok = accept(model_probabilities(loaded, oov, bank=bank).probs, loaded.labels, t)
        out["oov_rejected"] = float((~ok).mean())
    return out


# --- the studio clips as clips ----------------------------------------------------------------------------


def _recognized(classifier: Classifier, data: np.ndarray, times: np.ndarray) -> list[str]:
    return [e.label for e in recognize((data, times), classifier)]


def phone_like(q: Sequence, how: str) -> tuple[np.ndarray, np.ndarray]:
    """A studio clip made to look like another recording: 'portrait' (a phone's picture around the
    upper body: coordinates renormalised to it, hands outside it lost), 'selfie' (mirrored),
    '15fps' / '60fps' (another frame rate), 'no-elbows' (elbows not found)."""
    from ..capture.landmarks import (
        PIPELINE_GROUPS,
        PIPELINE_HANDS,
        PIPELINE_MIRROR,
        PIPELINE_OTHER_ARM,
        WRIST,
    )
    from ..features.preprocess import _shoulder_frame

    data, times = q.data.copy(), q.times.copy()
    if how == "selfie":
        data = data[:, PIPELINE_MIRROR]
        data[..., 0] = 1.0 - data[..., 0]
    elif how in ("15fps", "60fps"):
        fps = 15.0 if how == "15fps" else 60.0
        new = np.arange(0.0, times[-1] + 1e-9, 1.0 / fps)
        data, times = data[np.abs(times[None] - new[:, None]).argmin(1)], new
    elif how == "no-elbows":
        data[:, [PIPELINE_GROUPS["pose"][0], PIPELINE_OTHER_ARM[0]]] = np.nan
    elif how == "portrait":
        frame = _shoulder_frame(np.stack([data[..., 0], data[..., 1]]))
        if frame is None:
            return data, times
        (cx, cy), (w, h) = frame
        x0, width = cx - 1.0 * w, 2.0 * w  # a shoulder width either side of the body's centre
        y0, height = cy - 3.0 * h, 4.6 * h  # the head above, the chest below
        data[..., 0] = (data[..., 0] - x0) / width
        data[..., 1] = (data[..., 1] - y0) / height
        data[..., 2] = data[..., 2] / width
        for rows in PIPELINE_HANDS:
            wrist = data[:, rows[WRIST], :2]
            lost = ~((wrist >= 0) & (wrist <= 1)).all(1)
            data[np.ix_(lost, rows)] = np.nan
    else:
        raise ValueError(f"unknown recording change {how!r}")
    return data, times


PHONE_CHANGES = ("portrait", "selfie", "15fps", "60fps", "no-elbows")


def studio_clip_checks(classifier: Classifier, clips: list[Sequence], rng: np.random.Generator,
                       triples: int = 60) -> dict:  # fmt: skip
    """Each studio clip alone through the clip path (its own sign, once?), clips joined three at a
    time (those three, in order?), and recording changes (does the whole-clip answer stay?)."""
    alone = [_recognized(classifier, q.data, q.times) for q in clips]
    wrong_alone = [(q.sign, got) for q, got in zip(clips, alone) if got != [q.sign]]
    joined_right = 0
    for _ in range(triples):
        pick = [clips[i] for i in rng.choice(len(clips), 3, replace=False)]
        offsets = np.cumsum([0.0] + [q.times[-1] + 1 / 30 for q in pick[:-1]])
        data = np.concatenate([q.data for q in pick])
        times = np.concatenate([q.times + o for q, o in zip(pick, offsets)])
        joined_right += _recognized(classifier, data, times) == [q.sign for q in pick]
    out: dict = {
        "clips": len(clips),
        "alone: exactly its own sign": round(1 - len(wrong_alone) / max(len(clips), 1), 3),
        "alone: the others": wrong_alone,
        f"three joined: those three in order ({triples} triples)": round(joined_right / max(triples, 1), 3),
    }
    before = [classifier.guess(q.data, q.times) for q in clips]
    for how in PHONE_CHANGES:
        after = [classifier.guess(*phone_like(q, how)) for q in clips]
        same = np.mean(
            [a is not None and b is not None and a.label == b.label for a, b in zip(after, before)]
        )
        right = np.mean([a is not None and a.label == q.sign for a, q in zip(after, clips)])
        out[f"{how}: same answer / right"] = f"{same:.3f} / {right:.3f}"
    right = np.mean([b is not None and b.label == q.sign for b, q in zip(before, clips)])
    out["unchanged: right"] = round(float(right), 3)
    return out


# --- what a model keys on --------------------------------------------------------------------------------

INPUT_PARTS = ("lips", "hand points", "hand shapes", "wrists", "arms")


def _without(feats, part: str):
    """A copy of stacked Features with one part of the input taken away (as if never seen)."""
    from dataclasses import replace

    x, hands, groups = feats.x.copy(), feats.hands.copy(), feats.groups.copy()
    if part == "lips":
        x[:, :, MODEL_GROUPS["lips"]] = 0.0
        groups[..., 0] = False
    elif part == "hand points":
        for g in ("left_hand", "right_hand"):
            x[:, :, MODEL_GROUPS[g].start + 1 : MODEL_GROUPS[g].stop] = 0.0
    elif part == "hand shapes":
        hands[:] = 0.0
    elif part == "wrists":
        for g in ("left_hand", "right_hand"):
            x[:, :, MODEL_GROUPS[g].start] = 0.0
    elif part == "arms":
        x[:, :, MODEL_GROUPS["pose"]] = 0.0
        groups[..., 3] = False
    return replace(feats, x=x, hands=hands, groups=groups)


def input_reliance(loaded, seqs: list[Sequence]) -> dict[str, float]:
    """For each part of the input: the share of sequences whose first answer changes when that part
    is taken away (0: the model does not use it for these sequences)."""
    feats = stack([preprocess(q.data, q.times, loaded.config.length) for q in seqs], loaded.config.length)
    first = predict_features(loaded.model, feats).probs.argmax(1)
    return {
        part: float((predict_features(loaded.model, _without(feats, part)).probs.argmax(1) != first).mean())
        for part in INPUT_PARTS
    }
