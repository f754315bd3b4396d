"""How a sign moves, compared without a model: the arms' paths matched by dynamic time warping.

A person signs a word much the same way each time, and the arms say how even when the hand
detector loses the hand (in the asl-signs data 43% of the clips show a hand in under 10 frames,
while the pose keeps the arms in every frame). So next to the model's embedding, a library word is
also judged by its movement: both arms' elbow, wrist and hand points in the body's frame (the
shoulders' centre and width, mirrored so the higher hand is the right one), with the signing hand's
fingertips around its wrist when it is seen, cut to the frames with the signing wrist up, resampled
to POINTS steps and compared by dynamic time warping (DTW) within BAND steps of the diagonal.

Nothing here is learned: a new base model changes nothing, and adding an example costs one path.
`matcher.PersonalClassifier` uses it to confirm a near miss of the embedding.
"""

from __future__ import annotations

import numpy as np
from mediapipe.python.solutions.hands import HandLandmark

from ..capture.landmarks import (
    MIDDLE_MCP,
    PIPELINE_GROUPS,
    PIPELINE_HANDS,
    PIPELINE_MIRROR,
    PIPELINE_OTHER_ARM,
    PIPELINE_SHOULDERS,
    WRIST,
    to_pipeline_rows,
)

POINTS = 32  # steps a path is resampled to
BAND = 8  # DTW: how far (in steps) the alignment may leave the diagonal
HAND_WEIGHT = 0.3  # the fingertips' share next to the arms (they are noisier, and often missing)
RAISED_Y = 1.2  # the signing wrist counts as up above this many shoulder widths below the shoulders
MIN_RAISED = 3  # fewer raised frames than this: the whole clip is the path

_ARM = PIPELINE_GROUPS["pose"]  # the right (canonical signing) arm: elbow, wrist, pinky, index, thumb
_ARMS = np.concatenate([_ARM, PIPELINE_OTHER_ARM])
_ARM_WRIST = 1  # the wrist's place in _ARM
_TIPS = [int(t) for t in (HandLandmark.THUMB_TIP, HandLandmark.INDEX_FINGER_TIP, HandLandmark.MIDDLE_FINGER_TIP,
                          HandLandmark.RING_FINGER_TIP, HandLandmark.PINKY_TIP)]  # fmt: skip
_RIGHT_HAND = PIPELINE_HANDS[1]


def _filled(f: np.ndarray) -> np.ndarray:
    """(T, D) with each column's gaps interpolated over time (held at the ends; 0 if never seen)."""
    t = np.arange(len(f))
    out = np.zeros_like(f)
    for c in range(f.shape[1]):
        seen = np.isfinite(f[:, c])
        if seen.any():
            out[:, c] = np.interp(t, t[seen], f[seen, c])
    return out


def _fingertips(p: np.ndarray) -> np.ndarray:
    """(T, 10): the signing hand's fingertips around its wrist over its size, NaN where unseen."""
    hand = p[:, _RIGHT_HAND]
    local = hand - hand[:, WRIST : WRIST + 1]
    sizes = np.linalg.norm(local[:, MIDDLE_MCP], axis=-1)
    size = float(np.nanmean(sizes)) if np.isfinite(sizes).any() else 1.0
    return (local[:, _TIPS] / max(size, 1e-3)).reshape(len(p), -1)


def path(data: np.ndarray) -> np.ndarray | None:
    """The movement of one sequence: (POINTS, 30) float32, or None when the shoulders are never seen.

    data : (T, 543 or 94, C >= 2) landmarks, NaN where missing.
    """
    p = to_pipeline_rows(np.asarray(data))[..., :2].astype(np.float32)
    shoulders = p[:, PIPELINE_SHOULDERS]
    seen = np.isfinite(shoulders).all(axis=(1, 2))
    if not seen.any():
        return None
    centre = shoulders[seen].mean(axis=(0, 1))
    width = float(np.abs(shoulders[seen, 0, 0] - shoulders[seen, 1, 0]).mean())
    p = (p - centre) / max(width, 1e-3)
    highest = [np.nanmin(p[:, arm[_ARM_WRIST], 1], initial=np.inf) for arm in (_ARM, PIPELINE_OTHER_ARM)]
    if highest[1] < highest[0]:  # the left hand signs: mirror onto the right
        p = p[:, PIPELINE_MIRROR]
        p[..., 0] = -p[..., 0]
    f = np.concatenate([p[:, _ARMS].reshape(len(p), -1), HAND_WEIGHT * _fingertips(p)], axis=1)
    f = _filled(f)
    raised = f[:, 2 * _ARM_WRIST + 1] < RAISED_Y
    if raised.sum() >= MIN_RAISED:
        f = f[raised]
    t = np.linspace(0, len(f) - 1, POINTS)
    steps = np.arange(len(f))
    return np.stack([np.interp(t, steps, f[:, c]) for c in range(f.shape[1])], axis=1).astype(np.float32)


def _diagonals(n: int, band: int) -> list[tuple[np.ndarray, ...]]:
    """For each anti-diagonal of an (n+1, n+1) DTW table, within `band` of the diagonal: the flat
    indices of its cells, of their three predecessors, and of their costs in the (n, n) cost table."""
    out: list[tuple[np.ndarray, ...]] = []
    for diagonal in range(2, 2 * n + 1):
        i = np.arange(max(1, diagonal - n), min(n, diagonal - 1) + 1)
        j = diagonal - i
        near = np.abs(i - j) <= band
        i, j = i[near], j[near]
        if len(i):
            row = n + 1
            out.append(
                (i * row + j, (i - 1) * row + j - 1, (i - 1) * row + j, i * row + j - 1, (i - 1) * n + j - 1)
            )
    return out


_DIAGONALS = _diagonals(POINTS, BAND)


def distances(query: np.ndarray, paths: np.ndarray) -> np.ndarray:
    """(K,) DTW distances, per step, from one path (POINTS, D) to each of `paths` (K, POINTS, D).

    The table is filled one anti-diagonal at a time, each a vectorised step over all K paths (the
    paths on the last axis, so that every step reads whole rows).
    """
    k, n = len(paths), POINTS
    if k == 0:
        return np.zeros(0, np.float32)
    steps = paths.transpose(1, 2, 0)  # (n, D, K)
    cost = np.sqrt(((query[:, None, :, None] - steps[None]) ** 2).sum(2)).reshape(n * n, k)
    acc = np.full(((n + 1) * (n + 1), k), np.inf, np.float32)
    acc[0] = 0.0
    for here, corner, up, left, c in _DIAGONALS:
        acc[here] = cost[c] + np.minimum(np.minimum(acc[corner], acc[up]), acc[left])
    return acc[-1] / (2 * n)
