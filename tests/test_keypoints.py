"""The Keypoints container and the Kaggle parquet schema, on every real file in ../shared."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slr_core.capture import landmarks as L
from slr_core.capture.keypoints import Keypoints, KeypointsError, read_parquet, write_parquet

from .conftest import FULL_FIXTURE, SUBSET, needs_shared


def _all_files(root):
    table = pd.read_csv(root / "train.csv")
    return [root / p for p in table["path"]]


@needs_shared
@pytest.mark.parametrize("root", [SUBSET, FULL_FIXTURE], ids=["subset", "full-fixture"])
def test_every_real_file_loads(root):
    files = _all_files(root)
    assert len(files) == (518 if root == SUBSET else 12)
    for path in files:
        kp = read_parquet(path)
        assert kp.data.shape[1:] == (543, 3) and kp.data.dtype == np.float32
        assert len(kp) > 0 and np.all(np.diff(kp.frames) > 0)
        raw = pq.read_table(path, columns=["frame"]).column("frame").to_numpy()
        assert len(kp) == len(np.unique(raw))
        seen = np.isfinite(kp.data[..., 0])
        assert kp.hands_present().any(), path
        rows = np.concatenate([L.LIPS_ROWS, L.LEFT_HAND.rows, L.RIGHT_HAND.rows])
        xy = kp.data[:, rows, :2][np.isfinite(kp.data[:, rows, :2])]
        assert -0.5 < xy.min() and xy.max() < 1.5  # normalised image coordinates, a small margin
        if root == SUBSET:  # the subset keeps lips, hands and pose only: other face rows are NaN
            others = np.setdiff1d(L.FACE.rows, L.LIPS_ROWS)
            assert not seen[:, others].any()


@needs_shared
def test_full_fixture_has_all_543_rows_per_frame():
    path = _all_files(FULL_FIXTURE)[0]
    raw = pd.read_parquet(path)
    kp = read_parquet(path)
    assert len(raw) == len(kp) * 543
    assert np.isfinite(kp.data[:, L.FACE.rows, 0]).all()  # the face mesh is found in every frame


@needs_shared
def test_values_land_in_the_right_rows():
    path = _all_files(FULL_FIXTURE)[3]
    raw = pd.read_parquet(path)
    kp = read_parquet(path)
    row = raw[(raw["type"] == "pose") & (raw["landmark_index"] == 16)].iloc[0]
    f = int(np.searchsorted(kp.frames, row["frame"]))
    assert kp.data[f, L.POSE.start + 16, 0] == pytest.approx(row["x"])
    assert kp.data[f, L.POSE.start + 16, 1] == pytest.approx(row["y"])


@needs_shared
@pytest.mark.parametrize("root", [SUBSET, FULL_FIXTURE], ids=["subset", "full-fixture"])
def test_write_then_read_is_identical(root, tmp_path):
    for path in _all_files(root)[:20]:
        kp = read_parquet(path)
        write_parquet(kp, tmp_path / "x.parquet")
        back = read_parquet(tmp_path / "x.parquet")
        assert np.array_equal(back.data, kp.data, equal_nan=True)
        assert np.array_equal(back.frames, kp.frames)


def test_write_then_read_keeps_long_frame_numbers(tmp_path):
    data = np.full((2, L.N_ROWS, 3), np.nan, np.float32)
    data[:, L.RIGHT_HAND.rows] = 0.5
    kp = Keypoints(data, frames=np.array([40000, 40001]))
    write_parquet(kp, tmp_path / "long.parquet")
    assert read_parquet(tmp_path / "long.parquet").frames.tolist() == [40000, 40001]


def _table(**overrides):
    n = 3
    cols = {
        "frame": pa.array([0] * n, pa.int16()),
        "row_id": pa.array(["0-right_hand-0", "0-right_hand-1", "0-pose-0"]),
        "type": pa.array(["right_hand", "right_hand", "pose"]),
        "landmark_index": pa.array([0, 1, 0], pa.int16()),
        "x": pa.array([0.1, 0.2, 0.3], pa.float32()),
        "y": pa.array([0.1, 0.2, 0.3], pa.float32()),
        "z": pa.array([0.0, 0.0, 0.0], pa.float32()),
    }
    for k, v in overrides.items():
        if v is None:
            del cols[k]
        else:
            cols[k] = v
    return pa.table(cols)


def test_partial_rows_load_with_nan(tmp_path):
    pq.write_table(_table(), tmp_path / "ok.parquet")
    kp = read_parquet(tmp_path / "ok.parquet")
    assert kp.data.shape == (1, 543, 3)
    assert kp.data[0, L.RIGHT_HAND.start + 1, 0] == pytest.approx(0.2)
    assert np.isfinite(kp.data[0, :, 0]).sum() == 3


@pytest.mark.parametrize(
    "case, overrides, message",
    [
        ("missing column", {"x": None}, "missing column(s) x"),
        ("wrong dtype", {"x": pa.array(["a", "b", "c"])}, "column 'x' has type string"),
        ("unknown type", {"type": pa.array(["hand", "hand", "pose"])}, "unknown landmark type"),
        ("index out of range", {"landmark_index": pa.array([0, 21, 0], pa.int16())}, "outside its group"),
    ],
)
def test_malformed_parquet_gets_a_clear_error(tmp_path, case, overrides, message):
    path = tmp_path / "bad.parquet"
    pq.write_table(_table(**overrides), path)
    with pytest.raises(KeypointsError) as err:
        read_parquet(path)
    assert str(path) in str(err.value) and message in str(err.value)


@pytest.mark.parametrize("content", [b"", b"this is not parquet at all", b"PAR1\x00\x01garbage"])
def test_unreadable_file_gets_a_clear_error(tmp_path, content):
    path = tmp_path / "broken.parquet"
    path.write_bytes(content)
    with pytest.raises(KeypointsError, match="not a readable parquet file"):
        read_parquet(path)


def test_missing_file(tmp_path):
    with pytest.raises(KeypointsError, match="no such file"):
        read_parquet(tmp_path / "nope.parquet")


def test_container_checks_its_shape():
    with pytest.raises(KeypointsError):
        Keypoints(np.zeros((3, 100, 3)))
    kp = Keypoints(np.zeros((4, 543, 3)), fps=25.0)
    assert kp.times.tolist() == [0.0, 0.04, 0.08, 0.12]
    assert len(Keypoints.empty()) == 0


def test_real_frame_times_survive_a_round_trip(tmp_path):
    data = np.full((4, L.N_ROWS, 3), np.nan, np.float32)
    data[:, L.RIGHT_HAND.rows] = 0.5
    times = np.array([0.0, 0.04, 0.1, 0.2])  # a variable-rate stream
    write_parquet(Keypoints(data, fps=25.0, times=times), tmp_path / "t.parquet")
    back = read_parquet(tmp_path / "t.parquet")
    np.testing.assert_allclose(back.times, times)
    table = pq.read_table(tmp_path / "t.parquet").drop(["time"])
    pq.write_table(table, tmp_path / "kaggle.parquet")  # a Kaggle file has frame numbers only
    np.testing.assert_allclose(read_parquet(tmp_path / "kaggle.parquet").times, np.arange(4) / 30)
    pq.write_table(table.append_column("time", pa.array(["a"] * table.num_rows)), tmp_path / "bad.parquet")
    with pytest.raises(KeypointsError, match="column 'time'"):
        read_parquet(tmp_path / "bad.parquet")
