"""The Keypoints container and the Kaggle asl-signs parquet format.

A Keypoints holds one sequence in the Kaggle layout: ``data`` of shape (T, 543, 3) float32 with NaN
for points that were not detected, the frame rate and the time of every frame. Extracted video and
Kaggle files are interchangeable through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..base.errors import SLRError
from .landmarks import GROUP_BY_NAME, GROUPS, N_COORDS, N_ROWS

KAGGLE_FPS = 30.0  # the asl-signs files carry frame numbers only; the recordings are ~30 fps
PARQUET_COLUMNS = ("frame", "row_id", "type", "landmark_index", "x", "y", "z")
REQUIRED_COLUMNS = ("frame", "type", "landmark_index", "x", "y", "z")
# Files written by this project add a `time` column (seconds of each frame), so that keypoints of a
# 25 or 60 fps video, or of a variable-rate webm, keep their real timing; Kaggle tools ignore it.
TIME_COLUMN = "time"


class KeypointsError(SLRError, ValueError):
    """A landmark file that cannot be read; the message names the file and the problem."""


@dataclass
class Keypoints:
    """One sequence of landmarks in the Kaggle layout.

    Attributes
    ----------
    data : np.ndarray, shape (T, 543, 3), float32
        x, y (normalised to the image, 0..1) and z per landmark; NaN where not detected.
    fps : float
        Nominal frame rate.
    times : np.ndarray, shape (T,), float64
        Time of each frame in seconds from the start (uneven for live streams).
    frames : np.ndarray, shape (T,), int64
        The frame number of each row (Kaggle files skip some).
    """

    data: np.ndarray
    fps: float = KAGGLE_FPS
    times: np.ndarray = None  # type: ignore[assignment]  # None: from the frames; filled in __post_init__
    frames: np.ndarray = None  # type: ignore[assignment]  # None: 0, 1, 2, ...
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data = np.asarray(self.data, dtype=np.float32)
        if self.data.ndim != 3 or self.data.shape[1:] != (N_ROWS, N_COORDS):
            raise KeypointsError(f"Keypoints data must be (T, {N_ROWS}, {N_COORDS}), got {self.data.shape}")
        n = len(self.data)
        if self.frames is None:
            self.frames = np.arange(n, dtype=np.int64)
        self.frames = np.asarray(self.frames, dtype=np.int64)
        if self.times is None:
            self.times = (self.frames - (self.frames[0] if n else 0)) / float(self.fps)
        self.times = np.asarray(self.times, dtype=np.float64)
        if len(self.frames) != n or len(self.times) != n:
            raise KeypointsError("frames and times must have one entry per frame")

    def __len__(self) -> int:
        return len(self.data)

    @property
    def duration(self) -> float:
        return float(self.times[-1] - self.times[0]) if len(self) > 1 else 0.0

    def group_present(self, name: str) -> np.ndarray:
        """(T,) bool: frames in which any point of a Kaggle group was detected."""
        g = GROUP_BY_NAME[name]
        return np.isfinite(self.data[:, g.start : g.stop, 0]).any(axis=1)

    def hands_present(self) -> np.ndarray:
        """(T,) bool: frames with at least one hand."""
        return self.group_present("left_hand") | self.group_present("right_hand")

    @classmethod
    def empty(cls, fps: float = KAGGLE_FPS, source: str = "") -> Keypoints:
        return cls(np.zeros((0, N_ROWS, N_COORDS), np.float32), fps, source=source)


def _fail(path, problem: str) -> KeypointsError:
    return KeypointsError(f"{path}: {problem}")


def _checked_columns(table: pa.Table, path: Path) -> dict:
    """The Kaggle schema's columns of a table, each checked for presence and type."""
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise _fail(path, f"missing column(s) {', '.join(missing)}; expected {', '.join(PARQUET_COLUMNS)}")
    cols = {}
    for name in REQUIRED_COLUMNS:
        col = table.column(name)
        kind = col.type
        if name in ("frame", "landmark_index"):
            ok = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        elif name == "type":
            ok = pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind)
        else:
            ok = pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)
        if not ok:
            raise _fail(path, f"column '{name}' has type {kind}, which is not what the Kaggle schema uses")
        cols[name] = col
    return cols


def read_parquet(path: str | Path, fps: float = KAGGLE_FPS) -> Keypoints:
    """Read a Kaggle-schema parquet file into a Keypoints.

    Rows are placed by (type, landmark_index), so a file that keeps only some rows (lips, hands and
    pose, say) loads with the absent points as NaN.
    """
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "no such file")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise _fail(path, f"not a readable parquet file ({type(exc).__name__}: {exc})") from None
    cols = _checked_columns(table, path)
    if table.num_rows == 0:
        return Keypoints.empty(fps, source=str(path))

    frame_col = cols["frame"].to_numpy(zero_copy_only=False)
    index_col = cols["landmark_index"].to_numpy(zero_copy_only=False)
    if not (np.isfinite(frame_col).all() and np.isfinite(index_col).all()):
        raise _fail(path, "'frame' or 'landmark_index' has missing values")
    frame_col = frame_col.astype(np.int64)
    index_col = index_col.astype(np.int64)
    type_col = cols["type"].dictionary_encode().combine_chunks()
    type_names = [str(v) for v in type_col.dictionary.to_pylist()]
    unknown = sorted(set(type_names) - set(GROUP_BY_NAME))
    if unknown:
        raise _fail(path, f"unknown landmark type(s) {unknown}; expected {[g.name for g in GROUPS]}")
    offsets = np.array([GROUP_BY_NAME[t].start for t in type_names], dtype=np.int64)
    sizes = np.array([GROUP_BY_NAME[t].size for t in type_names], dtype=np.int64)
    codes = type_col.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    if ((index_col < 0) | (index_col >= sizes[codes])).any():
        raise _fail(path, "a landmark_index is outside its group's range")
    rows = offsets[codes] + index_col

    frames, first_row, frame_pos = np.unique(frame_col, return_index=True, return_inverse=True)
    data = np.full((len(frames), N_ROWS, N_COORDS), np.nan, dtype=np.float32)
    for c, name in enumerate(("x", "y", "z")):
        values = cols[name].to_numpy(zero_copy_only=False)
        data[frame_pos, rows, c] = np.asarray(values, dtype=np.float32)
    times = None
    if TIME_COLUMN in table.column_names:
        col = table.column(TIME_COLUMN)
        if not pa.types.is_floating(col.type):
            raise _fail(path, f"column '{TIME_COLUMN}' has type {col.type}; expected seconds as floats")
        times = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)[first_row]
        if not (np.isfinite(times).all() and np.all(np.diff(times) > 0)):
            raise _fail(path, f"column '{TIME_COLUMN}' must increase from frame to frame")
        times = times - times[0]
    return Keypoints(data, fps, times=times, frames=frames, source=str(path))  # type: ignore[arg-type]


def row_names() -> tuple[np.ndarray, np.ndarray]:
    """The Kaggle `type` and `landmark_index` of each of the 543 rows of a frame, in order."""
    type_per_row = np.empty(N_ROWS, dtype=object)
    index_per_row = np.empty(N_ROWS, dtype=np.int16)
    for g in GROUPS:
        type_per_row[g.start : g.stop] = g.name
        index_per_row[g.start : g.stop] = np.arange(g.size)
    return type_per_row, index_per_row


def write_parquet(kp: Keypoints, path: str | Path) -> None:
    """Write a Keypoints in the Kaggle schema, all 543 rows per frame, plus each frame's time
    (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(kp)
    type_per_row, index_per_row = row_names()
    # Kaggle stores frame numbers as int16; a long recording needs more.
    frame_type = pa.int16() if n == 0 or int(kp.frames.max()) < 2**15 else pa.int32()
    frames = np.repeat(kp.frames, N_ROWS)
    types = np.tile(type_per_row, n)
    indices = np.tile(index_per_row, n)
    row_id = [f"{f}-{t}-{i}" for f, t, i in zip(frames, types, indices)]
    flat = kp.data.reshape(-1, N_COORDS)
    table = pa.table(
        {
            "frame": pa.array(frames, frame_type),
            "row_id": pa.array(row_id, pa.string()),
            "type": pa.array(types.tolist(), pa.string()),
            "landmark_index": pa.array(indices, pa.int16()),
            "x": pa.array(flat[:, 0], pa.float32()),
            "y": pa.array(flat[:, 1], pa.float32()),
            "z": pa.array(flat[:, 2], pa.float32()),
            TIME_COLUMN: pa.array(np.repeat(kp.times, N_ROWS), pa.float64()),
        }
    )
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
