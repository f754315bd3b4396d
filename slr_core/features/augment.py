"""Training-only augmentations on raw keypoints, before the shared preprocessing.

They work on one sequence in the pipeline layout, (T, 94, C) with C = 2 (x, y: what the dataset
cache holds) or 3, NaN for missing points, plus its frame times, and aim at what differs between signers and cameras: speed and rhythm, where the
hands are held, hand proportions, camera angle and distance, detection noise and dropouts,
clips that start late or end early.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..capture.landmarks import PIPELINE_GROUPS, PIPELINE_HANDS, PIPELINE_MIRROR, PIPELINE_OTHER_ARM, WRIST

_HANDS = PIPELINE_HANDS
_ARMS = (PIPELINE_OTHER_ARM, PIPELINE_GROUPS["pose"])  # left, right arm: elbow, wrist, pinky, index, thumb


@dataclass
class AugmentConfig:
    """Probabilities (p_*) and ranges of each augmentation; set a p_ to 0 to switch one off."""

    p_speed: float = 0.8
    speed: tuple[float, float] = (0.5, 1.5)  # playback speed factor
    p_warp: float = 0.5
    warp: float = 0.3  # strength of the non-linear time warp
    p_crop: float = 0.4
    crop: float = 0.8  # keep at least this fraction of frames
    p_cutout: float = 0.2
    cutout: float = 0.15  # drop up to this fraction of frames in one block
    p_affine: float = 0.9
    scale: tuple[float, float] = (0.8, 1.2)
    aspect: float = 0.1  # extra relative x/y scale difference
    rotate: float = 15.0  # degrees
    shear: float = 0.15
    shift: float = 0.08  # image fraction
    p_hand: float = 0.7
    hand_scale: tuple[float, float] = (0.85, 1.15)
    hand_rotate: float = 15.0  # degrees, about the wrist
    hand_shift: float = 0.04  # image fraction, moves hand and arm together
    p_mirror: float = 0.5
    p_noise: float = 0.7
    noise: float = 0.004  # per point, image fraction
    jitter: float = 0.006  # per frame, a whole hand moves
    p_dropout: float = 0.5
    point_dropout: float = 0.05
    frame_hand_dropout: float = 0.1  # a hand lost in a frame
    p_view: float = 0.5  # the camera sees each hand from another angle (3D, about the wrist)
    view_angle: float = 25.0  # degrees, about the vertical and the horizontal axis
    p_phone: float = 0.5  # a phone's or laptop's framing: hands outside a tighter picture are lost
    phone_half_width: tuple[float, float] = (0.6, 1.6)  # shoulder widths either side of the body's centre
    phone_bottom: tuple[float, float] = (0.8, 2.5)  # shoulder-to-mouth heights below the shoulders

    def to_dict(self) -> dict:
        return asdict(self)


def _resample_time(data: np.ndarray, times: np.ndarray, idx: np.ndarray, new_times: np.ndarray):
    return data[np.clip(np.rint(idx).astype(int), 0, len(data) - 1)], new_times


def _speed(data, times, rng, cfg):
    """Play faster or slower (nearest frames at a new rate; fps stays)."""
    factor = rng.uniform(*cfg.speed)
    n = max(2, int(round(len(data) / factor)))
    dt = float(np.median(np.diff(times))) if len(times) > 1 else 1 / 30
    return _resample_time(data, times, np.linspace(0, len(data) - 1, n), times[0] + dt * np.arange(n))


def _warp(data, times, rng, cfg):
    """Non-linear time warp: a random monotone mapping (slow here, fast there)."""
    n = len(data)
    if n < 4:
        return data, times
    knots = np.cumsum(rng.uniform(1 - cfg.warp, 1 + cfg.warp, 5))
    knots = np.concatenate([[0.0], knots / knots[-1]])
    idx = np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(knots)), knots) * (n - 1)
    return _resample_time(data, times, idx, times)


def _crop(data, times, rng, cfg):
    n = len(data)
    keep = max(2, int(round(n * rng.uniform(cfg.crop, 1.0))))
    start = rng.integers(0, n - keep + 1)
    return data[start : start + keep], times[start : start + keep] - times[start]


def _cutout(data, times, rng, cfg):
    n = len(data)
    width = int(n * rng.uniform(0, cfg.cutout))
    if width < 1 or n - width < 2:
        return data, times
    start = rng.integers(0, n - width + 1)
    keep = np.r_[0:start, start + width : n]
    return data[keep], times[keep]


def _rotation(deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)


def _affine(data, rng, cfg):
    """Camera distance, angle and position: scale, rotate, shear and shift about the body's centre."""
    s = rng.uniform(*cfg.scale)
    m = np.diag([s * (1 + rng.uniform(-cfg.aspect, cfg.aspect)), s]).astype(np.float32)
    m = m @ _rotation(rng.uniform(-cfg.rotate, cfg.rotate))
    m = m @ np.array(
        [[1, rng.uniform(-cfg.shear, cfg.shear)], [rng.uniform(-cfg.shear, cfg.shear), 1]], np.float32
    )
    xy = data[..., :2]
    centre = np.nanmean(xy.reshape(-1, 2), axis=0) if np.isfinite(xy).any() else np.array([0.5, 0.5])
    shift = rng.uniform(-cfg.shift, cfg.shift, 2)
    data[..., :2] = (xy - centre) @ m.T + centre + shift
    return data


def _hands(data, rng, cfg):
    """Signer differences: each hand's size and angle about its wrist, and where it is held."""
    for rows, arm in zip(_HANDS, _ARMS):
        hand = data[:, rows, :2]
        wrist = hand[:, WRIST : WRIST + 1]
        m = _rotation(rng.uniform(-cfg.hand_rotate, cfg.hand_rotate)) * rng.uniform(*cfg.hand_scale)
        shift = rng.uniform(-cfg.hand_shift, cfg.hand_shift, 2)
        data[:, rows, :2] = (hand - wrist) @ m.T + wrist + shift
        data[:, arm[1:], :2] += shift  # the arm's wrist and fingers follow the hand
        data[:, arm[0], :2] += shift / 2  # the elbow half as much
    return data


def _phone_frame(data, rng, cfg):
    """A tighter picture around the upper body, as a phone held at arm's length or a laptop camera
    takes it: a hand whose wrist falls outside it is lost in that frame (MediaPipe does not find a
    hand it cannot see); the arm's pose points are kept (MediaPipe estimates them beyond the edge)."""
    from .preprocess import _shoulder_frame  # the body frame preprocessing uses

    frame = _shoulder_frame(np.stack([data[..., 0], data[..., 1]]))
    if frame is None:
        return data
    centre, scale = frame
    left, right = -rng.uniform(*cfg.phone_half_width), rng.uniform(*cfg.phone_half_width)
    bottom = rng.uniform(*cfg.phone_bottom)
    for rows in _HANDS:
        w = (data[:, rows[WRIST], :2] - centre) / scale
        out = (w[:, 0] < left) | (w[:, 0] > right) | (w[:, 1] > bottom)
        data[np.ix_(out, rows)] = np.nan
    return data


def _view(data, rng, cfg):
    """Each hand turned in 3D about its wrist (another camera angle, another way of holding it). The
    points are made isotropic with the body's scale first (x, y and z in one unit), like handshape."""
    from .preprocess import HEIGHT_TO_WIDTH, _shoulder_frame

    if data.shape[-1] < 3:
        return data
    frame = _shoulder_frame(np.stack([data[..., 0], data[..., 1]]))
    k = HEIGHT_TO_WIDTH * float(frame[1][0] / frame[1][1]) if frame is not None else 1.0  # y -> x units
    for rows in _HANDS:
        yaw, pitch = np.deg2rad(rng.uniform(-cfg.view_angle, cfg.view_angle, 2))
        r_yaw = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
        r_pitch = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
        hand = data[:, rows, :3]
        wrist = hand[:, WRIST : WRIST + 1]
        v = (hand - wrist) * np.array([1.0, k, 1.0], np.float32)
        v = v @ (r_pitch @ r_yaw).T.astype(np.float32)
        data[:, rows, :3] = wrist + v / np.array([1.0, k, 1.0], np.float32)
    return data


def _mirror(data):
    data = data[:, PIPELINE_MIRROR]
    data[..., 0] = 1.0 - data[..., 0]
    return data


def _noise(data, rng, cfg):
    data[..., :2] += rng.normal(0, cfg.noise, data[..., :2].shape).astype(np.float32)
    for rows in _HANDS:  # a hand detected a little off in one frame
        data[:, rows, :2] += rng.normal(0, cfg.jitter, (len(data), 1, 2)).astype(np.float32)
    return data


def _dropout(data, rng, cfg):
    data[rng.random(data.shape[:2]) < cfg.point_dropout] = np.nan
    for rows in _HANDS:
        lost = rng.random(len(data)) < cfg.frame_hand_dropout
        data[np.ix_(lost, rows)] = np.nan
    return data


def augment(
    data: np.ndarray, times: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig
) -> tuple[np.ndarray, np.ndarray]:
    """One random augmentation of a (T, 94, C) sequence and its times; the input is not modified."""
    data = np.array(data, dtype=np.float32, copy=True)
    times = np.asarray(times, dtype=np.float64)
    if len(data) == 0:
        return data, times
    if rng.random() < cfg.p_speed:
        data, times = _speed(data, times, rng, cfg)
    if rng.random() < cfg.p_warp:
        data, times = _warp(data, times, rng, cfg)
    if rng.random() < cfg.p_crop:
        data, times = _crop(data, times, rng, cfg)
    if rng.random() < cfg.p_cutout:
        data, times = _cutout(data, times, rng, cfg)
    data = np.array(data, copy=True)  # time resampling may have returned views with repeats
    if rng.random() < cfg.p_phone:  # before the affine changes: the window is the body's own
        data = _phone_frame(data, rng, cfg)
    if rng.random() < cfg.p_view:
        data = _view(data, rng, cfg)
    if rng.random() < cfg.p_hand:
        data = _hands(data, rng, cfg)
    if rng.random() < cfg.p_affine:
        data = _affine(data, rng, cfg)
    if rng.random() < cfg.p_mirror:
        data = _mirror(data)
    if rng.random() < cfg.p_noise:
        data = _noise(data, rng, cfg)
    if rng.random() < cfg.p_dropout:
        data = _dropout(data, rng, cfg)
    return data, times
