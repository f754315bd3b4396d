"""Evaluation with personal signs (``slr eval --library``): every sequence of a dataset through the
model plus a library (``matcher.PersonalClassifier``, as the app recognises), next to the model alone
on the same sequences.

What a library buys and costs, as open-set figures: clips of the library's words recognised as
them; clips of the model's own signs still right, and how many a library word took; clips of words
outside the vocabulary rejected, and how many a library word took.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..datasets.data import UNKNOWN_LABEL, DatasetError
from ..recognition.matcher import PersonalClassifier
from ..recognition.predict import Classifier


@dataclass
class LibraryReport:
    words: list[str]  # the library's words
    n: dict[str, int]  # clips by kind: library words, model signs, outside the vocabulary
    figures: dict[str, dict[str, float]]  # "library" / "model alone" -> figure -> share
    per_word: dict[str, float] = field(default_factory=dict)  # a library word's clips recognised as it
    skipped: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"words": self.words, "n": self.n, "figures": self.figures, "per_word": self.per_word}

    def lines(self) -> list[str]:
        out = [f"library of {len(self.words)} word(s): {', '.join(self.words)}"]
        names = {
            "own_words_right": f"clips of the library's words recognised as them (n={self.n['library']})",
            "signs_right": f"clips of the model's signs accepted and right (n={self.n['signs']})",
            "signs_taken": "clips of the model's signs answered with a library word",
            "oov_rejected": f"clips of words outside the vocabulary rejected (n={self.n['oov']})",
            "oov_taken": "clips of words outside the vocabulary answered with a library word",
        }
        for key, text in names.items():
            with_lib, alone = self.figures["library"].get(key), self.figures["model alone"].get(key)
            if with_lib is None or np.isnan(with_lib):
                continue
            out.append(f"  {text}: {with_lib:.3f} with the library, {alone:.3f} the model alone")
        return out


def evaluate_library(
    pc: PersonalClassifier,
    dataset_dir: str | Path,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> LibraryReport:
    """Every sequence of a dataset through the model with the library, and through the model alone."""
    from ..datasets.cache import load_or_build_cache
    from ..datasets.data import load_dataset

    words = sorted(pc.library.words())
    if not words:
        raise DatasetError(f"{pc.library.file}: the library is empty; add examples with slr signs add")
    ds = load_dataset(dataset_dir, fallback_labels=[*pc.labels, *words])
    unknown = sorted(set(ds.table["sign"]) - set(pc.labels) - set(words) - {UNKNOWN_LABEL})
    if unknown:
        raise DatasetError(f"{dataset_dir}: signs neither the model nor the library knows: {unknown[:10]}")
    cache = load_or_build_cache(ds, cache_dir, progress=progress)
    truth = np.asarray(ds.table["sign"])[cache.keep]
    alone = Classifier(pc.loaded, device=pc.device)
    rows: dict[str, list[tuple[str, bool, bool]]] = {"library": [], "model alone": []}
    for i in tqdm(range(len(cache)), desc="eval", unit="clip", disable=not progress):
        data, times = cache.get(i)
        for name, classifier in (("library", pc), ("model alone", alone)):
            g = classifier.guess(data, times)
            rows[name].append((g.label, g.accepted, g.personal) if g is not None else ("", False, False))
    report = LibraryReport(
        words, _counts(truth, words), {k: _figures(v, truth, words) for k, v in rows.items()}
    )
    report.per_word = {
        w: _share([r[1] and r[0] == w for r, t in zip(rows["library"], truth) if t == w]) for w in words
    }
    report.skipped = list(cache.skipped)
    return report


def _counts(truth: np.ndarray, words: list[str]) -> dict[str, int]:
    own = np.isin(truth, words)
    oov = truth == UNKNOWN_LABEL
    return {"library": int(own.sum()), "signs": int((~own & ~oov).sum()), "oov": int(oov.sum())}


def _figures(rows: list[tuple[str, bool, bool]], truth: np.ndarray, words: list[str]) -> dict[str, float]:
    own, oov = np.isin(truth, words), truth == UNKNOWN_LABEL
    signs = ~own & ~oov
    right = np.array([ok and label == t for (label, ok, _), t in zip(rows, truth)])
    accepted = np.array([ok for _, ok, _ in rows])
    taken = np.array([ok and label in words for label, ok, _ in rows])
    return {
        "own_words_right": _share(right[own]),
        "signs_right": _share(right[signs]),
        "signs_taken": _share(taken[signs]),
        "oov_rejected": _share(~accepted[oov]),
        "oov_taken": _share(taken[oov]),
    }


def _share(values) -> float:
    values = np.asarray(values, bool)
    return float(values.mean()) if values.size else float("nan")
