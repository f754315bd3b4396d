"""The one preprocessing function, shared by training, evaluation, upload and live recognition.

After the seeds' PreprocessLayerBothHands:

1. take the pipeline rows (87 model points, the other arm, the shoulders) and x, y;
2. drop hands below the signing space (a wrist more than LOW_HAND_Y shoulder-to-mouth heights below
   the shoulders: resting, or on the way up or down), which a phone or laptop camera does not see
   anyway, then frames without any hand;
3. find the dominant hand (the one seen in more frames) and mirror left-dominant signing
   (x -> 1 - x, left/right swapped through the named tables), so one canonical side is learned;
4. normalise to the body: centre on the shoulders' midpoint, x divided by the shoulder width and
   y by the shoulder-to-mouth height (both per sequence), which makes the features independent
   of the signer's distance to the camera and of the image's aspect ratio; each hand is then
   corrected separately: its wrist keeps that body position, its other 20 points become
   wrist-relative and divided by the hand's own size (hand shape, whatever the hand's position);
   and each hand's shape is also described in 3D by numbers that do not depend on the person or
   the camera (joint bends, finger spread, palm direction, fingertip distances: ``handshape``);
5. resample to a fixed length: frames are repeated a whole number of times when the sequence is
   short (the rest is padding, masked) and averaged in even segments when it is long;
6. return the tensor, the hand shapes, the frame mask, per-group presence and each slot's time
   position; missing points are zeros (never NaN) and flagged in the presence mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..capture.keypoints import KAGGLE_FPS, Keypoints
from ..capture.landmarks import (
    MIDDLE_MCP,
    MODEL_GROUP_NAMES,
    MODEL_GROUPS,
    N_MODEL_POINTS,
    N_ROWS,
    PIPELINE_GROUPS,
    PIPELINE_HANDS,
    PIPELINE_MIRROR,
    PIPELINE_ROWS,
    PIPELINE_SHOULDERS,
    WRIST,
    to_pipeline_rows,
)
from .handshape import N_HAND_FEATURES, hand_features

PREPROCESS_VERSION = 2  # bump whenever the output of preprocess() changes; stored in checkpoints
# Hands lower than this (body units: shoulder-to-mouth heights below the shoulders' midpoint) are not
# signing. A studio camera sees them rise and fall; a phone or laptop framing the upper body does not,
# so dropping them makes the two kinds of recording alike (measured in bench/bench_cross_signer.py).
LOW_HAND_Y = 1.4
# Shoulder-to-mouth height over shoulder width (0.49 on the studio clips): turns body units into one
# unit on both axes, for the 3D hand shapes.
HEIGHT_TO_WIDTH = 0.5
DEFAULT_LENGTH = 64
N_GROUPS = len(MODEL_GROUP_NAMES)
_LIPS = PIPELINE_GROUPS["lips"]
_HANDS = PIPELINE_HANDS
_EPS = 1e-4


@dataclass
class Features:
    """Model input for one sequence (or a batch, with a leading B axis).

    x : (L, 87, 2) float32, normalised coordinates, 0 where missing
    hands : (L, 2, N_HAND_FEATURES) float32, the left and right hand's shape (handshape), 0 where missing
    mask : (L,) bool, True for slots that hold a frame (False = padding)
    groups : (L, 4) bool, presence of lips, left hand, right hand, pose per slot
    positions : (L,) float32, time of each slot in frames at 30 fps from the first kept frame
    mirrored : bool, whether left-dominant signing was mirrored
    n_frames : int, frames with hands that went in
    """

    x: np.ndarray
    hands: np.ndarray
    mask: np.ndarray
    groups: np.ndarray
    positions: np.ndarray
    mirrored: np.ndarray | bool = False
    n_frames: np.ndarray | int = 0

    @property
    def empty(self) -> bool:
        """True when no frame had a hand (nothing to classify)."""
        return not bool(np.any(self.mask))

    def model_inputs(self) -> tuple[np.ndarray, ...]:
        """The arrays the model takes, in its argument order (x, hands, mask, groups, positions)."""
        return self.x, self.hands, self.mask, self.groups, self.positions


def empty_features(length: int = DEFAULT_LENGTH) -> Features:
    return Features(
        np.zeros((length, N_MODEL_POINTS, 2), np.float32),
        np.zeros((length, len(_HANDS), N_HAND_FEATURES), np.float32),
        np.zeros(length, bool),
        np.zeros((length, N_GROUPS), bool),
        np.zeros(length, np.float32),
    )


def _finite_mean(a: np.ndarray) -> float:
    """Mean of the finite values (NaN when there are none), without warnings."""
    v = a[np.isfinite(a)]
    return float(v.mean()) if v.size else float("nan")


# The work below runs on coordinate planes (2, T, points): x and y kept apart, so that every
# elementwise operation runs over long contiguous rows instead of pairs (several times faster).


def _shoulder_frame(p: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Centre (2,) and per-axis scale (2,) from the shoulders (and lips) of planes (2, T, 94); None
    when the shoulders are never seen."""
    sh = p[:, :, PIPELINE_SHOULDERS]  # (2, T, 2)
    seen = np.isfinite(sh).all(axis=(0, 2))
    if seen.any():
        sh = sh[:, seen]
        mid = sh.mean(axis=(1, 2))
        width = float(np.abs(sh[0, :, 0] - sh[0, :, 1]).mean())
        height = abs(float(mid[1]) - _finite_mean(p[1][:, _LIPS]))
        if width > 1e-3:
            if not height > 1e-3:  # also catches NaN (no lips seen)
                height = width * 0.6  # typical shoulder-to-mouth height / shoulder width
            return mid.astype(np.float32), np.array([width, height], np.float32)
    return None


def _body_frame(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre (2,) and per-axis scale (2,) of the body for planes (2, T, 94)."""
    frame = _shoulder_frame(p)
    if frame is not None:
        return frame
    # No shoulders: fall back to the spread of whatever was seen.
    pts = p.reshape(2, -1)
    pts = pts[:, np.isfinite(pts).all(axis=0)]
    if pts.shape[1] < 2:
        return np.array([0.5, 0.5], np.float32), np.array([0.5, 0.5], np.float32)
    centre = pts.mean(axis=1)
    spread = max(float(np.sqrt(((pts - centre[:, None]) ** 2).sum(axis=0).mean())), 1e-3)
    return centre.astype(np.float32), np.array([2 * spread, 2 * spread], np.float32)


def _without_low_hands(p: np.ndarray) -> np.ndarray:
    """Planes (2, T, 94) with the hands below the signing space made missing (a copy); `p` itself
    when the shoulders are never seen (no body scale to judge by) or when no hand would be left."""
    frame = _shoulder_frame(p)
    if frame is None:
        return p
    centre, scale = frame
    out = p.copy()
    for rows in _HANDS:
        wrist_y = (p[1, :, rows[WRIST]] - centre[1]) / scale[1]
        out[:, wrist_y > LOW_HAND_Y, rows[0] : rows[-1] + 1] = np.nan  # NaN compares False: kept
    left = any(np.isfinite(out[0][:, h]).any() for h in _HANDS)
    return out if left else p


def in_signing_space(rows: np.ndarray) -> np.ndarray:
    """(T,) bool: frames with a hand in the signing space, frame by frame (the live recogniser's and
    the clip path's idea of "signing"); rows (T, 94, C) in the pipeline layout. A frame whose
    shoulders are not seen counts any hand."""
    x, y = rows[..., 0], rows[..., 1]
    sh_x, sh_y = x[:, PIPELINE_SHOULDERS], y[:, PIPELINE_SHOULDERS]
    mid = sh_y.mean(1)
    width = np.abs(sh_x[:, 0] - sh_x[:, 1])
    lips = y[:, _LIPS]
    seen_lips = np.isfinite(lips).any(1)
    lips_y = np.where(seen_lips, np.nanmean(np.where(seen_lips[:, None], lips, 0.0), 1), np.nan)
    height = mid - lips_y
    height = np.where(np.isfinite(height) & (height > 1e-3), height, width * 0.6)
    judged = np.isfinite(mid) & (width > 1e-3)
    out = np.zeros(len(rows), bool)
    for hand in _HANDS:
        wrist = y[:, hand[WRIST]]
        seen = np.isfinite(x[:, hand]).any(1)
        low = judged & ((wrist - mid) / np.where(judged, height, 1.0) > LOW_HAND_Y)
        out |= seen & ~low
    return out


def _hand_local(p: np.ndarray) -> None:
    """In place: each hand's points (but the wrist) relative to its wrist, over its size."""
    for rows in _HANDS:
        hand = p[:, :, rows]  # (2, T, 21) copy
        wrist = hand[:, :, WRIST : WRIST + 1]
        d = hand[:, :, MIDDLE_MCP] - hand[:, :, WRIST]
        size = _finite_mean(np.sqrt((d * d).sum(axis=0)))
        if not size > _EPS:
            size = 1.0
        local = (hand - wrist) / size
        local[:, :, WRIST] = hand[:, :, WRIST]
        p[:, :, rows] = local


def _hand_shapes(p: np.ndarray, z: np.ndarray, z_scale: float) -> np.ndarray:
    """(1, T, 2 * N_HAND_FEATURES): both hands' shapes from body-normalised planes (2, T, 94) and the
    depth (T, 94) in image widths over `z_scale` (the body's x scale)."""
    shapes = []
    for slot, rows in enumerate(_HANDS):
        iso = np.stack([p[0][:, rows], p[1][:, rows] * HEIGHT_TO_WIDTH, z[:, rows] / z_scale], axis=-1)
        shapes.append(hand_features(iso, left=slot == 0))
    return np.concatenate(shapes, axis=1)[None]


def _resample(
    p: np.ndarray, present: np.ndarray, times: np.ndarray, length: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fixed length: repeat short sequences, average long ones in even segments ((C, T, P) in/out)."""
    t = p.shape[1]
    if t <= length:
        r = length // t
        n = t * r
        out = np.zeros((p.shape[0], length, p.shape[2]), np.float32)
        g = np.zeros((length, present.shape[1]), bool)
        pos = np.zeros(length, np.float32)
        mask = np.zeros(length, bool)
        out[:, :n] = np.repeat(p, r, axis=1)
        out[np.isnan(out)] = 0.0
        g[:n] = np.repeat(present, r, axis=0)
        pos[:n] = np.repeat(times, r)
        mask[:n] = True
        return out, mask, g, pos
    starts = (np.arange(length) * t) // length
    counts = np.diff(np.append(starts, t))
    finite = np.isfinite(p)
    sums = np.add.reduceat(np.where(finite, p, 0.0), starts, axis=1)
    n_ok = np.add.reduceat(finite, starts, axis=1, dtype=np.int32)
    out = (sums / np.maximum(n_ok, 1)).astype(np.float32)  # 0 where nothing was seen
    g = np.add.reduceat(present, starts, axis=0, dtype=np.int32) > 0
    pos = (np.add.reduceat(times, starts) / counts).astype(np.float32)
    return out, np.ones(length, bool), g, pos


def preprocess(
    data: np.ndarray | Keypoints,
    times: np.ndarray | None = None,
    length: int = DEFAULT_LENGTH,
) -> Features:
    """Turn one sequence of landmarks into model input.

    Parameters
    ----------
    data : Keypoints, or array (T, 543, C) in the Kaggle layout, or (T, 94, C) in the pipeline layout
        C >= 2 (x, y[, z]); NaN where missing.
    times : (T,) seconds, optional
        Frame times; frames are assumed to be 1/30 s apart when absent.
    length : int
        Output length L.
    """
    if isinstance(data, Keypoints):
        times = data.times if times is None else times
        data = data.data
    data = np.asarray(data)
    rows = PIPELINE_ROWS if data.shape[-2] == N_ROWS else slice(None)
    to_pipeline_rows(data[:1])  # checks the layout
    p = np.stack([data[:, rows, 0], data[:, rows, 1]]).astype(np.float32, copy=False)  # (2, T, 94)
    z = data[:, rows, 2].astype(np.float32) if data.shape[-1] > 2 else np.zeros(p.shape[1:], np.float32)
    if times is None:
        times = np.arange(p.shape[1], dtype=np.float64) / KAGGLE_FPS
    times = np.asarray(times, dtype=np.float64)
    if len(times) != p.shape[1]:
        raise ValueError(f"{len(times)} times for {p.shape[1]} frames")

    p = _without_low_hands(p)
    hand_seen = [np.isfinite(p[0][:, h]).any(axis=1) for h in _HANDS]
    keep = hand_seen[0] | hand_seen[1]
    if not keep.any():
        return empty_features(length)
    p, z, times = p[:, keep], z[keep], times[keep]
    mirrored = int(hand_seen[0][keep].sum()) > int(hand_seen[1][keep].sum())
    if mirrored:
        p, z = p[:, :, PIPELINE_MIRROR], z[:, PIPELINE_MIRROR]
        p[0] = 1.0 - p[0]

    centre, scale = _body_frame(p)
    p -= centre[:, None, None]
    p /= scale[:, None, None]
    shapes = _hand_shapes(p, z, float(scale[0]))
    _hand_local(p)
    p = p[:, :, :N_MODEL_POINTS]

    finite = np.isfinite(p[0])
    present = np.stack([finite[:, MODEL_GROUPS[name]].any(axis=1) for name in MODEL_GROUP_NAMES], axis=1)
    positions = (times - times[0]) * KAGGLE_FPS
    out, mask, groups, pos = _resample(p, present, positions, length)
    hands = _resample(shapes, present, positions, length)[0][0].reshape(length, len(_HANDS), -1)
    np.clip(hands, -4.0, 4.0, out=hands)
    # A point missing inside a present group is 0 as well; clip wild values from bad detections.
    np.clip(out, -8.0, 8.0, out=out)
    x = np.ascontiguousarray(out.transpose(1, 2, 0))
    return Features(x, hands, mask, groups, pos, mirrored, int(keep.sum()))


def preprocess_batch(
    sequences: list,
    times: list | None = None,
    length: int = DEFAULT_LENGTH,
) -> Features:
    """Preprocess several sequences and stack them: identical to calling preprocess() on each."""
    times = times if times is not None else [None] * len(sequences)
    items = [preprocess(s, t, length) for s, t in zip(sequences, times)]
    return stack(items, length)


def stack(items: list[Features], length: int = DEFAULT_LENGTH) -> Features:
    if not items:
        e = empty_features(length)
        return Features(*(np.zeros((0, *a.shape), a.dtype) for a in e.model_inputs()))
    return Features(
        np.stack([f.x for f in items]),
        np.stack([f.hands for f in items]),
        np.stack([f.mask for f in items]),
        np.stack([f.groups for f in items]),
        np.stack([f.positions for f in items]),
        np.array([bool(f.mirrored) for f in items]),
        np.array([int(f.n_frames) for f in items]),
    )
