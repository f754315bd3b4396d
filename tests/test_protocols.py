"""The cross-signer measurement protocols on a small scale, with the bundled model and real data:
ranks, the no-training floor, the clip path against the classifier, the recording changes."""

import numpy as np
import pytest

from slr_core.capture.landmarks import PIPELINE_GROUPS, PIPELINE_ROWS
from slr_core.datasets.data import UNKNOWN_LABEL
from slr_core.models.checkpoint import load_model
from slr_core.recognition.predict import Classifier
from slr_core.training.protocols import (
    Sequence,
    clip_path,
    fused_scores,
    load_sequences,
    model_probabilities,
    nearest_neighbour_scores,
    open_set,
    phone_like,
    sign_ranks,
    studio_clip_checks,
)

from .conftest import FULL_FIXTURE, REPO, needs_shared

pytestmark = needs_shared
MODEL = REPO / "models" / "asl250-popsign-kaggle2"


@pytest.fixture(scope="module")
def loaded():
    return load_model(MODEL)


@pytest.fixture(scope="module")
def fixture_seqs():
    return load_sequences(FULL_FIXTURE)


def test_ranks_per_signer_and_sign(loaded, fixture_seqs):
    pred = model_probabilities(loaded, fixture_seqs)
    rep = sign_ranks(pred.probs, loaded.labels, fixture_seqs)
    assert len(rep.ranks) == 12 and ((rep.ranks >= 0) & (rep.ranks < 250)).all()
    d = rep.to_dict()
    assert set(d["per_sign"]) == {"hello", "thankyou"} and sum(v["n"] for v in d["per_sign"].values()) == 12
    assert 0 <= d["top1"] <= d["top5"] <= 1
    # a rank is the number of signs scored above the right one
    best = np.array([loaded.labels.index(q.sign) for q in fixture_seqs])
    onehot = np.eye(len(loaded.labels))[best]
    assert (sign_ranks(onehot, loaded.labels, fixture_seqs).ranks == 0).all()


def test_the_floor_finds_a_sequence_among_references(loaded, fixture_seqs):
    refs = fixture_seqs[::2]
    scores = nearest_neighbour_scores(refs, loaded.labels, refs)
    assert (scores.argmax(1) == [loaded.labels.index(q.sign) for q in refs]).all()  # itself, first
    assert np.isneginf(scores[:, loaded.labels.index("apple")]).all()  # no reference: never a score


def test_clip_path_against_the_classifier(loaded, fixture_seqs):
    pred = model_probabilities(loaded, fixture_seqs)
    c = clip_path(Classifier(loaded), fixture_seqs, pred.probs)
    assert c.n == 12 and len(c.labels) == 12 and 0 <= c.accepted <= 12
    assert np.isclose(c.single_right + c.none + c.several + c.wrong, 1.0)
    o = open_set(loaded, fixture_seqs, [])
    assert o["n_in_vocab"] == 12 and 0 <= o["in_vocab_accepted_right"] <= o["in_vocab_accepted"] <= 1


def test_recording_changes(hello_keypoints):
    kp = hello_keypoints
    q = Sequence("hello", 0, kp.data[:, PIPELINE_ROWS], kp.times)
    mirrored, _ = phone_like(q, "selfie")
    back, _ = phone_like(Sequence("hello", 0, mirrored, kp.times), "selfie")
    np.testing.assert_allclose(back, q.data, atol=1e-6)
    slow, t = phone_like(q, "15fps")
    assert abs(len(slow) - len(q.data) / 2) <= 2 and np.allclose(np.diff(t), 1 / 15)
    no_elbows, _ = phone_like(q, "no-elbows")
    assert np.isnan(no_elbows[:, PIPELINE_GROUPS["pose"][0]]).all()
    portrait, _ = phone_like(q, "portrait")
    shoulders = portrait[:, -2:, 0]
    assert 0.3 < np.nanmean(shoulders) < 0.7  # the body is in the middle of the new picture
    with pytest.raises(ValueError, match="unknown recording change"):
        phone_like(q, "tilted")


def test_studio_clip_checks_on_real_clips(loaded, hello_keypoints):
    kp = hello_keypoints
    q = Sequence("hello", 0, kp.data[:, PIPELINE_ROWS], kp.times)
    out = studio_clip_checks(Classifier(loaded), [q, q, q], np.random.default_rng(0), triples=2)
    assert out["clips"] == 3 and 0 <= out["alone: exactly its own sign"] <= 1
    assert all(k in out for k in ("portrait: same answer / right", "selfie: same answer / right"))
    assert UNKNOWN_LABEL not in [label for _, got in out["alone: the others"] for label in got]


def test_hand_frames_counts_frames_with_either_hand(fixture_seqs):
    q = fixture_seqs[0]
    data = np.full((6, *q.data.shape[1:]), np.nan, np.float32)
    data[1, PIPELINE_GROUPS["left_hand"]] = 0.5  # a left hand only
    data[3, PIPELINE_GROUPS["right_hand"]] = 0.5  # a right hand only
    data[4, PIPELINE_GROUPS["pose"]] = 0.5  # no hand
    seq = Sequence("hello", 1, data, np.arange(6) / 30)
    assert seq.hand_frames == 2
    assert 0 < q.hand_frames <= len(q.data)


def test_rank_fusion_of_two_scorers():
    model = np.array([[0.6, 0.3, 0.1, 0.0], [0.1, 0.2, 0.3, 0.4]])
    floor = np.array([[-5.0, -1.0, -2.0, -np.inf], [-1.0, -2.0, -3.0, -np.inf]])
    fused = fused_scores(model, floor)
    # first row: ranks (0,1,2,3) + (2,0,1,3): class 1 has the lowest sum; a class the floor cannot
    # score (no reference) comes last in it
    assert fused[0].argmax() == 1 and fused[0].argmin() == 3
    # second row: sums (3,3,3,3): a tie, decided by the first scorer's order
    assert list(np.argsort(-fused[1])) == [3, 2, 1, 0]
    # the second scorer's weight: at 0 the first's order is kept
    assert list(np.argsort(-fused_scores(model, floor, weight=0.0)[0])) == [0, 1, 2, 3]
