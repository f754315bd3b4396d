"""The arm paths and their DTW distances: invariant to where the person stands and to the signing
hand, tolerant of speed, and telling real signs apart for the person who signed the examples."""

import numpy as np
import pytest

from slr_core.capture.landmarks import PIPELINE_MIRROR, PIPELINE_SHOULDERS, to_pipeline_rows
from slr_core.datasets.data import load_dataset
from slr_core.features.trajectory import POINTS, distances, path

from .conftest import SUBSET, needs_shared


@pytest.fixture(scope="module")
def clips():
    """Every signer's hello and thankyou of asl-signs-subset (pipeline rows), by signer."""
    ds = load_dataset(SUBSET)
    t = ds.table
    out = {}
    for i in range(len(t)):
        data = to_pipeline_rows(ds.keypoints(i).data)
        out.setdefault(int(t["participant_id"].iat[i]), {}).setdefault(str(t["sign"].iat[i]), []).append(data)
    return out


def _one(clips) -> np.ndarray:
    return next(iter(clips.values()))["hello"][0]


@needs_shared
def test_the_path_ignores_where_the_person_stands_and_which_hand_signs(clips):
    data = _one(clips)
    p = path(data)
    assert p is not None and p.shape == (POINTS, 30) and np.isfinite(p).all()
    moved = data.copy()
    moved[..., :2] = moved[..., :2] * 0.6 + np.array([0.15, -0.05], np.float32)  # farther, elsewhere
    assert np.allclose(path(moved), p, atol=1e-4)
    mirrored = data[:, PIPELINE_MIRROR].copy()  # the same sign by a left-handed signer
    mirrored[..., 0] = 1.0 - mirrored[..., 0]
    assert np.allclose(path(mirrored), p, atol=1e-4)
    no_body = data.copy()
    no_body[:, PIPELINE_SHOULDERS] = np.nan
    assert path(no_body) is None


@needs_shared
def test_dtw_tolerates_speed_but_not_another_movement(clips):
    signer = next(iter(clips.values()))
    hello, thankyou = signer["hello"][0], signer["thankyou"][0]
    p = path(hello)
    slow = path(np.repeat(hello, 2, axis=0)[: int(len(hello) * 1.6)])  # slower, and cut short
    d = distances(p, np.stack([p, slow, path(thankyou)]))
    assert d[0] == pytest.approx(0.0, abs=1e-6)
    assert d[1] < d[2]
    assert distances(p, np.zeros((0, POINTS, 30), np.float32)).shape == (0,)


@needs_shared
def test_a_signers_own_examples_tell_their_signs_apart(clips):
    """3 examples of each sign per signer, every other repetition matched to the nearest path (all 14
    signers; chance is 0.5, measured 0.887, worst signer 0.548)."""
    right = []
    for signer in clips.values():
        library = signer["hello"][:3] + signer["thankyou"][:3]
        paths = np.stack([path(x) for x in library])
        words = np.array(["hello"] * 3 + ["thankyou"] * 3)
        for sign in ("hello", "thankyou"):
            right += [words[distances(path(x), paths).argmin()] == sign for x in signer[sign][3:]]
    assert len(right) > 400 and np.mean(right) > 0.8
