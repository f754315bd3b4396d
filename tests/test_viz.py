"""Skeleton drawing and animations."""

import io

import numpy as np
import pytest
from PIL import Image

from slr_core.app.viz import animation_gif, draw_skeleton, render_frames
from slr_core.capture import landmarks as L
from slr_core.capture.keypoints import Keypoints


def _sequence(t=5):
    data = np.full((t, L.N_ROWS, 3), np.nan, np.float32)
    rng = np.random.default_rng(0)
    data[:, L.RIGHT_HAND.rows, :2] = 0.5 + 0.05 * rng.standard_normal((t, 21, 2))
    data[:, L.LIPS_ROWS, :2] = [0.5, 0.2]
    return Keypoints(data, fps=10.0)


def test_draw_skeleton_draws_only_what_was_seen():
    kp = _sequence()
    image = np.zeros((100, 200, 3), np.uint8)
    draw_skeleton(image, kp.data[0])
    ys, xs = np.nonzero(image.any(axis=2))
    assert len(xs) > 50
    assert 60 < xs.mean() < 140 and ys.min() >= 10  # around the hand at (0.5, 0.5) and the lips
    blank = np.zeros((100, 200, 3), np.uint8)
    draw_skeleton(blank, np.full((L.N_ROWS, 3), np.nan, np.float32))
    assert not blank.any()


def test_animation_gif():
    kp = _sequence(12)
    frames = render_frames(kp, size=160, max_frames=6, caption="test")
    assert len(frames) == 6 and frames[0].shape == (160, 160, 3)
    gif = animation_gif(kp, size=160, caption="test")
    img = Image.open(io.BytesIO(gif))
    assert gif[:6] == b"GIF89a" and img.n_frames == 12 and img.size == (160, 160)
    with pytest.raises(ValueError, match="no frames"):
        animation_gif(Keypoints.empty())
