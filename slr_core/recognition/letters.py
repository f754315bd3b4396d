"""Fingerspelled letters: one hand -> a letter (a-z) or digit (0-9).

What a letter model reads (``REPRESENTATIONS``, named in its description): the hand's 21 points in 2D
around the wrist, scaled to their largest value (``letter_features_2d``: what every source has, a
webcam user's landmark file included); the same 3D hand-shape features as the signs (``handshape``:
joint bends, spread, palm direction, fingertip distances) plus the points in the palm's own frame
(``letter_features``), where there is depth; or both. Neither the person nor the camera angle matters
much, nor which MediaPipe solution found the hand: Holistic in a video (it finds hands through the
body) or Hands on a still photo of a hand alone (``HandFinder``, which pads tight crops first: a hand
filling the picture is not found).

``LetterModel`` is a small network over those features, saved as safetensors + JSON
(``training.letters`` trains it). J and Z move in ASL; the training images are stills, so they are
recognised from their end shape.
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
        rel = rel * np.where(
            flip[..., None, None], np.array([-1.0, 1.0], np.float32), np.array([1.0, 1.0], np.float32)
        )
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
    canonical = p * np.where(
        left[:, None, None], np.array([-1, 1, 1], np.float32), np.array([1, 1, 1], np.float32)
    )
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
