"""A small temporal convolution network over the features that do not depend on the signer.

It reads, per frame, only what carries from one person and camera to another: each hand's 3D shape
features (``handshape``: joint bends, spread, palm direction, fingertip distances), where each
wrist is in the body's frame, and which hands are seen. Lips, the other points of the hands and the
arms are left out. Trained on one studio clip per sign, it recognises new signers far better than
the transformer that reads every point (bench/bench_cross_signer.py has the figures), which is why
the default model uses it (``ModelConfig(arch="conv")``).

    per frame: wrists (b, t, 2, 2), hands (b, t, 2, 32), seen (b, t, 2) -> Linear -> GELU -> norm
    -> [masked Conv1d -> GELU -> dropout] x depth -> masked mean and max over time (the embedding)
    -> ClassifierHead-like output: logits (linear or cosine), confidence

Shape legend: b batch, t frames, d features, c classes. Padding never changes the output.
"""

from __future__ import annotations

import torch
from torch import nn

from ..features.handshape import N_HAND_FEATURES
from .common import HAND_GROUP_INDEX, WRIST_POINTS, masked_max, masked_mean, output_layer
from .config import ModelConfig

IN_FEATURES = 2 * 2 + 2 * N_HAND_FEATURES + 2


class MaskedConv(nn.Module):
    """Conv1d over time that never reads padding: padded frames are zeroed before and after."""

    def __init__(self, dim: int, kernel: int, drop: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2)
        self.act = nn.GELU()
        self.drop = nn.Dropout(drop)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # b t d
        m = mask[..., None].to(x.dtype)
        y = self.conv((x * m).transpose(1, 2)).transpose(1, 2)
        return self.norm(x + self.drop(self.act(y))) * m


class InvariantConvNet(nn.Module):
    """(x, hands, mask, groups, positions) -> logits, aux_logits (none), confidence, embedding."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = c = config
        dim = c.dim
        self.embed = nn.Sequential(nn.Linear(IN_FEATURES, dim), nn.GELU(), nn.LayerNorm(dim))
        self.blocks = nn.ModuleList(MaskedConv(dim, c.conv_kernel, c.drop) for _ in range(c.global_blocks))
        self.drop = nn.Dropout(c.drop)
        self.out = output_layer(2 * dim, c.num_classes, c.cosine_scale if c.head == "cosine" else None)
        self.confidence = nn.Sequential(nn.Linear(2 * dim, 64), nn.GELU(), nn.Linear(64, 1))

    def forward(
        self,
        x: torch.Tensor,  # b t p 2
        hands: torch.Tensor,  # b t 2 f
        mask: torch.Tensor,  # b t bool
        groups: torch.Tensor,  # b t 4 bool
        positions: torch.Tensor,  # b t (unused: the frames are in time order)
    ) -> dict[str, torch.Tensor]:
        b, t = mask.shape
        seen = (groups[..., HAND_GROUP_INDEX] & mask[..., None]).to(x.dtype)  # b t 2
        wrists = x[:, :, WRIST_POINTS] * seen[..., None]  # b t 2 2
        feats = torch.cat([wrists.reshape(b, t, -1), (hands * seen[..., None]).reshape(b, t, -1), seen], -1)
        h = self.embed(feats) * mask[..., None]
        for block in self.blocks:
            h = block(h, mask)
        embedding = torch.cat([masked_mean(h, mask), masked_max(h, mask)], -1)
        return {
            "logits": self.out(self.drop(embedding)),
            "embedding": embedding,
            "aux_logits": [],
            "confidence": torch.sigmoid(self.confidence(embedding.detach()).squeeze(-1)),
        }
