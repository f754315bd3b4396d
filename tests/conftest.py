"""Shared fixtures: the real data in ../shared, small real clips in other containers, a tiny model.

Tests that need ../shared skip with a reason only where it is absent (a fresh clone without it);
CI always has it. Set SLR_SHARED to point elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from slr_core.capture import videofile

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SLR_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"
SUBSET = DATA / "asl-signs-subset"
FULL_FIXTURE = DATA / "asl-signs-full-fixture"
POPSIGN = DATA / "popsign-reference"
SIGN_MAP = DATA / "sign_to_prediction_index_map.json"
TOKENIZER = SHARED / "models" / "flan-t5-small-tokenizer"

needs_shared = pytest.mark.skipif(
    not SIGN_MAP.is_file(), reason=f"the shared data folder is absent ({SHARED}); set SLR_SHARED to use it"
)


def popsign_clip(word: str) -> Path:
    return POPSIGN / "clips" / f"{word}.mp4"


@pytest.fixture(scope="session")
def extractor():
    from slr_core.capture.extract import Extractor

    with Extractor() as ex:
        yield ex


@pytest.fixture(scope="session")
def hello_keypoints(extractor):
    """Keypoints of the real PopSign 'hello' clip, extracted once per session."""
    if not SIGN_MAP.is_file():
        pytest.skip(f"the shared data folder is absent ({SHARED})")
    from slr_core.capture.extract import extract_video

    return extract_video(popsign_clip("hello"), extractor)


REPLAY_SIGNS = ("apple", "bird", "blue", "book", "cat", "dog")


@pytest.fixture(scope="session")
def replay_dataset(tmp_path_factory):
    """A small Kaggle-layout dataset of other people's signs, as `slr extract` makes it: the real
    PopSign studio clips of six signs (what fine-tuning keeps the model's other signs with)."""
    if not SIGN_MAP.is_file():
        pytest.skip(f"the shared data folder is absent ({SHARED})")
    from slr_core.datasets.extraction import extract_dataset

    root = tmp_path_factory.mktemp("replay")
    rows = "".join(f"{popsign_clip(w)},{w}\n" for w in REPLAY_SIGNS)
    (root / "labels.csv").write_text("path,sign\n" + rows)
    report = extract_dataset(root / "labels.csv", root / "dataset", workers=2, sign_map_path=SIGN_MAP,
                             progress=False)  # fmt: skip
    assert report.written == len(REPLAY_SIGNS), report.summary()
    return root / "dataset"


def read_rgb_frames(path: Path) -> tuple[list[np.ndarray], float]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames, fps


def wait_for_state(run, states: set[str], timeout: float = 300.0, condition=lambda status: True) -> dict:
    """Poll a training run's status until its state is one of `states` (and `condition` holds)."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        status = run.status()
        if status.get("state") in states and condition(status):
            return status
        time.sleep(0.2)
    raise AssertionError(f"{run.name}: still {run.status()} after {timeout:.0f} s\n{run.log_tail(30)}")


def set_display_rotation(path: Path, degrees: int) -> None:
    """Write a rotation into an mp4's track header matrix, as a phone does for portrait video."""
    import struct

    data = bytearray(path.read_bytes())
    at = data.find(b"tkhd")
    assert at > 0 and data.count(b"tkhd") == 1, "expected one track"
    matrix_at = at + (56 if data[at + 4] == 1 else 44)  # after the times, ids, layer and volume
    cos, sin = round(np.cos(np.radians(degrees))), round(np.sin(np.radians(degrees)))
    fixed = [v * 65536 & 0xFFFFFFFF for v in (cos, sin, 0, -sin, cos, 0)]
    data[matrix_at : matrix_at + 36] = struct.pack(">9I", *fixed, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))


def write_video(path: Path, frames: list[np.ndarray], fps: float, codec: str) -> Path:
    """Encode RGB frames at a phone-like quality (the encoders' defaults are much lower)."""
    return videofile.write_video(path, frames, fps, codec, bit_rate=2_000_000)
