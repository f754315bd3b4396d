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


# --- the model -------------------------------------------------------------------------------------------


class LetterNet(nn.Module):
    """features -> letter logits: a small MLP."""

    mean: torch.Tensor  # feature scaling, from the training data
    std: torch.Tensor

    def __init__(self, num_classes: int, hidden: int = 256, drop: float = 0.2) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(N_LETTER_FEATURES, hidden), nn.GELU(), nn.Dropout(drop),
            nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(drop),
            nn.Linear(hidden, num_classes),
        )  # fmt: skip
        self.register_buffer("mean", torch.zeros(N_LETTER_FEATURES))
        self.register_buffer("std", torch.ones(N_LETTER_FEATURES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


@dataclass
class LetterGuess:
    letter: str
    probability: float
    top3: list[tuple[str, float]]


class LetterModel:
    """A trained letter network with its labels; predicts from hand points."""

    def __init__(self, net: LetterNet, labels: list[str], meta: dict | None = None) -> None:
        self.net, self.labels, self.meta = net.eval(), list(labels), dict(meta or {})

    @torch.inference_mode()
    def probabilities(self, features: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.nan_to_num(np.atleast_2d(features), nan=0.0))
        return torch.softmax(self.net(x), -1).numpy()

    def predict(self, points: np.ndarray, left: bool = False) -> LetterGuess:
        p = self.probabilities(letter_features(points, left))[0]
        order = np.argsort(-p)[:3]
        return LetterGuess(
            self.labels[order[0]], float(p[order[0]]), [(self.labels[i], float(p[i])) for i in order]
        )

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        meta = dict(self.meta, format=FORMAT, labels=self.labels, features=N_LETTER_FEATURES,
                    hidden=self.net.net[0].out_features)  # fmt: skip
        safefile.write(folder / WEIGHTS, dict(self.net.state_dict()), meta)
        (folder / "letters.json").write_text(json.dumps(meta, indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> LetterModel:
        file = Path(folder) / WEIGHTS if Path(folder).is_dir() else Path(folder)
        meta, tensors = safefile.read(file, LetterError, "letter model", FORMAT)
        if meta.get("features") != N_LETTER_FEATURES:
            raise LetterError(
                f"{file}: made for {meta.get('features')} features; this code has {N_LETTER_FEATURES}"
            )
        net = LetterNet(len(meta["labels"]), int(meta.get("hidden", 256)))
        try:
            net.load_state_dict(tensors)
        except RuntimeError as exc:
            raise LetterError(f"{file}: weights do not match ({str(exc).splitlines()[0]})") from None
        return cls(net, meta["labels"], meta)


# --- training -----------------------------------------------------------------------------------------


@dataclass
class LetterData:
    """Hands found in a labelled image set: points (N, 21, 3), left (N,), label (N,), person (N,)."""

    points: np.ndarray
    left: np.ndarray
    label: np.ndarray
    person: np.ndarray
    missed: list[str]  # images in which no hand was found

    def features(self, points: np.ndarray | None = None) -> np.ndarray:
        p = self.points if points is None else points
        out = np.stack([letter_features(q, bool(lf)) for q, lf in zip(p, self.left)]) if len(p) else None
        return (
            np.nan_to_num(out, nan=0.0) if out is not None else np.zeros((0, N_LETTER_FEATURES), np.float32)
        )


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


def fit(
    data: LetterData, rows: np.ndarray, labels: list[str], epochs: int = 40, seed: int = 0
) -> LetterModel:
    """Train a LetterNet on some rows of the data (with augmentation); returns the model."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    net = LetterNet(len(labels))
    base = data.features(data.points[rows])
    net.mean.copy_(torch.as_tensor(base.mean(0)))
    net.std.copy_(torch.as_tensor(base.std(0) + 1e-3))
    y = torch.as_tensor(np.array([labels.index(v) for v in data.label[rows]]))
    left = data.left[rows]
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=0.01)
    for _ in range(epochs):
        p = augment_hands(data.points[rows], rng)
        x = torch.as_tensor(np.nan_to_num(np.stack([letter_features(q, bool(lf)) for q, lf in zip(p, left)])))
        net.train()
        for b in torch.randperm(len(x)).split(64):
            loss = nn.functional.cross_entropy(net(x[b]), y[b], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return LetterModel(net, labels, {"trained_on": sorted(set(data.person[rows].tolist())),
                                     "images": int(len(rows)), "epochs": epochs, "seed": seed})  # fmt: skip


def leave_one_person_out(data: LetterData, epochs: int = 40, seed: int = 0) -> dict:
    """Accuracy on each person with a model trained on the others; per letter and confusion pairs."""
    labels = sorted(set(data.label.tolist()))
    pred = np.empty(len(data.label), dtype=object)
    per_person = {}
    for person in sorted(set(data.person.tolist())):
        test = data.person == person
        model = fit(data, np.flatnonzero(~test), labels, epochs, seed)
        probs = model.probabilities(data.features(data.points[test]))
        pred[test] = [labels[i] for i in probs.argmax(1)]
        per_person[person] = {
            "accuracy": float((pred[test] == data.label[test]).mean()),
            "n": int(test.sum()),
        }
    right = pred == data.label
    same_shape = {"0": "o", "2": "v", "6": "w"}  # ASL draws these digits and letters with one hand shape
    merged = np.array([same_shape.get(v, v) for v in pred]) == np.array(
        [same_shape.get(v, v) for v in data.label]
    )
    letters = np.array([not v.isdigit() for v in data.label])
    per_letter = {c: float(right[data.label == c].mean()) for c in labels}
    pairs: dict[str, int] = {}
    for t, p in zip(data.label[~right], pred[~right]):
        pairs[f"{t}->{p}"] = pairs.get(f"{t}->{p}", 0) + 1
    mean = float(np.mean([v["accuracy"] for v in per_person.values()]))
    return {"accuracy": mean, "pooled": float(right.mean()), "letters_only": float(right[letters].mean()),
            "shape_merged": float(merged.mean()), "per_person": per_person, "per_letter": per_letter,
            "confusions": dict(sorted(pairs.items(), key=lambda kv: -kv[1])[:15])}  # fmt: skip
