"""Training-only augmentations: deterministic per seed, never touching the input, sane outputs."""

import numpy as np
import pytest

from slr_core.capture import landmarks as L
from slr_core.features.augment import AugmentConfig, augment
from slr_core.features.preprocess import preprocess

from .conftest import SUBSET, needs_shared


@pytest.fixture(scope="module")
def sequence():
    if not SUBSET.is_dir():
        pytest.skip("the shared data folder is absent")
    from slr_core.datasets.data import load_dataset

    kp = load_dataset(SUBSET).keypoints(3)
    return kp.data[:, L.PIPELINE_ROWS, :2].copy(), kp.times.copy()


def only(switch: str) -> AugmentConfig:
    """A config with every augmentation off but one."""
    off = {k: 0.0 for k in AugmentConfig().to_dict() if k.startswith("p_")}
    return AugmentConfig(**{**off, switch: 1.0})


@needs_shared
def test_same_seed_same_result_and_input_untouched(sequence):
    data, times = sequence
    before = data.copy()
    a = augment(data, times, np.random.default_rng(7), AugmentConfig())
    b = augment(data, times, np.random.default_rng(7), AugmentConfig())
    c = augment(data, times, np.random.default_rng(8), AugmentConfig())
    assert np.array_equal(a[0], b[0], equal_nan=True) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0], equal_nan=True)
    assert np.array_equal(data, before, equal_nan=True)


@needs_shared
def test_outputs_stay_usable(sequence):
    data, times = sequence
    rng = np.random.default_rng(0)
    for _ in range(200):
        out, t = augment(data, times, rng, AugmentConfig())
        assert out.shape[1:] == data.shape[1:] and len(out) == len(t) >= 2
        assert np.all(np.diff(t) >= 0)
        seen = out[np.isfinite(out)]
        assert np.abs(seen).max() < 5  # still image-like coordinates
        f = preprocess(out, t)
        assert np.isfinite(f.x).all()


@needs_shared
def test_speed_range_changes_the_length(sequence):
    data, times = sequence
    only_speed = only("p_speed")
    lengths = [len(augment(data, times, np.random.default_rng(s), only_speed)[0]) for s in range(50)]
    assert min(lengths) >= len(data) / 1.5 - 1 and max(lengths) <= len(data) / 0.5 + 1
    assert len(set(lengths)) > 5


@needs_shared
def test_mirroring_swaps_hands(sequence):
    data, times = sequence
    only_mirror = only("p_mirror")
    out, _ = augment(data, times, np.random.default_rng(0), only_mirror)
    left, right = L.PIPELINE_GROUPS["left_hand"], L.PIPELINE_GROUPS["right_hand"]
    np.testing.assert_allclose(out[:, left, 0], 1.0 - data[:, right, 0], atol=1e-6)
    np.testing.assert_allclose(out[:, right, 1], data[:, left, 1], atol=1e-6)
    # the canonical preprocessing sees the same signing either way
    np.testing.assert_allclose(preprocess(out, times).x, preprocess(data, times).x, atol=1e-5)


def test_empty_and_tiny_sequences():
    rng = np.random.default_rng(0)
    empty = np.zeros((0, L.N_PIPELINE_ROWS, 2), np.float32)
    assert augment(empty, np.zeros(0), rng, AugmentConfig())[0].shape == empty.shape
    one = np.full((1, L.N_PIPELINE_ROWS, 2), np.nan, np.float32)
    out, t = augment(one, np.zeros(1), rng, AugmentConfig())
    assert len(out) == len(t) >= 1
