"""Kaggle-layout datasets: loading, participant-disjoint splits, and `slr extract`.

A dataset folder holds ``train.csv`` (path, participant_id, sequence_id, sign), one parquet per
sequence (paths relative to the folder) and ``sign_to_prediction_index_map.json``. The map may also
sit in a parent folder. Clips of words outside the vocabulary carry the sign ``_unknown``: they are
kept as negatives for training and for measuring rejection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..base.errors import SLRError
from ..capture.keypoints import Keypoints
from ..capture.poseformat import read_keypoints

SIGN_MAP_NAME = "sign_to_prediction_index_map.json"
UNKNOWN_LABEL = "_unknown"
TRAIN_COLUMNS = ("path", "participant_id", "sequence_id", "sign")


def unknown_index(labels: list[str]) -> int | None:
    """The index of the `_unknown` class (words outside the vocabulary), None when there is none."""
    return labels.index(UNKNOWN_LABEL) if UNKNOWN_LABEL in labels else None


class DatasetError(SLRError, ValueError):
    """A dataset folder or labels file that cannot be used; the message says what is wrong."""


def find_sign_map(start: str | Path, levels: int = 2) -> Path | None:
    """The nearest sign_to_prediction_index_map.json in `start` or up to `levels` parents."""
    folder = Path(start).resolve()
    for _ in range(levels + 1):
        candidate = folder / SIGN_MAP_NAME
        if candidate.is_file():
            return candidate
        folder = folder.parent
    return None


def load_sign_map(path: str | Path) -> dict[str, int]:
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such sign map") from None
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: not a readable JSON sign map ({exc})") from None
    if not isinstance(raw, dict) or not raw:
        raise DatasetError(f"{path}: a sign map must be a non-empty JSON object {{sign: index}}")
    if sorted(raw.values()) != list(range(len(raw))):
        raise DatasetError(f"{path}: sign indices must be 0..{len(raw) - 1}, each once")
    return {str(k): int(v) for k, v in sorted(raw.items(), key=lambda kv: kv[1])}


def default_sign_map(where: Path) -> dict[str, int]:
    """The default model's 250 signs, for labelled clips without a sign map of their own (said)."""
    from ..base.settings import default_model
    from ..models.checkpoint import CheckpointError, read_description

    try:
        labels = [x for x in read_description(default_model())["labels"] if x != UNKNOWN_LABEL]
    except (CheckpointError, KeyError) as exc:
        raise DatasetError(f"{where}: no {SIGN_MAP_NAME} nearby and the default model's signs cannot be read ({exc}); "
                           "pass --sign-map") from None  # fmt: skip
    print(f"note: no {SIGN_MAP_NAME} near {where}; using the {len(labels)} signs of the default model")
    return {name: i for i, name in enumerate(labels)}


def _check_signs(signs: pd.Series, sign_map: dict[str, int], where: Path) -> None:
    unknown = sorted(set(signs) - set(sign_map) - {UNKNOWN_LABEL})
    if unknown:
        shown = ", ".join(repr(s) for s in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        raise DatasetError(
            f"{where}: {len(unknown)} sign(s) not in the sign map: {shown} "
            f"(use a sign map that has them, or label words outside the vocabulary with an empty sign)"
        )


@dataclass
class Dataset:
    """A Kaggle-layout dataset: a table of sequences, their files and the sign map."""

    root: Path
    table: pd.DataFrame
    sign_map: dict[str, int]
    sign_map_path: Path | None = None
    notes: list[str] = field(default_factory=list)  # what was left out on opening, and why

    def __len__(self) -> int:
        return len(self.table)

    @property
    def labels(self) -> list[str]:
        """Class names in index order: the sign map, then _unknown if the data has negatives."""
        names = list(self.sign_map)
        if (self.table["sign"] == UNKNOWN_LABEL).any():
            names.append(UNKNOWN_LABEL)
        return names

    def targets(self, labels: list[str] | None = None) -> np.ndarray:
        index = {name: i for i, name in enumerate(labels or self.labels)}
        missing = sorted(set(self.table["sign"]) - set(index))
        if missing:
            raise DatasetError(f"{self.root}: signs {missing[:10]} are not among the model's classes")
        return self.table["sign"].map(index).to_numpy(np.int64)

    def path(self, i: int) -> Path:
        return self.root / self.table["path"].iat[i]

    def keypoints(self, i: int) -> Keypoints:
        return read_keypoints(self.path(i))

    def participants(self) -> np.ndarray:
        return self.table["participant_id"].to_numpy()


def load_dataset(
    root: str | Path, sign_map: str | Path | None = None, fallback_labels: list[str] | None = None
) -> Dataset:
    """Open a Kaggle-layout dataset folder, checking train.csv and the sign map (with no map in the
    folder or its parents: `fallback_labels`, a model's own signs, when given)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such dataset folder")
    csv = root / "train.csv"
    if not csv.is_file():
        raise DatasetError(
            f"{root}: no train.csv here; a dataset folder needs train.csv "
            f"({', '.join(TRAIN_COLUMNS)}) and the parquet files it lists"
        )
    try:
        table = pd.read_csv(csv, dtype={"path": str, "sign": str})
    except Exception as exc:
        raise DatasetError(f"{csv}: not a readable CSV ({exc})") from None
    missing = [c for c in TRAIN_COLUMNS if c not in table.columns]
    if missing:
        raise DatasetError(f"{csv}: missing column(s) {', '.join(missing)}")
    table = table.dropna(subset=["path"]).reset_index(drop=True)
    table["sign"] = table["sign"].fillna(UNKNOWN_LABEL)
    map_path = Path(sign_map) if sign_map else find_sign_map(root)
    if map_path is None and fallback_labels:
        signs = {name: i for i, name in enumerate(x for x in fallback_labels if x != UNKNOWN_LABEL)}
        print(f"note: no {SIGN_MAP_NAME} in {root} or its parents; using the model's {len(signs)} signs")
    elif map_path is None:
        raise DatasetError(f"{root}: no {SIGN_MAP_NAME} in the folder or its parents; pass one explicitly")
    else:
        signs = load_sign_map(map_path)
    _check_signs(table["sign"], signs, csv)
    table, notes = _licensed(root, table)
    return Dataset(root, table, signs, map_path, notes)


SOURCES_FILE = "sources.csv"
LICENCE_DIR = "LICENSES"


def licence_file(root: Path, repository: str) -> Path:
    """Where a source's licence text is kept: LICENSES/<owner>+<name>.txt for 'owner/name'."""
    return root / LICENCE_DIR / (str(repository).strip().replace("/", "+") + ".txt")


def _licensed(root: Path, table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A dataset that names its sources (sources.csv: participant_id, repository, licence) keeps only
    the people whose licence text is in LICENSES/: data whose licence cannot be shown is not used.
    Datasets without sources.csv (Kaggle's, a person's own) are kept whole."""
    sources = root / SOURCES_FILE
    if not sources.is_file():
        return table, []
    try:
        src = pd.read_csv(sources, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise DatasetError(f"{sources}: not a readable CSV ({exc})") from None
    if not {"participant_id", "repository"} <= set(src.columns):
        raise DatasetError(f"{sources}: needs the columns participant_id and repository")
    missing = {
        int(p): licence_file(root, r).name
        for p, r in zip(src["participant_id"], src["repository"])
        if str(p).strip().isdigit() and not licence_file(root, r).is_file()
    }
    listed = {int(p) for p in src["participant_id"] if str(p).strip().isdigit()}
    unlisted = set(table["participant_id"].astype(np.int64)) - listed
    drop = table["participant_id"].astype(np.int64).isin(set(missing) | unlisted)
    notes = []
    if drop.any():
        why = [f"{p} ({LICENCE_DIR}/{f} is missing)" for p, f in sorted(missing.items())][:3]
        why += [f"{p} (not in {SOURCES_FILE})" for p in sorted(unlisted)][:3]
        notes.append(f"{root}: {int(drop.sum())} sequence(s) of {len(set(missing) | unlisted)} participant(s) "
                     f"skipped, no licence text for them: {', '.join(why)}")  # fmt: skip
    return table[~drop].reset_index(drop=True), notes


# --- participant-disjoint splits ------------------------------------------------------------------


def participant_folds(
    participants: np.ndarray, k: int, seed: int = 0, signs: np.ndarray | None = None
) -> np.ndarray:
    """Assign every sample a fold 0..k-1 so that no participant is in two folds.

    Participants are dealt, largest first (ties in a seeded random order), to the fold with the
    fewest samples so far, which keeps the folds close in size. Given each sample's sign, when the
    participants do not all sign the same signs (people who recorded a few signs each, as webcam
    collections are), the people of each sign are spread over the folds first (``spread_folds``), so
    that a sign's people are held out one fold at a time and the others train.
    """
    ids, counts = np.unique(participants, return_counts=True)
    if len(ids) < k:
        raise DatasetError(f"only {len(ids)} participant(s); cannot make {k} participant-disjoint folds")
    if signs is not None:
        signs = np.asarray(signs)
        if len({frozenset(signs[participants == p].tolist()) for p in ids}) > 1:
            return spread_folds(participants, signs, k, seed)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(ids)), -counts))
    sizes = np.zeros(k, np.int64)
    fold_of = {}
    for j in order:
        f = int(np.argmin(sizes))
        fold_of[ids[j]] = f
        sizes[f] += counts[j]
    return np.array([fold_of[p] for p in participants], dtype=np.int64)


def spread_folds(participants: np.ndarray, signs: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Participant folds that spread each sign's people: people are dealt rarest sign first (then
    most samples, ties in a seeded random order), each to the fold where the signs they recorded
    have the fewest people so far (a sign of few people weighs more), then the fold with the fewest
    people, then the fewest samples. A sign of 3 people thus lands in 3 folds: held out one person at
    a time, learned from the other 2."""
    ids, counts = np.unique(participants, return_counts=True)
    names = sorted(set(np.asarray(signs).tolist()))
    has = np.array([[(signs[participants == p] == s).any() for s in names] for p in ids])  # (P, S)
    people = has.sum(0)  # per sign
    rarest = np.where(has, people[None], np.iinfo(np.int64).max).min(1)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(ids)), -counts, rarest))
    in_fold = np.zeros((k, len(names)), np.float64)  # people of each sign per fold
    heads, sizes = np.zeros(k, np.int64), np.zeros(k, np.int64)
    fold_of = {}
    for j in order:
        crowd = (in_fold[:, has[j]] / people[has[j]]).sum(1)
        f = min(range(k), key=lambda f: (round(float(crowd[f]), 9), heads[f], sizes[f]))
        fold_of[ids[j]] = f
        in_fold[f] += has[j]
        heads[f] += 1
        sizes[f] += counts[j]
    return np.array([fold_of[p] for p in participants], dtype=np.int64)


def split_indices(
    participants: np.ndarray, fold: int = 0, k: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) sample indices; validation is fold `fold` of `k` participant folds."""
    if not 0 <= fold < k:
        raise DatasetError(f"fold {fold} is not in 0..{k - 1}")
    folds = participant_folds(participants, k, seed)
    return np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
