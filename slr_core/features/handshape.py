"""Hand shape as numbers that do not depend on the person or the camera.

From one hand's 21 MediaPipe points in 3D (x, y and z in one unit, see ``features.isotropic``):

* how bent each joint is: the cosine between consecutive bones of each finger, thumb included
  (15 numbers: a fist, a flat hand and a hook differ here whatever the hand's size or angle);
* how spread the fingers are: cosines between neighbouring knuckle directions, and the thumb's
  angle to the index finger's (4);
* where the palm faces and where the hand points (unit vectors, 3 + 3), in the camera's frame;
* fingertips apart: thumb tip to each other tip, and each pair of neighbouring tips, over the
  palm's length (7).

A left hand is mirrored first (``left=True``), so that the same shape made with either hand gives
the same numbers. Signs (through preprocessing) and fingerspelled letters both read these.
"""

from __future__ import annotations

import numpy as np
from mediapipe.python.solutions.hands import HandLandmark as H

# Each finger from the wrist to its tip, by MediaPipe's names.
FINGER_CHAINS = tuple(
    tuple(int(p) for p in (H.WRIST, *(H[f"{finger}_{joint}"] for joint in joints)))
    for finger, joints in (
        ("THUMB", ("CMC", "MCP", "IP", "TIP")),
        ("INDEX_FINGER", ("MCP", "PIP", "DIP", "TIP")),
        ("MIDDLE_FINGER", ("MCP", "PIP", "DIP", "TIP")),
        ("RING_FINGER", ("MCP", "PIP", "DIP", "TIP")),
        ("PINKY", ("MCP", "PIP", "DIP", "TIP")),
    )
)
KNUCKLES = (int(H.INDEX_FINGER_MCP), int(H.MIDDLE_FINGER_MCP), int(H.RING_FINGER_MCP), int(H.PINKY_MCP))
TIPS = (int(H.THUMB_TIP), int(H.INDEX_FINGER_TIP), int(H.MIDDLE_FINGER_TIP), int(H.RING_FINGER_TIP),
        int(H.PINKY_TIP))  # fmt: skip
WRIST = int(H.WRIST)
N_HAND_FEATURES = 15 + 4 + 3 + 3 + 7  # 32
_EPS = 1e-6


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), _EPS)


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (_unit(a) * _unit(b)).sum(-1)


def hand_features(points: np.ndarray, left: bool = False) -> np.ndarray:
    """Shape features of hands.

    Parameters
    ----------
    points : (..., 21, 3) float
        One hand's points per row, x, y and z in one unit (NaN where missing).
    left : bool
        The hand is a left hand: it is mirrored (x -> -x) first.

    Returns
    -------
    (..., N_HAND_FEATURES) float32; NaN where the hand is missing.
    """
    h = np.asarray(points, dtype=np.float32)
    if left:
        h = h * np.array([-1.0, 1.0, 1.0], np.float32)
    bends = []
    for chain in FINGER_CHAINS:
        bones = np.diff(h[..., chain, :], axis=-2)  # (..., 4, 3)
        bends.append(_cos(bones[..., :-1, :], bones[..., 1:, :]))  # (..., 3)
    knuckles = h[..., KNUCKLES, :] - h[..., WRIST : WRIST + 1, :]  # (..., 4, 3)
    spread = _cos(knuckles[..., :-1, :], knuckles[..., 1:, :])  # (..., 3)
    thumb = h[..., FINGER_CHAINS[0][2], :] - h[..., FINGER_CHAINS[0][1], :]
    thumb_spread = _cos(thumb, knuckles[..., 0, :])[..., None]
    index_mcp, pinky_mcp = knuckles[..., 0, :], knuckles[..., 3, :]
    normal = _unit(np.cross(index_mcp, pinky_mcp))
    pointing = _unit(knuckles[..., 1, :])
    palm = np.maximum(np.linalg.norm(knuckles[..., 1, :], axis=-1, keepdims=True), _EPS)
    tips = h[..., TIPS, :]
    from_thumb = np.linalg.norm(tips[..., 1:, :] - tips[..., :1, :], axis=-1)  # (..., 4)
    neighbours = np.linalg.norm(tips[..., 2:, :] - tips[..., 1:-1, :], axis=-1)  # (..., 3)
    apart = np.concatenate([from_thumb, neighbours], axis=-1) / palm / 2.0  # about 0..1
    out = np.concatenate([*bends, spread, thumb_spread, normal, pointing, apart], axis=-1)
    return out.astype(np.float32)
