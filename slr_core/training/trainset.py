"""Training data: datasets and caches joined, participant-disjoint train/validation splits, the
class-balanced epoch sampler, and the torch Dataset that augments (training only) and preprocesses.

Everything random is derived from (seed, epoch, sample), so a run resumed mid-epoch sees exactly
the samples and augmentations it would have seen without the interruption, whatever the number of
loader workers.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import Sampler

from ..datasets.cache import SequenceCache, load_or_build_cache
from ..datasets.data import (
    UNKNOWN_LABEL,
    Dataset,
    DatasetError,
    load_dataset,
    participant_folds,
    unknown_index,
)
from ..features.augment import AugmentConfig, augment
from ..features.preprocess import preprocess


@dataclass
class Split:
    items: list[tuple[int, int]] = field(default_factory=list)  # (cache number, sequence in cache)
    targets: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def add(self, cache: int, rows: np.ndarray, targets: np.ndarray) -> None:
        self.items += [(cache, int(r)) for r in rows]
        self.targets += [int(t) for t in targets]


@dataclass
class TrainingData:
    labels: list[str]
    sign_map: dict[str, int]
    caches: list[SequenceCache]
    train: Split
    val: Split
    notes: list[str]
    signers: dict[str, int] = field(default_factory=dict)  # per sign: how many people train it
    by_source: dict[str, dict[str, int]] = field(default_factory=dict)  # per sign: people per dataset folder
    roots: list[Path] = field(default_factory=list)  # per cache: its dataset folder
    people: list[np.ndarray] = field(default_factory=list)  # per cache: each cached sequence's participant


def _hash_fraction(key: str) -> float:
    return zlib.crc32(key.encode()) / 2**32


def _open(paths: list[str], sign_map, cache_dir, workers, progress) -> list[tuple[Dataset, SequenceCache]]:
    out = []
    for p in paths:
        ds = load_dataset(p, sign_map)
        out.append((ds, load_or_build_cache(ds, cache_dir, workers, progress)))
    return out


def _held_out(
    ds: Dataset,
    cache: SequenceCache,
    folds: int,
    fold: int,
    unknown_val_fraction: float,
    notes: list[str],
    split: bool = True,
) -> np.ndarray:
    """Which cached sequences of a dataset go to validation: fold `fold` of its participants (when it
    has at least `folds` and `split` is on; people spread by sign, ``participant_folds``), and the
    `_unknown` clips of a held-out share of the words."""
    rows = cache.keep
    parts = ds.participants()[rows]
    unknown = ds.table["sign"].to_numpy()[rows] == UNKNOWN_LABEL
    key = (
        ds.table["word"].to_numpy()[rows] if "word" in ds.table else ds.table["sequence_id"].to_numpy()[rows]
    )
    held = np.array([_hash_fraction(str(w)) < unknown_val_fraction for w in key]) & unknown
    n_parts = len(np.unique(parts[~unknown]))
    in_val = np.zeros(len(rows), bool)
    if not split:
        notes.append(f"{ds.root}: not among the datasets split into folds (fold_data): its signs all train")
    elif n_parts >= folds:
        signs = ds.table["sign"].to_numpy()[rows][~unknown]
        in_val[~unknown] = participant_folds(parts[~unknown], folds, signs=signs) == fold
    else:
        notes.append(f"{ds.root}: {n_parts} participant(s), fewer than {folds} folds: its signs all train")
    return in_val | held


def prepare_data(
    data: list[str],
    val_data: list[str] | None = None,
    folds: int = 5,
    fold: int = 0,
    unknown_val_fraction: float = 0.5,
    sign_map: str | None = None,
    cache_dir: str | None = None,
    workers: int = 1,
    progress: bool = True,
    fold_data: list[str] | None = None,
) -> TrainingData:
    """Open the datasets (building caches as needed) and split them.

    Without `val_data`, each dataset with at least `folds` participants gives fold `fold` of its
    participants to validation (participant-disjoint); a dataset with fewer participants goes to
    training whole. Clips of words outside the vocabulary (`_unknown`) are split by word instead:
    `unknown_val_fraction` of the words are held out, so validation measures rejection of words the
    model never saw. `fold_data` names the datasets that are split into folds (the others train
    whole); empty: every dataset with enough participants.
    """
    if not data:
        raise DatasetError("no training data given")
    train_sets = _open(data, sign_map, cache_dir, workers, progress)
    val_sets = _open(val_data or [], sign_map, cache_dir, workers, progress)
    opened = train_sets + val_sets
    if len({tuple(ds.sign_map) for ds, _ in opened}) > 1:
        raise DatasetError("the datasets use different sign maps; train on datasets that share one")
    first = train_sets[0][0]
    has_unknown = any((ds.table["sign"] == UNKNOWN_LABEL).any() for ds, _ in opened)
    labels = list(first.sign_map) + ([UNKNOWN_LABEL] if has_unknown else [])
    split_roots = {Path(p).resolve() for p in fold_data or []}
    unknown_roots = split_roots - {Path(p).resolve() for p in data}
    if unknown_roots:
        raise DatasetError(
            f"fold_data names {sorted(map(str, unknown_roots))[0]}, which is not among the training data"
        )
    notes: list[str] = []
    for ds, cache in opened:
        notes += ds.notes
        if cache.skipped:
            notes.append(f"{ds.root}: {len(cache.skipped)} sequence(s) skipped, e.g. {cache.skipped[0][1]}")
    split = _split(train_sets, val_sets, labels, bool(val_data), (folds, fold, unknown_val_fraction), split_roots,
                   notes)  # fmt: skip
    train, val, people = split
    signers = {name: len(people[name]) for name in labels if name in people and name != UNKNOWN_LABEL}
    roots = [ds.root for ds, _ in opened]
    return TrainingData(labels, dict(first.sign_map), [c for _, c in opened], train, val, notes, signers,
                        _by_source(people, signers, roots), roots,
                        [ds.participants()[cache.keep] for ds, cache in opened])  # fmt: skip


def _split(train_sets, val_sets, labels: list[str], separate_val: bool, how: tuple, split_roots: set,
           notes: list[str]) -> tuple[Split, Split, dict[str, set]]:  # fmt: skip
    """The training and validation splits, and per sign the (dataset, person) pairs that train it."""
    folds, fold, unknown_val_fraction = how
    train, val = Split(), Split()
    people: dict[str, set] = {}
    for k, (ds, cache) in enumerate(train_sets):
        targets = ds.targets(labels)[cache.keep]
        seq = np.arange(len(cache.keep))
        splits = not split_roots or ds.root.resolve() in split_roots
        in_val = (np.zeros(len(seq), bool) if separate_val
                  else _held_out(ds, cache, folds, fold, unknown_val_fraction, notes, splits))  # fmt: skip
        train.add(k, seq[~in_val], targets[~in_val])
        val.add(k, seq[in_val], targets[in_val])
        for t, who in zip(targets[~in_val], ds.participants()[cache.keep][~in_val]):
            people.setdefault(labels[t], set()).add((k, who))
    for k, (ds, cache) in enumerate(val_sets, start=len(train_sets)):
        val.add(k, np.arange(len(cache)), ds.targets(labels)[cache.keep])
    classes = set(train.targets)
    if len(classes) < 2:
        raise DatasetError(f"the training split has {len(classes)} class(es); a classifier needs at least 2")
    if not len(val):
        raise DatasetError(
            "the validation split is empty: give --val-data, or data with enough participants for the folds"
        )
    return train, val, people


def _by_source(
    people: dict[str, set], signers: dict[str, int], roots: list[Path]
) -> dict[str, dict[str, int]]:
    """Per sign: how many of its people come from each dataset folder."""
    out: dict[str, dict[str, int]] = {}
    for name in signers:
        for k, _ in sorted(people[name]):
            where = out.setdefault(name, {})
            where[roots[k].resolve().name] = where.get(roots[k].resolve().name, 0) + 1
    return out


def sample_weights(targets: list[int], labels: list[str], balance: float, unknown_share: float,
                   people: np.ndarray | None = None, person_balance: float = 0.0) -> np.ndarray:  # fmt: skip
    """Per-sample draw weights: classes weighted count**-balance (1 = all classes equally often);
    `_unknown` clips together get `unknown_share` of the draws. With each sample's person (`people`,
    any hashable id per sample) and person_balance 1, each person of a class is drawn equally often
    within it (a studio clip as often as a webcam user's 30 repetitions of the same sign); 0: each
    sequence equally often."""
    t = np.asarray(targets)
    counts = np.bincount(t, minlength=len(labels)).astype(float)
    w = counts[t] ** -balance
    if people is not None and person_balance > 0:
        keys = [f"{c}:{p}" for c, p in zip(t.tolist(), np.asarray(people).tolist())]
        _, inverse, per = np.unique(keys, return_inverse=True, return_counts=True)
        # within a class: weight 1 / (the person's sequences) instead of 1, rescaled to keep the class's total
        share = (1.0 / per[inverse]) ** person_balance
        total = np.bincount(t, weights=share, minlength=len(labels))
        w = w * share * counts[t] / np.maximum(total[t], 1e-12)
    unknown = unknown_index(labels)
    if unknown is not None and unknown_share > 0:
        unk = t == unknown
        if unk.any() and (~unk).any():
            w[unk] *= unknown_share / (1 - unknown_share) * w[~unk].sum() / w[unk].sum()
    return w / w.sum()


class EpochSampler(Sampler):
    """Draws `num_samples` (index, augmentation seed) pairs per rank per epoch, with replacement by
    weight; the draw depends only on (seed, epoch), so it can restart from any position. With
    views > 1 each drawn index comes that many times in a row, each with its own seed."""

    def __init__(self, weights: np.ndarray, num_samples: int, seed: int, rank: int = 0, world: int = 1,
                 views: int = 1):  # fmt: skip
        self.weights, self.num_samples, self.seed = weights, num_samples, seed
        self.rank, self.world, self.views = rank, world, views
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        drawn = -(-self.num_samples // self.views) * self.world
        idx = rng.choice(len(self.weights), size=drawn, p=self.weights)
        seeds = rng.integers(0, 2**62, size=self.num_samples * self.world)
        mine = np.repeat(idx[self.rank :: self.world], self.views)[: self.num_samples]
        for i, s in list(zip(mine, seeds[self.rank :: self.world]))[self.start :]:
            yield int(i), int(s)

    def __len__(self) -> int:
        return self.num_samples - self.start


class SequenceSet(TorchDataset):
    """dataset[(i, seed)] -> (*model inputs, target), augmented when `augment` is set."""

    def __init__(
        self,
        caches: list[SequenceCache],
        split: Split,
        length: int,
        augment_cfg: AugmentConfig | None = None,
    ) -> None:
        self.caches, self.split, self.length, self.augment = caches, split, length, augment_cfg

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, key):
        i, seed = key if isinstance(key, tuple) else (key, 0)
        c, s = self.split.items[i]
        data, times = self.caches[c].get(s)
        f = None
        if self.augment is not None:
            a, t = augment(data, times, np.random.default_rng(seed), self.augment)
            f = preprocess(a, t, self.length)
        if f is None or f.empty:  # augmentation may drop every hand: use the clip as it is
            f = preprocess(data, times, self.length)
        return (*(torch.from_numpy(a) for a in f.model_inputs()), torch.tensor(self.split.targets[i]))
