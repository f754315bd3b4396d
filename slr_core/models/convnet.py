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

from .common import IN_FEATURES, MaskedConv, invariant_inputs, masked_max, masked_mean, output_layer
from .config import ModelConfig


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
        feats = invariant_inputs(x, hands, mask, groups)  # b t IN_FEATURES
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
