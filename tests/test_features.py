"""The one preprocessing function: fixed shape, no NaN, mirroring, invariances, batch == single."""

import numpy as np
import pytest

from slr_core.capture import landmarks as L
from slr_core.capture.keypoints import Keypoints
from slr_core.features.handshape import N_HAND_FEATURES
from slr_core.features.preprocess import DEFAULT_LENGTH, LOW_HAND_Y, preprocess, preprocess_batch

from .conftest import SUBSET, needs_shared


@pytest.fixture(scope="module")
def subset_sequences():
    if not SUBSET.is_dir():
        pytest.skip("the shared data folder is absent")
    from slr_core.datasets.data import load_dataset

    ds = load_dataset(SUBSET)
    return [ds.keypoints(i) for i in range(0, len(ds), 7)]


def mirror(kp: Keypoints) -> Keypoints:
    """What a camera sees of the same signing done with the other hand: flip x, swap sides."""
    data = kp.data[:, L.MIRROR_ROWS].copy()
    data[..., 0] = 1.0 - data[..., 0]
    return Keypoints(data, kp.fps, kp.times)


def dominant_is_left(kp: Keypoints) -> bool:
    return kp.group_present("left_hand").sum() > kp.group_present("right_hand").sum()


@needs_shared
def test_fixed_shape_no_nan_and_mask(subset_sequences):
    for kp in subset_sequences:
        f = preprocess(kp)
        assert f.x.shape == (DEFAULT_LENGTH, 87, 2) and f.x.dtype == np.float32
        assert f.hands.shape == (DEFAULT_LENGTH, 2, N_HAND_FEATURES) and f.hands.dtype == np.float32
        assert f.mask.shape == (DEFAULT_LENGTH,) and f.groups.shape == (DEFAULT_LENGTH, 4)
        assert np.isfinite(f.x).all() and np.isfinite(f.positions).all() and np.isfinite(f.hands).all()
        n = int(f.mask.sum())
        assert n > 0 and f.mask[:n].all() and not f.mask[n:].any()  # frames first, then padding
        assert (f.x[~f.mask] == 0).all() and not f.groups[~f.mask].any() and (f.hands[~f.mask] == 0).all()
        assert (f.hands[f.mask][~f.groups[f.mask][:, 2], 1] == 0).all()  # no right hand, no shape
        assert (np.diff(f.positions[f.mask]) >= 0).all()
        assert 0 < f.n_frames <= kp.hands_present().sum()  # hands below the signing space are left out
        assert f.groups[f.mask][:, 2].mean() > 0.5  # the canonical dominant (right) hand is there


@needs_shared
def test_left_dominant_signing_is_mirrored_to_the_canonical_side(subset_sequences):
    lefties = [kp for kp in subset_sequences if dominant_is_left(kp)]
    righties = [kp for kp in subset_sequences if not dominant_is_left(kp)]
    assert lefties and righties  # the real data has both
    for kp in lefties[:10] + righties[:10]:
        f, g = preprocess(kp), preprocess(mirror(kp))
        assert bool(f.mirrored) != bool(g.mirrored)
        np.testing.assert_allclose(f.x, g.x, atol=1e-5)
        np.testing.assert_allclose(f.hands, g.hands, atol=1e-4)  # a shape is a shape with either hand
        assert np.array_equal(f.mask, g.mask) and np.array_equal(f.groups, g.groups)


@needs_shared
def test_batch_equals_one_by_one(subset_sequences):
    seqs = subset_sequences[:12]
    batch = preprocess_batch(seqs)
    assert batch.x.shape == (12, DEFAULT_LENGTH, 87, 2)
    for i, kp in enumerate(seqs):
        f = preprocess(kp)
        assert np.array_equal(batch.x[i], f.x) and np.array_equal(batch.mask[i], f.mask)
        assert np.array_equal(batch.hands[i], f.hands)
        assert np.array_equal(batch.groups[i], f.groups) and np.array_equal(batch.positions[i], f.positions)
    assert preprocess_batch([]).x.shape == (0, DEFAULT_LENGTH, 87, 2)


@needs_shared
def test_layouts_and_containers_give_the_same_tensors(subset_sequences):
    kp = subset_sequences[0]
    a = preprocess(kp)
    b = preprocess(kp.data[:, L.PIPELINE_ROWS], kp.times)
    c = preprocess(kp.data, kp.times)
    for other in (b, c):
        assert np.array_equal(a.x, other.x) and np.array_equal(a.positions, other.positions)
        assert np.array_equal(a.hands, other.hands)


@needs_shared
def test_camera_distance_and_position_do_not_matter(subset_sequences):
    for kp in subset_sequences[:10]:
        moved = kp.data.copy()
        moved[..., 0] = 0.3 + 0.6 * (moved[..., 0] - 0.5)  # the signer further away, off to one side
        moved[..., 1] = 0.45 + 0.6 * (moved[..., 1] - 0.5)
        moved[..., 2] *= 0.6  # MediaPipe's depth has the scale of x
        f = preprocess(kp)
        np.testing.assert_allclose(f.x, preprocess(moved, kp.times).x, atol=1e-4)
        np.testing.assert_allclose(f.hands, preprocess(moved, kp.times).hands, atol=1e-3)
        stretched = kp.data.copy()
        stretched[..., [0, 2]] *= 16 / 9  # the same scene through another aspect ratio
        np.testing.assert_allclose(f.x, preprocess(stretched, kp.times).x, atol=1e-4)
        np.testing.assert_allclose(f.hands, preprocess(stretched, kp.times).hands, atol=1e-3)


def _synthetic(t: int, hands: bool = True) -> np.ndarray:
    rng = np.random.default_rng(t)
    data = np.full((t, L.N_ROWS, 3), np.nan, np.float32)
    data[:, L.MODEL_ROWS] = rng.uniform(0.3, 0.7, (t, L.N_MODEL_POINTS, 3))
    data[:, L.SHOULDER_ROWS] = [[0.6, 0.8, 0], [0.4, 0.8, 0]]
    data[:, L.LEFT_HAND.rows] = np.nan
    if not hands:
        data[:, L.RIGHT_HAND.rows] = np.nan
    return data


def test_short_sequences_repeat_and_long_ones_compress():
    short = preprocess(_synthetic(10))
    assert short.mask.sum() == 60  # 10 frames x 6, then 4 padding slots
    assert np.array_equal(short.x[0], short.x[5]) and not np.array_equal(short.x[5], short.x[6])
    exact = preprocess(_synthetic(64))
    assert exact.mask.all()
    long = preprocess(_synthetic(200))
    assert long.mask.all() and long.positions[-1] > 190  # averages of the last frames' times
    one = preprocess(_synthetic(1))
    assert one.mask.all() and (one.x == one.x[0]).all()


def test_frames_without_hands_are_dropped_and_no_hands_is_empty():
    data = _synthetic(30)
    data[10:20, L.RIGHT_HAND.rows] = np.nan
    f = preprocess(data)
    assert f.n_frames == 20 and f.mask.sum() == 60
    assert f.positions[f.mask].max() == pytest.approx(29.0)  # times of the kept frames
    empty = preprocess(_synthetic(30, hands=False))
    assert empty.empty and not empty.mask.any() and np.isfinite(empty.x).all()
    assert preprocess(np.zeros((0, L.N_ROWS, 3), np.float32)).empty


def test_hands_below_the_signing_space_are_left_out():
    data = _synthetic(30)  # shoulders at y 0.8, lips about 0.5: a body unit of 0.3
    data[:10, L.RIGHT_HAND.rows, 1] += 1.0  # the hand on its way up, below the chest
    assert (data[:10, L.RIGHT_HAND.start, 1] > 0.8 + LOW_HAND_Y * 0.3).all()
    f = preprocess(data)
    assert f.n_frames == 20
    everything_low = _synthetic(30)
    everything_low[:, L.RIGHT_HAND.rows, 1] += 1.0  # a sign made low: kept rather than nothing
    assert preprocess(everything_low).n_frames == 30


def test_uneven_frame_times_become_positions():
    data = _synthetic(5)
    times = np.array([0.0, 0.05, 0.2, 0.21, 0.5])  # a live stream with dropped frames
    f = preprocess(data, times)
    np.testing.assert_allclose(np.unique(f.positions[f.mask]), times * 30, atol=1e-4)
    with pytest.raises(ValueError, match="times"):
        preprocess(data, times[:3])


def test_missing_shoulders_fall_back_without_nan():
    data = _synthetic(20)
    data[:, L.SHOULDER_ROWS] = np.nan
    f = preprocess(data)
    assert np.isfinite(f.x).all() and f.mask.any()
