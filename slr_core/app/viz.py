"""Skeleton drawing: over live video frames, and as animations of whole sequences (GIF)."""

from __future__ import annotations

import io

import cv2
import numpy as np

from ..capture.keypoints import Keypoints
from ..capture.landmarks import LIPS_ROWS, SKELETON_EDGES, UPPER_ARM_ROWS

# RGB colours per group
COLORS = {
    "lips": (230, 90, 110),
    "left_hand": (60, 130, 240),
    "right_hand": (40, 180, 90),
    "pose": (150, 150, 160),
}
_DRAW_ORDER = ("pose", "lips", "left_hand", "right_hand")
_POINT_ROWS = {name: np.unique(edges) for name, edges in SKELETON_EDGES.items()}
_POINT_ROWS["lips"] = LIPS_ROWS


def draw_skeleton(
    image: np.ndarray,
    landmarks: np.ndarray,
    to_pixels=None,
    thickness: int = 2,
) -> np.ndarray:
    """Draw one frame's skeleton (543, >=2 landmarks, NaN where missing) onto an RGB image, in place.

    `to_pixels` maps (N, 2) normalised coordinates to pixels; by default the image's own size.
    """
    h, w = image.shape[:2]
    xy = landmarks[:, :2]
    px = to_pixels(xy) if to_pixels else xy * np.array([w, h], np.float32)
    ok = np.isfinite(px).all(axis=1)
    pts = np.where(ok[:, None], px, 0).round().astype(np.int32)
    for name in _DRAW_ORDER:
        color = COLORS[name]
        for a, b in SKELETON_EDGES[name]:
            if ok[a] and ok[b]:
                cv2.line(image, tuple(pts[a]), tuple(pts[b]), color, thickness, cv2.LINE_AA)
        if name != "pose":
            for r in _POINT_ROWS[name]:
                if ok[r]:
                    cv2.circle(image, tuple(pts[r]), thickness + 1, color, -1, cv2.LINE_AA)
    return image


def _frame_fit(kp: Keypoints, size: int, margin: float = 0.08):
    """A mapping from normalised coordinates to a square canvas that holds the whole sequence, with
    the video's own aspect ratio when known (x is normalised to the width, y to the height)."""
    aspect = np.array([kp.meta.get("width", 1) / kp.meta.get("height", 1), 1.0])
    # frame the lips, hands and arms (not the hips: often guessed far outside the picture)
    rows = np.concatenate([LIPS_ROWS, _POINT_ROWS["left_hand"], _POINT_ROWS["right_hand"], UPPER_ARM_ROWS])
    xy = kp.data[:, rows, :2].reshape(-1, 2) * aspect
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) == 0:
        lo, span = np.array([0.0, 0.0]), 1.0
    else:
        lo, hi = np.percentile(xy, 1, axis=0), np.percentile(xy, 99, axis=0)
        span = float(max(hi - lo)) * (1 + 2 * margin) or 1.0
        lo = (lo + hi) / 2 - span / 2
    scale = size / span
    return lambda p: (p * aspect - lo) * scale


def render_frames(
    kp: Keypoints, size: int = 320, max_frames: int = 120, caption: str = "", aspect: float = 1.0
) -> list[np.ndarray]:
    """One RGB image per frame (at most `max_frames`, evenly picked) of the skeleton on white, `size`
    wide and `aspect` times as high (a clip's own shape, so that it stands beside the clip)."""
    if len(kp) == 0:
        return []
    fit = _frame_fit(kp, size)
    height = max(int(round(size * aspect)), 32)
    idx = np.linspace(0, len(kp) - 1, min(len(kp), max_frames)).round().astype(int)
    frames = []
    for i in idx:
        canvas = np.full((max(height, size), size, 3), 255, np.uint8)
        draw_skeleton(canvas, kp.data[i], fit)
        label = f"{caption}  {kp.times[i]:.2f}s" if caption else f"{kp.times[i]:.2f}s"
        cv2.putText(
            canvas, label, (8, size - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (40, 40, 40), 1, cv2.LINE_AA
        )
        frames.append(_to_height(canvas, height))
    return frames


def _to_height(canvas: np.ndarray, height: int) -> np.ndarray:
    """A square drawing fitted into `height` rows (shrunk to fit, centred on white)."""
    size = canvas.shape[1]
    if height >= size:
        return canvas[:height] if canvas.shape[0] > height else canvas
    small = cv2.resize(canvas[:size], (height, height), interpolation=cv2.INTER_AREA)
    out = np.full((height, size, 3), 255, np.uint8)
    left = (size - height) // 2
    out[:, left : left + height] = small
    return out


def animation_gif(
    kp: Keypoints, size: int = 320, caption: str = "", max_frames: int = 120, aspect: float = 1.0
) -> bytes:
    """An animated GIF of the sequence's skeleton (played at the clip's own speed), `aspect` times as
    high as wide."""
    from PIL import Image

    frames = render_frames(kp, size, max_frames, caption, aspect)
    if not frames:
        raise ValueError("the sequence has no frames to animate")
    duration_ms = (
        max(20, int(1000 * max(kp.duration, 1e-3) / max(len(frames) - 1, 1))) if len(frames) > 1 else 100
    )
    images = [Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE, colors=32) for f in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return buf.getvalue()
