"""Keypoints as `.pose` files, the format of the open sign-language tools (the ``pose-format`` package,
read by sign.mt and others), both ways.

A .pose file of MediaPipe Holistic keypoints has the components POSE_LANDMARKS (33 points),
FACE_LANDMARKS (468, or 478 with the irises), LEFT_HAND_LANDMARKS and RIGHT_HAND_LANDMARKS (21
each), and often POSE_WORLD_LANDMARKS; x and y in pixels of a video of the header's width and
height, z as MediaPipe gives it, and a confidence per point (0: not detected). Keypoints here are in
the Kaggle layout (face, left hand, pose, right hand; x and y in 0..1 of the picture, NaN where not
detected); this module maps one onto the other by the components' names, so a file written here is
read back point for point, and a file of another tool's Holistic run is read as if extracted here.

``read_keypoints`` reads any keypoint file the project takes: a Kaggle-schema parquet or a .pose file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .keypoints import KAGGLE_FPS, Keypoints, KeypointsError, read_parquet
from .landmarks import GROUP_BY_NAME, N_COORDS, N_ROWS

POSE_SUFFIX = ".pose"
KEYPOINT_SUFFIXES = (".parquet", POSE_SUFFIX)
# pose-format's Holistic component -> (the Kaggle group it fills, how many of its points)
COMPONENTS = {
    "POSE_LANDMARKS": ("pose", 33),
    "FACE_LANDMARKS": ("face", 468),
    "LEFT_HAND_LANDMARKS": ("left_hand", 21),
    "RIGHT_HAND_LANDMARKS": ("right_hand", 21),
}


def _holistic_header(width: int, height: int):
    """pose-format's own Holistic header (its point names and limbs), without the world landmarks,
    which MediaPipe's Holistic solution gives and the Kaggle layout does not keep."""
    from pose_format.pose_header import PoseHeader, PoseHeaderDimensions
    from pose_format.utils.holistic import holistic_components

    components = [c for c in holistic_components("XYZC") if c.name in COMPONENTS]
    return PoseHeader(version=0.1, dimensions=PoseHeaderDimensions(width=width, height=height, depth=1000),
                      components=components)  # fmt: skip


def write_pose(kp: Keypoints, path: str | Path) -> Path:
    """Keypoints as a .pose file (atomically). The picture's size comes from the keypoints' video
    (``meta`` width and height), else 1 x 1: x and y then stay in 0..1."""
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody

    path = Path(path)
    width, height = int(kp.meta.get("width") or 1), int(kp.meta.get("height") or 1)
    header = _holistic_header(width, height)
    n = len(kp)
    points = sum(c.points.__len__() for c in header.components)
    data = np.zeros((n, 1, points, 3), np.float32)
    conf = np.zeros((n, 1, points), np.float32)
    at = 0
    for comp in header.components:
        group, size = COMPONENTS[comp.name]
        g = GROUP_BY_NAME[group]
        part = kp.data[:, g.start : g.start + size, :].copy()
        seen = np.isfinite(part).all(-1)
        part[..., 0] *= width
        part[..., 1] *= height
        data[:, 0, at : at + size] = np.where(seen[..., None], part, 0.0)
        conf[:, 0, at : at + size] = seen
        at += size
    fps = float(kp.fps) if kp.fps else KAGGLE_FPS
    body = NumPyPoseBody(fps=fps, data=np.ma.masked_array(data, mask=np.repeat(conf[..., None] == 0, 3, -1)),
                         confidence=conf)  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        Pose(header, body).write(f)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    return path


def read_pose(path: str | Path) -> Keypoints:
    """A .pose file of MediaPipe Holistic keypoints as Keypoints (KeypointsError naming the file when
    it is damaged, empty of frames' data, or not Holistic's)."""
    from pose_format import Pose

    path = Path(path)
    if not path.is_file():
        raise KeypointsError(f"{path}: no such file")
    try:
        pose = Pose.read(path.read_bytes())
    except Exception as exc:  # pose-format raises several types for damaged files
        raise KeypointsError(f"{path}: not a readable .pose file ({type(exc).__name__}: {exc})") from None
    names = [c.name for c in pose.header.components]
    missing = [name for name in COMPONENTS if name not in names]
    if missing:
        raise KeypointsError(f"{path}: not MediaPipe Holistic keypoints (no {', '.join(missing)}; "
                             f"its components: {', '.join(names) or 'none'})")  # fmt: skip
    data = np.asarray(pose.body.data.filled(0.0) if np.ma.isMaskedArray(pose.body.data) else pose.body.data)
    conf = np.asarray(pose.body.confidence)
    if data.ndim != 4 or data.shape[-1] < 2 or conf.shape != data.shape[:3]:
        raise KeypointsError(f"{path}: its body has an unexpected shape {data.shape}")
    if data.shape[1] < 1:
        raise KeypointsError(f"{path}: no person in it")
    width = float(pose.header.dimensions.width or 1)
    height = float(pose.header.dimensions.height or 1)
    out = np.full((data.shape[0], N_ROWS, N_COORDS), np.nan, np.float32)
    at = 0
    for comp in pose.header.components:
        size = len(comp.points)
        if comp.name in COMPONENTS:
            group, want = COMPONENTS[comp.name]
            if size < want:
                raise KeypointsError(f"{path}: {comp.name} has {size} points; Holistic's has {want}")
            g = GROUP_BY_NAME[group]
            part = data[:, 0, at : at + want].astype(np.float32)
            seen = conf[:, 0, at : at + want] > 0
            xyz = np.zeros((*part.shape[:2], N_COORDS), np.float32)
            xyz[..., 0] = part[..., 0] / width
            xyz[..., 1] = part[..., 1] / height
            if part.shape[-1] > 2:
                xyz[..., 2] = part[..., 2]
            out[:, g.start : g.start + want] = np.where(seen[..., None], xyz, np.nan)
        at += size
    if not np.isfinite(out).all(-1).any() and len(out):
        raise KeypointsError(f"{path}: not one point was detected in any of its {len(out)} frames")
    if not np.isfinite(out[np.isfinite(out)]).all():
        raise KeypointsError(f"{path}: holds infinite coordinates")
    fps = float(pose.body.fps) or KAGGLE_FPS
    meta = {"width": int(width), "height": int(height)} if width > 1 and height > 1 else {}
    return Keypoints(out, fps, source=str(path), meta=meta)


def read_keypoints(path: str | Path) -> Keypoints:
    """Any keypoint file the project reads: a Kaggle-schema parquet or a .pose file (by its suffix)."""
    if Path(path).suffix.lower() == POSE_SUFFIX:
        return read_pose(path)
    return read_parquet(path)
