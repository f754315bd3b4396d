"""The landmark layout: sizes, the 87 model points, the mirror tables, the skeleton edges."""

import numpy as np

from slr_core.capture import landmarks as L


def test_kaggle_layout_sizes_and_order():
    assert [g.name for g in L.GROUPS] == ["face", "left_hand", "pose", "right_hand"]
    assert (L.FACE.size, L.LEFT_HAND.size, L.POSE.size, L.RIGHT_HAND.size) == (468, 21, 33, 21)
    assert L.N_ROWS == 543 and L.RIGHT_HAND.stop == 543


def test_model_points_are_87_lips_hands_and_dominant_arm():
    assert L.N_MODEL_POINTS == 87 and len(L.LIPS_FACE_INDICES) == 40 == len(set(L.LIPS_FACE_INDICES))
    assert [L.MODEL_GROUPS[g].stop - L.MODEL_GROUPS[g].start for g in L.MODEL_GROUP_NAMES] == [40, 21, 21, 5]
    assert L.POSE_LEFT_ARM == (13, 15, 17, 19, 21) and L.POSE_RIGHT_ARM == (14, 16, 18, 20, 22)
    assert len(set(L.MODEL_ROWS.tolist())) == 87


def test_mirror_tables_are_involutions_that_swap_sides():
    perm = L.MIRROR_ROWS
    assert np.array_equal(perm[perm], np.arange(L.N_ROWS))
    assert np.array_equal(perm[L.LEFT_HAND.rows], L.RIGHT_HAND.rows)
    assert perm[L.POSE.start + 15] == L.POSE.start + 16  # left wrist <-> right wrist
    assert perm[L.POSE.start + 0] == L.POSE.start + 0  # nose stays
    lips = set(L.LIPS_ROWS.tolist())
    assert {int(perm[r]) for r in L.LIPS_ROWS} == lips  # the lips mirror onto themselves
    pm = L.PIPELINE_MIRROR
    assert np.array_equal(pm[pm], np.arange(L.N_PIPELINE_ROWS))
    assert np.array_equal(L.PIPELINE_ROWS[pm], perm[L.PIPELINE_ROWS])


def test_skeleton_edges_stay_inside_their_group():
    groups = {
        "lips": L.LIPS_ROWS,
        "left_hand": L.LEFT_HAND.rows,
        "right_hand": L.RIGHT_HAND.rows,
        "pose": L.POSE.rows,
    }
    for name, edges in L.SKELETON_EDGES.items():
        assert len(edges) > 0
        assert set(edges.ravel().tolist()) <= set(groups[name].tolist()), name
    assert len(L.HAND_EDGES) == 21  # MediaPipe's hand graph


def test_pipeline_rows_select_from_both_layouts():
    full = np.random.default_rng(0).random((3, L.N_ROWS, 3))
    compact = L.to_pipeline_rows(full)
    assert compact.shape == (3, L.N_PIPELINE_ROWS, 3)
    assert L.to_pipeline_rows(compact) is compact
    try:
        L.to_pipeline_rows(full[:, :100])
    except ValueError as exc:
        assert "543" in str(exc)
    else:
        raise AssertionError("a wrong row count must be refused")
