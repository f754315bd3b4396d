"""The hierarchical transformer for isolated signs (after the seeds' HiT).

    x (b, t, 87, 2), hands (b, t, 2, 32)
                    -> the front, by ``config.inputs``:
                       "points": GroupEmbedding (lips, left hand, right hand, pose; learned 'missing'
                       vectors) -> CrossModalAttention (hand <-> hand, lips <-> pose) -> PatchEmbedding
                       (fuse groups, temporal patches of `patch` frames);
                       "invariant": InvariantFront (the signer-independent inputs the conv net reads,
                       ``common.invariant_inputs``, embedded per frame, the conv net's masked temporal
                       convolution as a stem, patches of `patch` frames)
                    -> local blocks (windowed attention) -> TemporalConv -> global blocks
                    -> MultiScalePooling (mean, max, adaptive 1/2/4/8, attention)
                    -> ClassifierHead (head on final + intermediate features, auxiliary heads,
                       confidence estimate; the features it reads are the sign's embedding)

Shape legend: b batch, t frames, n tokens (t / patch), p points, d features, c classes.
Every path honours the frame mask: padding never changes the output.
"""

from __future__ import annotations

import torch
from torch import nn

from ..capture.landmarks import MODEL_GROUP_NAMES, MODEL_GROUPS, N_MODEL_POINTS
from ..features.handshape import N_HAND_FEATURES
from ..features.preprocess import N_GROUPS
from .common import (
    HAND_SLOT,
    HANDS,
    IN_FEATURES,
    MaskedConv,
    invariant_inputs,
    masked_max,
    masked_mean,
    output_layer,
)
from .config import ModelConfig
from .layers import Attention, Residual, RMSNorm, TemporalConv, TransformerBlock, band_mask, key_mask, rotary


class GroupEmbedding(nn.Module):
    """Separate embedding per landmark group, with a learned vector where the group is missing.
    A hand's embedding reads its points and its 3D shape features (handshape) together."""

    def __init__(self, group_dim: int) -> None:
        super().__init__()
        self.slices = [MODEL_GROUPS[name] for name in MODEL_GROUP_NAMES]
        self.shape_slot = [HAND_SLOT.get(name) for name in MODEL_GROUP_NAMES]
        self.embed = nn.ModuleList(
            nn.Sequential(
                nn.Linear(
                    (s.stop - s.start) * 2 + (N_HAND_FEATURES if k is not None else 0), group_dim, bias=False
                ),  # fmt: skip
                nn.GELU(),
                nn.Linear(group_dim, group_dim, bias=False),
            )
            for s, k in zip(self.slices, self.shape_slot)
        )
        self.missing = nn.Parameter(torch.zeros(len(self.slices), group_dim))

    def forward(self, x: torch.Tensor, hands: torch.Tensor, groups: torch.Tensor) -> list[torch.Tensor]:
        b, t = x.shape[:2]
        out = []
        for g, (s, k, embed) in enumerate(zip(self.slices, self.shape_slot, self.embed)):
            inputs = x[:, :, s].reshape(b, t, -1)
            if k is not None:
                inputs = torch.cat([inputs, hands[:, :, k]], dim=-1)
            e = embed(inputs)  # b t d
            out.append(torch.where(groups[..., g : g + 1], e, self.missing[g]))
        return out


class CrossModalAttention(nn.Module):
    """Each stream attends over time to its partner: left <-> right hand, lips <-> pose.

    The two directions of a pair share one block and run as one batch (half the operations).
    """

    PAIRS = ((1, 2), (0, 3))  # groups in MODEL_GROUP_NAMES order: (left, right hand), (lips, pose)

    def __init__(self, group_dim: int, num_heads: int = 2, drop: float = 0.0) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            Residual(group_dim, Attention(group_dim, num_heads, drop)) for _ in self.PAIRS
        )
        self.context_norm = nn.ModuleList(RMSNorm(group_dim) for _ in self.PAIRS)

    def forward(self, streams: list[torch.Tensor], attn_mask: torch.Tensor, rot):
        out = list(streams)
        b = streams[0].shape[0]
        rot2 = tuple(torch.cat([r, r]) for r in rot)
        mask2 = torch.cat([attn_mask, attn_mask])
        for (i, j), block, norm in zip(self.PAIRS, self.blocks, self.context_norm):
            queries = torch.cat([streams[i], streams[j]])  # 2b t d
            context = norm(torch.cat([streams[j], streams[i]]))
            out[i], out[j] = block(queries, mask2, rot2, context=context).split(b)
        return out


class PatchEmbedding(nn.Module):
    """Fuse the group streams and cut time into patches of `patch` frames (b t d -> b n d)."""

    def __init__(self, group_dim: int, dim: int, patch: int) -> None:
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv1d(N_GROUPS * group_dim, dim, kernel_size=patch, stride=patch)
        self.norm = RMSNorm(dim)

    def forward(self, streams: list[torch.Tensor], mask: torch.Tensor, positions: torch.Tensor):
        x = torch.cat(streams, dim=-1) * mask[..., None]  # b t 4g, padding zeroed
        x = self.norm(self.proj(x.transpose(1, 2)).transpose(1, 2))  # b n d
        token_mask, pos = tokens(mask, positions, self.patch)
        return x * token_mask[..., None], token_mask, pos


def tokens(mask: torch.Tensor, positions: torch.Tensor, patch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Which tokens of `patch` frames hold a frame (b n), and each token's time (b n): the mean of its
    frames' times."""
    b, t = mask.shape
    m = mask.view(b, t // patch, patch)
    return m.any(-1), (positions.view_as(m) * m).sum(-1) / m.sum(-1).clamp(min=1)


class InvariantFront(nn.Module):
    """The signer-independent inputs (``common.invariant_inputs``: wrists in the body's frame, hand
    shapes, which hands are seen), embedded per frame, read by a masked temporal convolution (the conv
    net's stem) and cut into tokens of `patch` frames (b t -> b n d)."""

    def __init__(self, dim: int, patch: int, kernel: int, drop: float) -> None:
        super().__init__()
        self.patch_frames = patch
        self.embed = nn.Sequential(nn.Linear(IN_FEATURES, dim), nn.GELU(), nn.LayerNorm(dim))
        self.stem = MaskedConv(dim, kernel, drop)
        self.proj = nn.Conv1d(dim, dim, kernel_size=patch, stride=patch)
        self.norm = RMSNorm(dim)

    def forward(self, x, hands, mask, groups, positions):
        h = self.stem(self.embed(invariant_inputs(x, hands, mask, groups)) * mask[..., None], mask)  # b t d
        h = self.norm(self.proj(h.transpose(1, 2)).transpose(1, 2))  # b n d
        token_mask, pos = tokens(mask, positions, self.patch_frames)
        return h * token_mask[..., None], token_mask, pos


class MultiScalePooling(nn.Module):
    """Masked mean, max, adaptive average at several scales, and attention pooling, concatenated."""

    def __init__(self, dim: int, scales: tuple[int, ...], bin_dim: int = 48) -> None:
        super().__init__()
        self.scales = scales
        self.attn_score = nn.Sequential(nn.Linear(dim, dim // 2), nn.Tanh(), nn.Linear(dim // 2, 1))
        self.bin_proj = nn.Linear(dim, bin_dim)  # shared by every adaptive bin: keeps the head small
        self.out_dim = 3 * dim + bin_dim * sum(scales)

    def _adaptive(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Average over bins of the valid tokens (like adaptive_avg_pool1d on each sample's own
        length): bin k of s covers ranks [floor(k n / s), ceil((k + 1) n / s)). All scales at once."""
        s = torch.tensor([s for s in self.scales for _ in range(s)], device=x.device).float()
        k = torch.tensor([k for s in self.scales for k in range(s)], device=x.device).float()
        n = mask.sum(1).clamp(min=1).float()[:, None, None]  # b 1 1
        start = torch.floor(k[None, :, None] * n / s[None, :, None])  # b bins 1
        end = torch.ceil((k[None, :, None] + 1) * n / s[None, :, None])
        rank = (mask.cumsum(1) - 1).float()[:, None, :]  # b 1 n, rank among valid tokens
        w = ((rank >= start) & (rank < end) & mask[:, None, :]).float()  # b bins n
        return self.bin_proj(w @ x / w.sum(-1, keepdim=True).clamp(min=1)).flatten(1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mean = masked_mean(x, mask)
        maxed = masked_max(x, mask)
        scores = self.attn_score(x).squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1).nan_to_num(0.0)
        attended = (weights[..., None] * x).sum(1)
        return torch.cat([mean, maxed, attended, self._adaptive(x, mask)], dim=-1)


class ClassifierHead(nn.Module):
    """Head over pooled final features plus intermediate-layer features; auxiliary classifiers on
    the intermediate layers; a confidence estimate (probability that the prediction is right).

    The features the head reads (pooled and projected, joined with the intermediate ones) are
    returned as the clip's ``embedding`` for nearest-neighbour and prototype methods."""

    def __init__(
        self,
        pooled_dim: int,
        dim: int,
        head_dim: int,
        num_classes: int,
        drop: float,
        cosine_scale: float | None = None,  # None: a linear output layer
    ) -> None:
        super().__init__()
        out = output_layer(head_dim, num_classes, cosine_scale)
        self.pool_proj = nn.Sequential(nn.LayerNorm(pooled_dim), nn.Linear(pooled_dim, head_dim), nn.GELU())
        self.head = nn.Sequential(
            nn.LayerNorm(head_dim + 2 * dim),
            nn.Dropout(drop),
            nn.Linear(head_dim + 2 * dim, head_dim),
            nn.GELU(),
            nn.Dropout(drop),
            out,
        )
        self.aux = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, num_classes)) for _ in range(2)
        )
        self.confidence = nn.Sequential(nn.Linear(head_dim + 2 * dim, 64), nn.GELU(), nn.Linear(64, 1))

    def forward(self, pooled: torch.Tensor, intermediate: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        feats = torch.cat([self.pool_proj(pooled), *intermediate], dim=-1)
        return {
            "logits": self.head(feats),
            "embedding": feats,
            "aux_logits": [aux(h) for aux, h in zip(self.aux, intermediate)],
            "confidence": torch.sigmoid(self.confidence(feats.detach()).squeeze(-1)),
        }


class SignTransformer(nn.Module):
    """The whole model: (x, hands, mask, groups, positions) -> logits, aux_logits, confidence, embedding."""

    point_mask: torch.Tensor  # (p, 1): 1 for the points the model reads
    group_mask: torch.Tensor  # (4,): the groups the model reads

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = c = config
        if c.inputs == "invariant":
            self.front = InvariantFront(c.dim, c.patch, c.conv_kernel, c.drop)
        else:  # every point, group by group (the names the points checkpoints keep)
            self.embedding = GroupEmbedding(c.group_dim)
            self.cross = CrossModalAttention(c.group_dim, num_heads=2, drop=c.drop)
            self.patch = PatchEmbedding(c.group_dim, c.dim, c.patch)
        depth = c.local_blocks + c.global_blocks + 1
        rates = [c.drop_path * i / max(depth - 1, 1) for i in range(depth)]
        self.local_blocks = nn.ModuleList(
            TransformerBlock(c.dim, c.num_heads, c.mlp_ratio, c.drop, rates[i]) for i in range(c.local_blocks)
        )
        self.conv = Residual(c.dim, TemporalConv(c.dim, c.conv_kernel, c.drop), rates[c.local_blocks])
        self.global_blocks = nn.ModuleList(
            TransformerBlock(c.dim, c.num_heads, c.mlp_ratio, c.drop, rates[c.local_blocks + 1 + i])
            for i in range(c.global_blocks)
        )
        self.norm = RMSNorm(c.dim)
        self.pool = MultiScalePooling(c.dim, c.pool_scales)
        self.classifier = ClassifierHead(self.pool.out_dim, c.dim, c.head_dim, c.num_classes, c.drop,
                                         c.cosine_scale if c.head == "cosine" else None)  # fmt: skip
        keep = torch.ones(N_MODEL_POINTS, 1)
        for hand in HANDS:
            if not c.hand_points:  # the wrist stays: where the hand is
                keep[MODEL_GROUPS[hand].start + 1 : MODEL_GROUPS[hand].stop] = 0.0
        if not c.lips:
            keep[MODEL_GROUPS["lips"]] = 0.0
        self.register_buffer("point_mask", keep, persistent=False)  # b t p 2 * (p 1)
        read = torch.tensor([c.lips or name != "lips" for name in MODEL_GROUP_NAMES])
        self.register_buffer("group_mask", read, persistent=False)
        self.apply(self._init)

    def _tokens(self, x, hands, mask, groups, positions):
        """The front: frames -> tokens (b n d), which tokens hold a frame, and their times."""
        if self.config.inputs == "invariant":
            return self.front(x, hands, mask, groups, positions)
        frame_rot = rotary(positions, self.config.group_dim // 2)
        streams = self.cross(self.embedding(x, hands, groups), key_mask(mask), frame_rot)
        return self.patch(streams, mask, positions)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)

    def forward(
        self,
        x: torch.Tensor,  # b t p 2
        hands: torch.Tensor,  # b t 2 f (handshape features of the left and right hand)
        mask: torch.Tensor,  # b t bool
        groups: torch.Tensor,  # b t 4 bool
        positions: torch.Tensor,  # b t float
    ) -> dict[str, torch.Tensor]:
        c = self.config
        x = x * mask[..., None, None] * self.point_mask  # padding (and what is not read) never matters
        hands = hands * mask[..., None, None]
        groups = groups & mask[..., None] & self.group_mask
        h, tok_mask, tok_pos = self._tokens(x, hands, mask, groups, positions)  # b n d
        rot = rotary(tok_pos, c.dim // c.num_heads)
        local = band_mask(tok_mask, c.local_window)
        for block in self.local_blocks:
            h = block(h, local, rot)
        h_local = h
        h = self.conv(h, tok_mask)
        h_conv = h
        glob = key_mask(tok_mask)
        for block in self.global_blocks:
            h = block(h, glob, rot)
        h = self.norm(h)
        intermediate = [masked_mean(h_local, tok_mask), masked_mean(h_conv, tok_mask)]
        return self.classifier(self.pool(h, tok_mask), intermediate)
