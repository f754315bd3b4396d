"""What both networks share: the hands' layout in their inputs, masked pooling over time, and the
output layer (linear, or cosine: https://arxiv.org/abs/1704.06369).

Shape legend: b batch, t frames, d features, c classes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..capture.landmarks import MODEL_GROUP_NAMES, MODEL_GROUPS
from ..features.handshape import N_HAND_FEATURES

HANDS = ("left_hand", "right_hand")  # the rows of the `hands` input (handshape features), in this order
HAND_SLOT = {name: k for k, name in enumerate(HANDS)}
HAND_GROUP_INDEX = [MODEL_GROUP_NAMES.index(name) for name in HANDS]  # their columns of `groups`
WRIST_POINTS = [MODEL_GROUPS[name].start for name in HANDS]  # a hand's first model point is its wrist
IN_FEATURES = (
    2 * 2 + 2 * N_HAND_FEATURES + 2
)  # per frame: the wrists, the hands' shapes, which hands are seen


def invariant_inputs(
    x: torch.Tensor, hands: torch.Tensor, mask: torch.Tensor, groups: torch.Tensor
) -> torch.Tensor:
    """What carries from one person and camera to another, per frame (b t IN_FEATURES): where each
    wrist is in the body's frame (x is normalised to the shoulders by the preprocessing), each hand's
    3D shape features, and which hands are seen; a hand not seen (or padding) is all zeros. The one
    definition of the signer-independent inputs: the conv net and the transformer's invariant front
    both read it.

    x (b t p 2), hands (b t 2 f), mask (b t), groups (b t 4)."""
    b, t = mask.shape
    seen = (groups[..., HAND_GROUP_INDEX] & mask[..., None]).to(x.dtype)  # b t 2
    wrists = x[:, :, WRIST_POINTS] * seen[..., None]  # b t 2 2
    return torch.cat([wrists.reshape(b, t, -1), (hands * seen[..., None]).reshape(b, t, -1), seen], -1)


class MaskedConv(nn.Module):
    """Conv1d over time that never reads padding: padded frames are zeroed before and after (b t d)."""

    def __init__(self, dim: int, kernel: int, drop: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2)
        self.act = nn.GELU()
        self.drop = nn.Dropout(drop)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask[..., None].to(x.dtype)
        y = self.conv((x * m).transpose(1, 2)).transpose(1, 2)
        return self.norm(x + self.drop(self.act(y))) * m


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over time (b t d -> b d) of the frames the mask keeps."""
    m = mask[..., None].float()
    return (x * m).sum(1) / m.sum(1).clamp(min=1)


def masked_max(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Max over time (b t d -> b d) of the frames the mask keeps; zeros where it keeps none."""
    maxed = x.masked_fill(~mask[..., None], float("-inf")).amax(1)
    return torch.where(mask.any(1, keepdim=True), maxed, torch.zeros_like(maxed))


class CosineLinear(nn.Module):
    """Logits as scaled cosines between the input and one learned direction per class
    (https://arxiv.org/abs/1704.06369): a class's score depends on the angle, not on the length."""

    def __init__(self, in_dim: int, num_classes: int, scale: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_classes, in_dim) * 0.02)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * F.normalize(x, dim=-1) @ F.normalize(self.weight, dim=-1).T


def output_layer(in_dim: int, num_classes: int, cosine_scale: float | None) -> nn.Module:
    """The class scores: a linear layer, or CosineLinear when a cosine scale is given."""
    if cosine_scale is None:
        return nn.Linear(in_dim, num_classes)
    return CosineLinear(in_dim, num_classes, cosine_scale)
