"""Training letter models: labelled hands from photos (MediaPipe Hands, ``find_hands``) and from
landmark files (``read_landmark_rows``: webcam tutorials' layout, x0, y0 ... x20, y20), their
augmentation, ``fit`` and ``leave_one_person_out``. The model itself, its features and the hand finder
are ``recognition.letters``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..recognition.letters import (
    FORMAT,
    REPRESENTATIONS,
    HandFinder,
    LetterError,
    LetterModel,
    LetterNet,
    features_for,
    read_image,
)

# --- training data -----------------------------------------------------------------------------------------


@dataclass
class LetterData:
    """Labelled hands: points (N, 21, 3), left (N,), label (N,), person (N,), has_z (N,: False for a
    2D landmark row, whose z is 0), and the images in which no hand was found."""

    points: np.ndarray
    left: np.ndarray
    label: np.ndarray
    person: np.ndarray
    missed: list[str]
    has_z: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.has_z is None:
            self.has_z = np.ones(len(self.label), bool)

    @staticmethod
    def join(parts: list[LetterData]) -> LetterData:
        return LetterData(
            np.concatenate([d.points for d in parts]), np.concatenate([d.left for d in parts]),
            np.concatenate([d.label for d in parts]), np.concatenate([d.person for d in parts]),
            [m for d in parts for m in d.missed], np.concatenate([d.has_z for d in parts]),  # type: ignore[misc]
        )  # fmt: skip


def find_hands(
    labels_csv: str | Path, cache_dir: str | Path | None = None, progress: bool = True
) -> LetterData:
    """Run HandFinder over every image of a labels.csv (path,label,signer); cached by the file's hash."""
    import hashlib

    import pandas as pd
    from tqdm.auto import tqdm

    from ..base import settings

    labels_csv = Path(labels_csv)
    if not labels_csv.is_file():
        raise LetterError(f"{labels_csv}: no such labels file")
    table = pd.read_csv(labels_csv, dtype=str)
    missing = {"path", "label", "signer"} - set(table.columns)
    if missing:
        raise LetterError(f"{labels_csv}: missing column(s) {', '.join(sorted(missing))} (path,label,signer)")
    key = hashlib.sha1(labels_csv.read_bytes() + FORMAT.encode()).hexdigest()[:16]
    cache = Path(cache_dir or settings.cache_dir()) / f"letters-{key}.npz"
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        return LetterData(z["points"], z["left"], z["label"], z["person"], list(z["missed"]))
    points, left, keep, missed = [], [], [], []
    with HandFinder() as finder:
        for i, rel in enumerate(tqdm(table["path"], desc="hands", disable=not progress)):
            found = finder.find(read_image(labels_csv.parent / rel))
            if found is None:
                missed.append(rel)
                continue
            points.append(found.points)
            left.append(found.left)
            keep.append(i)
    data = LetterData(np.stack(points) if points else np.zeros((0, 21, 3), np.float32), np.array(left, bool),
                      table["label"].to_numpy(str)[keep], table["signer"].to_numpy(str)[keep], missed)  # fmt: skip
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, points=data.points, left=data.left, label=data.label, person=data.person,
             missed=np.array(missed, dtype=str))  # fmt: skip
    return data


def _rotations(rng: np.random.Generator, n: int, degrees: float) -> np.ndarray:
    a = np.deg2rad(rng.uniform(-degrees, degrees, (n, 3)))
    c, s = np.cos(a), np.sin(a)
    one, zero = np.ones(n), np.zeros(n)
    rx = np.stack([one, zero, zero, zero, c[:, 0], -s[:, 0], zero, s[:, 0], c[:, 0]], 1).reshape(n, 3, 3)
    ry = np.stack([c[:, 1], zero, s[:, 1], zero, one, zero, -s[:, 1], zero, c[:, 1]], 1).reshape(n, 3, 3)
    rz = np.stack([c[:, 2], -s[:, 2], zero, s[:, 2], c[:, 2], zero, zero, zero, one], 1).reshape(n, 3, 3)
    return (rz @ ry @ rx).astype(np.float32)


def augment_hands(points: np.ndarray, rng: np.random.Generator, degrees: float = 20.0) -> np.ndarray:
    """Another view of each hand: turned in 3D about the wrist, scaled, depth stretched, jittered."""
    wrist = points[:, :1]
    q = (points - wrist) @ np.transpose(_rotations(rng, len(points), degrees), (0, 2, 1))
    q = q * rng.uniform(0.8, 1.2, (len(points), 1, 1))
    q[..., 2] *= rng.uniform(0.7, 1.3, (len(points), 1))
    return (q + wrist + rng.normal(0, 0.004, q.shape)).astype(np.float32)


LANDMARK_COLUMNS = [f"{a}{i}" for i in range(21) for a in "xy"]
_COORD = re.compile(r"^[xyz]\d+$")


def read_landmark_rows(path: str | Path) -> LetterData:
    """A CSV of hand landmarks, a row per hand: x0, y0, ... x20, y20 (z0 .. z20 too, if the tool has
    depth), wrist-relative or not, in any unit; a `letter` column (a-z) and any other columns (person,
    repository, ...) may be there. LetterError naming the file and row for anything else: a missing
    or unknown coordinate column, a value that is not a number or is missing, a letter outside a-z, no
    rows at all."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise LetterError(f"{path}: no such file")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise LetterError(f"{path}: an empty file (no header, no rows)") from None
    except Exception as exc:
        raise LetterError(f"{path}: not a readable CSV ({exc})") from None
    coords = [c for c in table.columns if _COORD.match(str(c))]
    missing = [c for c in LANDMARK_COLUMNS if c not in table.columns]
    if missing:
        raise LetterError(f"{path}: missing column(s) {', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''} "
                          "(a row is x0, y0, ... x20, y20: the 21 hand points)")  # fmt: skip
    z_cols = [f"z{i}" for i in range(21)]
    has_z = all(c in table.columns for c in z_cols)
    extra = sorted(set(coords) - set(LANDMARK_COLUMNS) - (set(z_cols) if has_z else set()), key=str)
    if extra:
        raise LetterError(f"{path}: unknown coordinate column(s) {', '.join(extra[:6])} (a hand has points 0 to 20"
                          + ("" if has_z or not any(c.startswith("z") for c in extra) else "; z needs all of z0 .. z20")
                          + ")")  # fmt: skip
    if not len(table):
        raise LetterError(f"{path}: no rows")
    used = LANDMARK_COLUMNS + (z_cols if has_z else [])
    values = table[used].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        r, c = map(int, np.argwhere(bad)[0])
        raise LetterError(f"{path}: row {r + 2}, column {used[c]}: {table[used[c]].iat[r]!r} is not a number")
    xy = values[:, : len(LANDMARK_COLUMNS)].reshape(-1, 21, 2)
    z = values[:, len(LANDMARK_COLUMNS) :].reshape(-1, 21, 1) if has_z else np.zeros((len(xy), 21, 1))
    labels = np.full(len(table), "", dtype=object)
    if "letter" in table.columns:
        labels = table["letter"].str.strip().str.lower().to_numpy(dtype=object)
        wrong = [i for i, v in enumerate(labels) if not (len(v) == 1 and "a" <= v <= "z")]
        if wrong:
            raise LetterError(
                f"{path}: row {wrong[0] + 2}: letter {table['letter'].iat[wrong[0]]!r} is not one of a-z"
            )
    person = table["person"].to_numpy(str) if "person" in table.columns else np.full(len(table), path.stem)
    return LetterData(np.concatenate([xy, z], -1).astype(np.float32), np.zeros(len(table), bool),
                      labels.astype(str), person.astype(str), [], np.full(len(table), has_z))  # fmt: skip


def load_letter_data(sources: list[str | Path], progress: bool = False) -> LetterData:
    """Labelled hands from each source: a labels.csv of hand images (path,label,signer: MediaPipe Hands
    finds each hand) or a landmark CSV (``read_landmark_rows``, with its letter column)."""
    import pandas as pd

    parts = []
    for src in sources:
        src = Path(src)
        try:
            columns = set(pd.read_csv(src, nrows=0).columns) if src.is_file() else set()
        except Exception:
            columns = set()
        if "x0" in columns:
            d = read_landmark_rows(src)
            if (d.label == "").any():
                raise LetterError(f"{src}: a landmark file to train on needs a letter column")
            parts.append(d)
        else:
            parts.append(find_hands(src, progress=progress))
    return LetterData.join(parts)


def _rotate2d(
    p: np.ndarray, rng: np.random.Generator, degrees: float = 15.0, aspect: float = 0.1
) -> np.ndarray:
    """Another view of 2D hands (N, 21, 3 with z 0): turned in the picture, stretched a little on one
    axis (another camera's aspect), jittered."""
    a = np.deg2rad(rng.uniform(-degrees, degrees, len(p)))
    c, s = np.cos(a), np.sin(a)
    rel = p[..., :2] - p[:, :1, :2]
    x = c[:, None] * rel[..., 0] - s[:, None] * rel[..., 1]
    y = s[:, None] * rel[..., 0] + c[:, None] * rel[..., 1]
    x = x * rng.uniform(1 - aspect, 1 + aspect, (len(p), 1))
    size = np.abs(np.stack([x, y], -1)).reshape(len(p), -1).max(1)[:, None]
    out = p.copy()
    out[..., 0] = x + rng.normal(0, 0.01, x.shape) * size
    out[..., 1] = y + rng.normal(0, 0.01, y.shape) * size
    return out.astype(np.float32)


def fit(
    data: LetterData, rows: np.ndarray, labels: list[str], epochs: int = 40, seed: int = 0,
    representation: str = "3d", per_person: bool = False,
) -> LetterModel:  # fmt: skip
    """Train a LetterNet on some rows of the data (with augmentation: hands with depth turned in 3D,
    2D hands turned in the picture; for a representation with 2D points, each hand also as its mirror
    image half the time); `per_person`: every person drawn equally often, however many rows they have."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    net = LetterNet(len(labels), features=REPRESENTATIONS[representation])
    rows = np.asarray(rows)
    points, left = data.points[rows], data.left[rows]
    assert data.has_z is not None
    has_z = data.has_z[rows]
    base = features_for(points, left, has_z, representation)
    net.mean.copy_(torch.as_tensor(base.mean(0)))
    net.std.copy_(torch.as_tensor(base.std(0) + 1e-3))
    y = torch.as_tensor(np.array([labels.index(v) for v in data.label[rows]]))
    weights = np.ones(len(rows))
    if per_person:
        for p in set(data.person[rows].tolist()):
            weights[data.person[rows] == p] = 1.0 / (data.person[rows] == p).sum()
    weights /= weights.sum()
    draws = max(int((data.has_z[rows]).sum()), 2000) if per_person else len(rows)
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=0.01)
    for _ in range(epochs):
        p = points.copy()
        if has_z.any():
            p[has_z] = augment_hands(points[has_z], rng)
        if (~has_z).any():
            p[~has_z] = _rotate2d(points[~has_z], rng)
        mirror = rng.random(len(p)) < 0.5 if representation != "3d" else None
        x = torch.as_tensor(features_for(p, left, has_z, representation, mirror))
        net.train()
        pick = torch.as_tensor(rng.choice(len(x), draws, p=weights)) if per_person else torch.randperm(len(x))
        for b in pick.split(64):
            loss = nn.functional.cross_entropy(net(x[b]), y[b], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return LetterModel(net, labels, {"trained_on": sorted(set(data.person[rows].tolist())),
                                     "images": int(len(rows)), "epochs": epochs, "seed": seed,
                                     "representation": representation, "per_person": per_person})  # fmt: skip


SAME_SHAPE = {"0": "o", "2": "v", "6": "w"}  # ASL draws these digits and letters with one hand shape


def leave_one_person_out(data: LetterData, epochs: int = 40, seed: int = 0, representation: str = "3d",
                         per_person: bool = False, train_on=None) -> dict:  # fmt: skip
    """Accuracy on each person with a model trained on the others (or on the others among `train_on`,
    a boolean mask of rows that may train); per letter and confusion pairs."""
    labels = sorted(set(data.label.tolist()))
    pred = np.empty(len(data.label), dtype=object)
    results = {}
    allowed = np.ones(len(data.label), bool) if train_on is None else np.asarray(train_on, bool)
    for person in sorted(set(data.person.tolist())):
        test = data.person == person
        model = fit(data, np.flatnonzero(~test & allowed), labels, epochs, seed, representation, per_person)
        assert data.has_z is not None
        probs = model.point_probabilities(data.points[test], data.left[test], data.has_z[test])
        pred[test] = [labels[i] for i in probs.argmax(1)]
        results[person] = {"accuracy": float((pred[test] == data.label[test]).mean()), "n": int(test.sum())}
    right = pred == data.label
    merged = np.array([SAME_SHAPE.get(v, v) for v in pred]) == np.array(
        [SAME_SHAPE.get(v, v) for v in data.label]
    )
    letters = np.array([not v.isdigit() for v in data.label])
    per_letter = {c: float(right[data.label == c].mean()) for c in labels}
    pairs: dict[str, int] = {}
    for t, p in zip(data.label[~right], pred[~right]):
        pairs[f"{t}->{p}"] = pairs.get(f"{t}->{p}", 0) + 1
    mean = float(np.mean([v["accuracy"] for v in results.values()]))
    return {"accuracy": mean, "pooled": float(right.mean()), "letters_only": float(right[letters].mean()),
            "shape_merged": float(merged.mean()), "per_person": results, "per_letter": per_letter,
            "worst_person": min(v["accuracy"] for v in results.values()),
            "confusions": dict(sorted(pairs.items(), key=lambda kv: -kv[1])[:15])}  # fmt: skip
