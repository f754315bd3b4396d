"""The model's configuration: one dataclass for both networks, stored in every checkpoint, and the
named presets (`slr train --preset`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..base.errors import ConfigError
from ..features.preprocess import DEFAULT_LENGTH


@dataclass
class ModelConfig:
    num_classes: int = 251
    arch: str = "transformer"  # transformer (this file) | conv (convnet.InvariantConvNet)
    length: int = DEFAULT_LENGTH  # input frames
    patch: int = 2  # frames per token
    group_dim: int = 96
    dim: int = 192
    num_heads: int = 4
    local_blocks: int = 2
    local_window: int = 4  # tokens either side
    global_blocks: int = 2
    conv_kernel: int = 5
    mlp_ratio: float = 2.0
    drop: float = 0.1
    drop_path: float = 0.1
    head_dim: int = 384
    pool_scales: tuple[int, ...] = (1, 2, 4, 8)
    # What the model reads. Lips and the hands' 2D points differ with the person and the camera (the
    # hands' 3D shape features and wrist positions do much less): a model for new signers can leave
    # them out (measured in bench/bench_cross_signer.py).
    lips: bool = True
    hand_points: bool = True
    head: str = "linear"  # linear | cosine (a class is a direction: closer to nearest-prototype)
    # The transformer's front: "points" (every point, group by group) or "invariant" (what carries
    # between people, as the conv net reads it: common.invariant_inputs).
    inputs: str = "points"
    cosine_scale: float = 16.0

    def __post_init__(self) -> None:
        self.pool_scales = tuple(self.pool_scales)
        for name in ("num_classes", "length", "patch", "group_dim", "dim", "num_heads", "local_blocks",
                     "local_window", "global_blocks", "conv_kernel", "head_dim"):  # fmt: skip
            value = getattr(self, name)
            least = 0 if name in ("local_blocks", "global_blocks", "local_window") else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ConfigError(f"{name} must be a whole number of at least {least}, got {value!r}")
        for name in ("drop", "drop_path", "mlp_ratio", "cosine_scale"):
            value = getattr(self, name)
            bad = not isinstance(value, (int, float)) or not (
                0 <= value < 1 if name.startswith("drop") else value > 0
            )
            if bad:
                raise ConfigError(
                    f"{name} must be {'in [0, 1)' if name.startswith('drop') else 'positive'}, got {value!r}"
                )
        if self.length % self.patch:
            raise ConfigError(f"length {self.length} must be a multiple of patch {self.patch}")
        if self.dim % self.num_heads or self.group_dim % 2:
            raise ConfigError("dim must be divisible by num_heads, group_dim by 2")
        if self.num_classes < 2:
            raise ConfigError("a classifier needs at least 2 classes")
        if self.arch not in ("transformer", "conv"):
            raise ConfigError(f"arch must be transformer or conv, got {self.arch!r}")
        if self.head not in ("linear", "cosine"):
            raise ConfigError(f"head must be linear or cosine, got {self.head!r}")
        if self.inputs not in ("points", "invariant"):
            raise ConfigError(f"inputs must be points or invariant, got {self.inputs!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown model config key(s): {unknown}")
        return cls(**d)


PRESETS: dict[str, dict] = {
    "tiny": dict(group_dim=32, dim=64, num_heads=2, local_blocks=1, global_blocks=1, head_dim=128),
    "small": dict(group_dim=64, dim=128, num_heads=4, local_blocks=1, global_blocks=2, head_dim=256),
    "base": {},
    "large": dict(group_dim=128, dim=256, num_heads=8, local_blocks=3, global_blocks=3, head_dim=512),
    # the small network over signer-invariant features only (convnet.py): the default model's
    "conv": dict(arch="conv", dim=256, global_blocks=2, conv_kernel=3, lips=False, hand_points=False),
    # the hierarchical transformer (local and global blocks, RoPE, SwiGLU, RMSNorm, multi-scale pooling,
    # the head with auxiliary classifiers) over the conv net's signer-independent inputs
    "invariant": dict(inputs="invariant", conv_kernel=3, lips=False, hand_points=False),
}


# What each preset is, in plain words (the Train page and `slr train --preset` show it).
PRESET_NOTES: dict[str, str] = {
    "conv": "small network over the hand shapes and the wrists' place in the body's frame: what the bundled "
    "model uses, the best measured for new signers when there is little data (new signers, 3 seeds: "
    "top-5 0.37 of 250 signs from one clip each; 0.9-1.6 ms a window)",
    "invariant": "the hierarchical transformer over what the conv net reads (hand shapes, wrists in the "
    "body's frame): level with conv where the signs had many signers (5 folds), below it from one clip "
    "each (top-5 0.32, 3 seeds), 4 times its time a window (3.6-7 ms); the one to try with the full data "
    "on a GPU (docs/accuracy.md)",
    "tiny": "the hierarchical transformer, smallest: for quick tests",
    "small": "the hierarchical transformer reading every point, small",
    "base": "the hierarchical transformer reading every point: for large data (the full Kaggle set) on a GPU",
    "large": "the hierarchical transformer, largest: for the full Kaggle set on several GPUs",
}
