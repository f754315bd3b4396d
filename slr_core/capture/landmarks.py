"""The landmark layout, named once for the whole project.

Two layouts matter:

* the Kaggle asl-signs layout of 543 rows per frame (face 468, left hand 21, pose 33, right hand 21),
  which is what MediaPipe Holistic produces and what every Keypoints object stores;
* the 87 model points (40 lips, 21 left hand, 21 right hand, 5 pose) that preprocessing feeds the model.

Hand and pose names, and the skeleton edges, come from MediaPipe's own tables; nothing else in the
project should spell out 543, 468 or a landmark index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mediapipe.python.solutions import face_mesh_connections, hands_connections, pose_connections
from mediapipe.python.solutions.hands import HandLandmark
from mediapipe.python.solutions.pose import PoseLandmark


@dataclass(frozen=True)
class Group:
    """A block of consecutive rows in the 543-row Kaggle layout."""

    name: str  # the Kaggle `type` column value
    start: int
    size: int

    @property
    def stop(self) -> int:
        return self.start + self.size

    @property
    def rows(self) -> np.ndarray:
        return np.arange(self.start, self.stop)


N_FACE = 468
N_HAND = len(HandLandmark)  # 21
N_POSE = len(PoseLandmark)  # 33

# Kaggle row order: face, left_hand, pose, right_hand.
FACE = Group("face", 0, N_FACE)
LEFT_HAND = Group("left_hand", FACE.stop, N_HAND)
POSE = Group("pose", LEFT_HAND.stop, N_POSE)
RIGHT_HAND = Group("right_hand", POSE.stop, N_HAND)
GROUPS: tuple[Group, ...] = (FACE, LEFT_HAND, POSE, RIGHT_HAND)
GROUP_BY_NAME = {g.name: g for g in GROUPS}
N_ROWS = RIGHT_HAND.stop  # 543
N_COORDS = 3  # x, y, z

# Lip contour points of the face mesh, in the seeds' order (outer lip, then inner lip).
LIPS_FACE_INDICES = (
    61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 146, 91, 181, 84, 17, 314, 405, 321, 375,
    78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308,
)  # fmt: skip

# The lips mirror onto themselves: each point's partner across the face's vertical midline.
_LIP_MIRROR_PAIRS = (
    (61, 291), (185, 409), (40, 270), (39, 269), (37, 267), (146, 375), (91, 321), (181, 405),
    (84, 314), (78, 308), (191, 415), (80, 310), (81, 311), (82, 312), (95, 324), (88, 318),
    (178, 402), (87, 317),
)  # fmt: skip

_ARM = ("ELBOW", "WRIST", "PINKY", "INDEX", "THUMB")
POSE_LEFT_ARM = tuple(int(PoseLandmark[f"LEFT_{p}"]) for p in _ARM)  # 13 15 17 19 21
POSE_RIGHT_ARM = tuple(int(PoseLandmark[f"RIGHT_{p}"]) for p in _ARM)  # 14 16 18 20 22
POSE_SHOULDERS = (int(PoseLandmark.LEFT_SHOULDER), int(PoseLandmark.RIGHT_SHOULDER))

# Canonical signing side after mirroring: the right hand is the dominant one (as for most signers).
DOMINANT_SIDE = "right"

# --- the 87 model points, as rows of the 543 layout (canonical = right-dominant) -------------------
LIPS_ROWS = FACE.start + np.array(LIPS_FACE_INDICES)
LEFT_HAND_ROWS = LEFT_HAND.rows
RIGHT_HAND_ROWS = RIGHT_HAND.rows
POSE_ARM_ROWS = POSE.start + np.array(POSE_RIGHT_ARM if DOMINANT_SIDE == "right" else POSE_LEFT_ARM)
MODEL_ROWS = np.concatenate([LIPS_ROWS, LEFT_HAND_ROWS, RIGHT_HAND_ROWS, POSE_ARM_ROWS])
HAND_ROWS = np.concatenate([LEFT_HAND_ROWS, RIGHT_HAND_ROWS])  # both hands, Kaggle layout
N_MODEL_POINTS = len(MODEL_ROWS)  # 87

# Slices of the model points, per group, in model order.
MODEL_GROUPS: dict[str, slice] = {}
_start = 0
for _name, _rows in (
    ("lips", LIPS_ROWS),
    ("left_hand", LEFT_HAND_ROWS),
    ("right_hand", RIGHT_HAND_ROWS),
    ("pose", POSE_ARM_ROWS),
):
    MODEL_GROUPS[_name] = slice(_start, _start + len(_rows))
    _start += len(_rows)
MODEL_GROUP_NAMES = tuple(MODEL_GROUPS)
SHOULDER_ROWS = POSE.start + np.array(POSE_SHOULDERS)
WRIST = int(HandLandmark.WRIST)
MIDDLE_MCP = int(HandLandmark.MIDDLE_FINGER_MCP)


def _mirror_permutation() -> np.ndarray:
    """Row permutation of the 543 layout that swaps left and right.

    Hands swap wholesale; pose points swap with their LEFT_/RIGHT_ partner by MediaPipe's names;
    the lip points swap across the midline. Other face-mesh points keep their index (they are only
    drawn, never fed to the model), so after mirroring their positions are right but their identity
    is not swapped.
    """
    perm = np.arange(N_ROWS)
    perm[LEFT_HAND.rows] = RIGHT_HAND.rows
    perm[RIGHT_HAND.rows] = LEFT_HAND.rows
    for lm in PoseLandmark:
        if lm.name.startswith("LEFT_"):
            partner = PoseLandmark["RIGHT_" + lm.name[len("LEFT_") :]]
            perm[POSE.start + lm] = POSE.start + partner
            perm[POSE.start + partner] = POSE.start + lm
    for a, b in _LIP_MIRROR_PAIRS:
        perm[FACE.start + a] = FACE.start + b
        perm[FACE.start + b] = FACE.start + a
    return perm


# mirrored[:, i] = original[:, MIRROR_ROWS[i]] (with x -> 1 - x)
MIRROR_ROWS = _mirror_permutation()

# --- skeleton edges for drawing, as pairs of rows of the 543 layout --------------------------------
HAND_EDGES = tuple(sorted(hands_connections.HAND_CONNECTIONS))
POSE_EDGES = tuple(sorted(pose_connections.POSE_CONNECTIONS))
LIPS_EDGES = tuple(sorted(face_mesh_connections.FACEMESH_LIPS))


# The upper body, shoulders to hips: what a signer shows (face points and legs are left out).
_UPPER_BODY = set(range(int(PoseLandmark.LEFT_SHOULDER), int(PoseLandmark.RIGHT_HIP) + 1))
UPPER_ARM_ROWS = POSE.start + np.arange(int(PoseLandmark.LEFT_SHOULDER), int(PoseLandmark.RIGHT_THUMB) + 1)


def _edges(group: Group, pairs) -> np.ndarray:
    return np.array([(group.start + a, group.start + b) for a, b in pairs], dtype=np.int64)


SKELETON_EDGES: dict[str, np.ndarray] = {
    "lips": _edges(FACE, LIPS_EDGES),
    "left_hand": _edges(LEFT_HAND, HAND_EDGES),
    "right_hand": _edges(RIGHT_HAND, HAND_EDGES),
    "pose": _edges(POSE, [(a, b) for a, b in POSE_EDGES if a in _UPPER_BODY and b in _UPPER_BODY]),
}


# --- the compact pipeline layout -------------------------------------------------------------------
# Everything preprocessing and augmentation need: the 87 model points first, then the other arm
# (the mirror partner of the model's pose points) and the shoulders (the body scale). The dataset
# cache stores this layout, so a full Kaggle frame of 543 rows shrinks to 94.
PIPELINE_ROWS = np.concatenate([MODEL_ROWS, POSE.start + np.array(POSE_LEFT_ARM), SHOULDER_ROWS])
if DOMINANT_SIDE != "right":  # keep the layout honest if the canonical side is ever flipped
    raise NotImplementedError("the pipeline layout assumes a right-dominant canonical side")
N_PIPELINE_ROWS = len(PIPELINE_ROWS)
_PIPELINE_INDEX = {int(r): i for i, r in enumerate(PIPELINE_ROWS)}
PIPELINE_MIRROR = np.array([_PIPELINE_INDEX[int(MIRROR_ROWS[r])] for r in PIPELINE_ROWS])
PIPELINE_SHOULDERS = np.array([_PIPELINE_INDEX[int(r)] for r in SHOULDER_ROWS])
PIPELINE_OTHER_ARM = np.array([_PIPELINE_INDEX[int(POSE.start + i)] for i in POSE_LEFT_ARM])
PIPELINE_GROUPS: dict[str, np.ndarray] = {
    name: np.arange(N_MODEL_POINTS)[sl] for name, sl in MODEL_GROUPS.items()
}
PIPELINE_HANDS = (PIPELINE_GROUPS["left_hand"], PIPELINE_GROUPS["right_hand"])  # (left, right) rows
PIPELINE_HAND_ROWS = np.concatenate(PIPELINE_HANDS)


def to_pipeline_rows(data: np.ndarray) -> np.ndarray:
    """Select the pipeline rows from a (..., 543, C) array; a compact array passes through."""
    if data.shape[-2] == N_ROWS:
        return data[..., PIPELINE_ROWS, :]
    if data.shape[-2] == N_PIPELINE_ROWS:
        return data
    raise ValueError(
        f"expected {N_ROWS} landmark rows (Kaggle layout) or {N_PIPELINE_ROWS} (pipeline layout), "
        f"got {data.shape[-2]}"
    )
