"""Fingerspelled letters: one hand's shape -> a letter (a-z) or digit (0-9).

The same 3D hand-shape features as the signs (``handshape``: joint bends, spread, palm direction,
fingertip distances) plus the hand's points in the palm's own frame, so neither the person nor the
camera angle matters much, nor which MediaPipe solution found the hand: Holistic in a video (it finds
hands through the body) or Hands on a still photo of a hand alone (``HandFinder``, which pads tight
crops first: a hand filling the picture is not found).

``LetterModel`` is a small network over those features, saved as safetensors + JSON. J and Z move
in ASL; the training images are stills, so they are recognised from their end shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..base import safefile
from ..base.errors import SLRError
from ..features.handshape import N_HAND_FEATURES, WRIST, hand_features

FORMAT = "slr-letters/1"
WEIGHTS = "letters.safetensors"
PAD = 0.25  # of the image's size, added on every side before looking for a hand
N_LETTER_FEATURES = N_HAND_FEATURES + 20 * 3
_MIDDLE_MCP, _INDEX_MCP, _PINKY_MCP = 9, 5, 17


class LetterError(SLRError, ValueError):
    """A letter model or image that cannot be used; the message says which and why."""


# --- finding a hand in a still image ------------------------------------------------------------------


@dataclass
class FoundHand:
    points: np.ndarray  # (21, 3): x, y, z in one unit (the padded image's width)
    left: bool  # MediaPipe's handedness: a left hand
    score: float


class HandFinder:
    """MediaPipe Hands on still images (static mode, one hand). Reuse it; close it when done."""

    def __init__(self, min_confidence: float = 0.3) -> None:
        import mediapipe as mp

        self._hands = mp.solutions.hands.Hands(
            static_image_mode=True,
            max_num_hands=1,
            model_complexity=1,
            min_detection_confidence=min_confidence,
        )

    def __enter__(self) -> HandFinder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._hands is not None:
            self._hands.close()
            self._hands = None

    def find(self, rgb: np.ndarray) -> FoundHand | None:
        """The hand in an RGB uint8 image (padded first), or None."""
        h, w = rgb.shape[:2]
        pad = int(round(PAD * max(h, w)))
        padded = np.zeros((h + 2 * pad, w + 2 * pad, 3), np.uint8)
        padded[pad : pad + h, pad : pad + w] = rgb
        result = self._hands.process(padded)
        if not result.multi_hand_landmarks:
            return None
        lm = result.multi_hand_landmarks[0].landmark
        ph, pw = padded.shape[:2]
        points = np.array([(p.x, p.y * ph / pw, p.z) for p in lm], np.float32)  # y in widths, like x and z
        info = result.multi_handedness[0].classification[0]
        return FoundHand(points, info.label == "Left", float(info.score))


def read_image(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8; LetterError when it is not one."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise LetterError(f"{path}: no such file")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise LetterError(f"{path}: not an image that can be read")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


# --- features --------------------------------------------------------------------------------------------


def _palm_frame(points: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rows: the palm's x (index -> pinky knuckle), y (wrist -> middle knuckle), z."""
    wrist = points[..., WRIST, :]
    y = points[..., _MIDDLE_MCP, :] - wrist
    y = y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-6)
    across = points[..., _PINKY_MCP, :] - points[..., _INDEX_MCP, :]
    x = across - (across * y).sum(-1, keepdims=True) * y
    x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-6)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=-2)


def letter_features(points: np.ndarray, left: bool = False) -> np.ndarray:
    """(..., N_LETTER_FEATURES): the hand-shape features and the 20 points around the wrist in the
    palm's frame over the palm's length. `points` (..., 21, 3) in one unit on all axes."""
    p = np.asarray(points, np.float32)
    if left:
        p = p * np.array([-1.0, 1.0, 1.0], np.float32)
    shape = hand_features(p)
    rel = p[..., 1:, :] - p[..., WRIST : WRIST + 1, :]
    size = np.linalg.norm(p[..., _MIDDLE_MCP, :] - p[..., WRIST, :], axis=-1)[..., None, None]
    local = np.einsum("...ij,...pj->...pi", _palm_frame(p), rel) / np.maximum(size, 1e-6)
    return np.concatenate([shape, local.reshape(*local.shape[:-2], -1)], axis=-1).astype(np.float32)


def letter_features_2d(points: np.ndarray, mirror=False) -> np.ndarray:
    """(..., 42): the 21 points' x and y relative to the wrist, divided by their largest absolute value
    (what webcam tutorials store, so their landmark files and a camera's hand read alike), mirrored
    (x -> -x) where `mirror` (a left hand, or a mirrored picture)."""
    p = np.asarray(points, np.float32)[..., :2]
    rel = p - p[..., WRIST : WRIST + 1, :]
    flip = np.asarray(mirror, bool)
    if flip.any():
        rel = rel * np.where(flip[..., None, None], np.float32([-1.0, 1.0]), np.float32([1.0, 1.0]))
    scale = np.abs(rel).reshape(*rel.shape[:-2], -1).max(-1)[..., None, None]
    return (rel / np.maximum(scale, 1e-6)).reshape(*rel.shape[:-2], -1).astype(np.float32)


# What a letter model reads (its description says which; a model without one reads "3d"):
# "3d": the hand's 3D shape (letter_features), which needs depth (MediaPipe on a photo or a video);
# "2d": the 2D points around the wrist (letter_features_2d), which every source has;
# "both": the 2D points, then the 3D shape where the source has depth (zeros and a flag where not).
REPRESENTATIONS = {"3d": N_LETTER_FEATURES, "2d": 42, "both": 42 + N_LETTER_FEATURES + 1}


def features_for(points: np.ndarray, left, has_z, representation: str, mirror=None) -> np.ndarray:
    """(N, features) of a batch of hands (N, 21, 3) with their side (N,) and whether their z is real
    (N,); `mirror` (N,) flips the 2D points on top of the side (training's mirrored copies)."""
    p = np.asarray(points, np.float32)
    left = np.broadcast_to(np.asarray(left, bool), p.shape[:1])
    has_z = np.broadcast_to(np.asarray(has_z, bool), p.shape[:1])
    flip2d = left if mirror is None else left ^ np.broadcast_to(np.asarray(mirror, bool), p.shape[:1])
    canonical = p * np.where(left[:, None, None], np.float32([-1, 1, 1]), np.float32([1, 1, 1]))
    parts = []
    if representation in ("2d", "both"):
        parts.append(letter_features_2d(p, flip2d))
    if representation in ("3d", "both"):
        f3 = (
            np.nan_to_num(letter_features(canonical), nan=0.0) if len(p) else np.zeros((0, N_LETTER_FEATURES))
        )
        if representation == "both":
            f3 = f3 * has_z[:, None]
        parts.append(f3.astype(np.float32))
    if representation == "both":
        parts.append(has_z[:, None].astype(np.float32))
    if not parts:
        raise LetterError(f"unknown letter representation {representation!r} ({', '.join(REPRESENTATIONS)})")
    return np.nan_to_num(np.concatenate(parts, axis=1)).astype(np.float32)


# --- the model -------------------------------------------------------------------------------------------


class LetterNet(nn.Module):
    """features -> letter logits: a small MLP."""

    mean: torch.Tensor  # feature scaling, from the training data
    std: torch.Tensor

    def __init__(
        self, num_classes: int, hidden: int = 256, drop: float = 0.2, features: int = N_LETTER_FEATURES
    ) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(features, hidden), nn.GELU(), nn.Dropout(drop),
            nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(drop),
            nn.Linear(hidden, num_classes),
        )  # fmt: skip
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("std", torch.ones(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


@dataclass
class LetterGuess:
    letter: str
    probability: float
    top3: list[tuple[str, float]]


class LetterModel:
    """A trained letter network with its labels and what it reads; predicts from hand points."""

    def __init__(self, net: LetterNet, labels: list[str], meta: dict | None = None) -> None:
        self.net, self.labels, self.meta = net.eval(), list(labels), dict(meta or {})
        self.representation = str(self.meta.get("representation", "3d"))

    @torch.inference_mode()
    def probabilities(self, features: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.nan_to_num(np.atleast_2d(features), nan=0.0))
        return torch.softmax(self.net(x), -1).numpy()

    def point_probabilities(self, points: np.ndarray, left=False, has_z=True) -> np.ndarray:
        """(N, letters) for hands (21, 3) or (N, 21, 3) (x, y, z in one unit; z ignored where has_z is
        False, as in a 2D landmark file). A model reading 2D points averages each hand and its mirror
        image, so a mirrored camera or the other hand reads the same."""
        p = np.asarray(points, np.float32)
        p = p[None] if p.ndim == 2 else p
        if p.shape[-1] == 2:
            p, has_z = np.concatenate([p, np.zeros((*p.shape[:-1], 1), np.float32)], -1), False
        probs = self.probabilities(features_for(p, left, has_z, self.representation))
        if self.representation != "3d":
            flipped = self.probabilities(features_for(p, left, has_z, self.representation, mirror=True))
            probs = (probs + flipped) / 2
        return probs

    def predict(self, points: np.ndarray, left: bool = False, has_z: bool = True) -> LetterGuess:
        p = self.point_probabilities(points, left, has_z)[0]
        order = np.argsort(-p)[:3]
        return LetterGuess(
            self.labels[order[0]], float(p[order[0]]), [(self.labels[i], float(p[i])) for i in order]
        )

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        meta = dict(self.meta, format=FORMAT, labels=self.labels, features=int(self.net.mean.shape[0]),
                    representation=self.representation, hidden=self.net.net[0].out_features)  # fmt: skip
        safefile.write(folder / WEIGHTS, dict(self.net.state_dict()), meta)
        (folder / "letters.json").write_text(json.dumps(meta, indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> LetterModel:
        file = Path(folder) / WEIGHTS if Path(folder).is_dir() else Path(folder)
        meta, tensors = safefile.read(file, LetterError, "letter model", FORMAT)
        kind = meta.get("representation", "3d")
        if kind not in REPRESENTATIONS or meta.get("features") != REPRESENTATIONS[kind]:
            raise LetterError(
                f"{file}: made for {meta.get('features')} features of {kind!r}; this code reads "
                + ", ".join(f"{k} ({n})" for k, n in REPRESENTATIONS.items())
            )
        net = LetterNet(len(meta["labels"]), int(meta.get("hidden", 256)), features=REPRESENTATIONS[kind])
        try:
            net.load_state_dict(tensors)
        except RuntimeError as exc:
            raise LetterError(f"{file}: weights do not match ({str(exc).splitlines()[0]})") from None
        return cls(net, meta["labels"], meta)


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

    def features(self, points: np.ndarray | None = None, representation: str = "3d", rows=None) -> np.ndarray:
        rows = np.arange(len(self.label)) if rows is None else rows
        p = self.points[rows] if points is None else points
        assert self.has_z is not None
        return features_for(p, self.left[rows], self.has_z[rows], representation)

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
_COORD = __import__("re").compile(r"^[xyz]\d+$")


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
