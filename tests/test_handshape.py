"""Hand shape features: the same shape gives the same numbers whatever the hand's size, place, angle
or side; different shapes give different numbers. On a real hand from a real clip."""

import numpy as np
import pytest

from slr_core.capture.landmarks import RIGHT_HAND
from slr_core.features.handshape import N_HAND_FEATURES, hand_features


def rotation(yaw, pitch, roll):
    a, b, c = np.deg2rad([yaw, pitch, roll])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    return rz @ ry @ rx


@pytest.fixture(scope="module")
def hand(hello_keypoints):
    """A real right hand (3D) from the PopSign 'hello' clip, in one unit on every axis."""
    kp = hello_keypoints
    frames = kp.data[:, RIGHT_HAND.rows]
    seen = np.isfinite(frames[:, 0, 0])
    h = frames[seen][len(frames[seen]) // 2].astype(np.float64)
    h[:, 1] *= kp.meta["height"] / kp.meta["width"]  # y in image widths, like x and z
    return h


def test_size_place_and_bend_free_numbers_do_not_change(hand):
    f = hand_features(hand)
    assert f.shape == (N_HAND_FEATURES,) and np.isfinite(f).all()
    moved = hand * 2.7 + np.array([0.3, -0.2, 0.1])  # a bigger hand elsewhere
    np.testing.assert_allclose(hand_features(moved), f, atol=1e-5)
    turned = (hand - hand[0]) @ rotation(30, -20, 45).T + hand[0]  # another angle
    g = hand_features(turned)
    bends_spread_and_tips = np.r_[0:19, 25:32]  # palm direction and pointing turn with the hand
    np.testing.assert_allclose(g[bends_spread_and_tips], f[bends_spread_and_tips], atol=1e-5)
    assert not np.allclose(g[19:25], f[19:25], atol=1e-2)


def test_the_same_shape_with_the_other_hand(hand):
    left = hand * np.array([-1.0, 1.0, 1.0])  # the mirror image: the same shape made with the left hand
    np.testing.assert_allclose(hand_features(left, left=True), hand_features(hand), atol=1e-6)


def test_shapes_differ_and_missing_hands_stay_missing(hand):
    fist = hand.copy()
    for chain in ((5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20)):
        mcp = fist[chain[0]]  # fold every finger back towards the wrist
        for j in chain[1:]:
            fist[j] = mcp + (fist[0] - mcp) * 0.3 * (j - chain[0])
    a, b = hand_features(hand), hand_features(fist)
    assert np.abs(a[3:15] - b[3:15]).max() > 0.5  # the finger bends tell a flat hand from a fist
    batch = np.stack([hand, np.full_like(hand, np.nan)])
    out = hand_features(batch)
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()
