"""Small building blocks of the hierarchical transformer, one concept each.

Shape legend: b batch, t time (tokens), d features, h heads, c classes.
Masks are bool with True = a real frame; padded tokens never influence a real one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    """Root-mean-square layer norm (https://arxiv.org/abs/1910.07467), computed in fp32."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.float32:
            return F.rms_norm(x, self.weight.shape, self.weight, self.eps)
        return F.rms_norm(x.float(), self.weight.shape, self.weight.float(), self.eps).type_as(x)


class SwiGLU(nn.Module):
    """Gated feed-forward, SiLU gate (https://arxiv.org/abs/2002.05202)."""

    def __init__(self, dim: int, mlp_ratio: float = 2.0, drop: float = 0.0) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.gate_up = nn.Linear(dim, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(self.drop(F.silu(gate) * up))


# --- rotary position embedding (https://arxiv.org/abs/2104.09864), kept in fp32 -------------------

Rotary = tuple[torch.Tensor, torch.Tensor]  # (cos, sin), each (b, 1, t, head_dim)


def rotary(positions: torch.Tensor, head_dim: int, base: float = 10000.0) -> Rotary:
    """(b, t) positions -> cos and sin tables. Positions may be fractional (times in frames)."""
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, device=positions.device).float() / head_dim))
    angles = (positions.float()[..., None] * inv_freq)[:, None]  # b 1 t d/2
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, rot: Rotary) -> torch.Tensor:
    """Rotate (b, h, t, d) queries or keys (rotate-half form)."""
    cos, sin = rot
    x1, x2 = x.chunk(2, dim=-1)
    rotated = torch.cat([-x2, x1], dim=-1)
    if x.dtype != torch.float32:
        return (x.float() * cos + rotated.float() * sin).type_as(x)
    return x * cos + rotated * sin


class Attention(nn.Module):
    """Multi-head attention with optional rotary positions; self- or cross-attention."""

    def __init__(self, dim: int, num_heads: int = 4, drop: float = 0.0, rotary: bool = True) -> None:
        super().__init__()
        assert dim % num_heads == 0, "dim must be divisible by num_heads"
        self.num_heads = num_heads
        self.rotary = rotary
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(dim, 2 * dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)
        self.drop = drop

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.num_heads, d // self.num_heads).transpose(1, 2)  # b h t d

    def forward(
        self,
        x: torch.Tensor,  # b t d (queries)
        attn_mask: torch.Tensor,  # b 1|h t s bool, True = may attend
        rot: Rotary | None = None,
        context: torch.Tensor | None = None,  # b s d (keys/values), default x
    ) -> torch.Tensor:
        context = x if context is None else context
        q = self._heads(self.q(x))
        k, v = (self._heads(t) for t in self.kv(context).chunk(2, dim=-1))
        if self.rotary and rot is not None:
            q, k = apply_rotary(q, rot), apply_rotary(k, rot)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=self.drop if self.training else 0.0
        )
        b, h, t, d = y.shape
        return self.out(y.transpose(1, 2).reshape(b, t, h * d))


def key_mask(mask: torch.Tensor) -> torch.Tensor:
    """(b, t) frame mask -> (b, 1, 1, t) attention mask. A sample with no frame attends to its first
    token instead of nothing (which would give NaN); its output is discarded by the masked pooling."""
    mask = mask.clone()
    mask[:, 0] |= ~mask.any(dim=1)
    return mask[:, None, None, :]


def band_mask(mask: torch.Tensor, window: int) -> torch.Tensor:
    """Local attention: (b, t) -> (b, 1, t, t), keys within `window` tokens of the query."""
    t = mask.shape[1]
    idx = torch.arange(t, device=mask.device)
    band = (idx[None, :] - idx[:, None]).abs() <= window
    return key_mask(mask) & band[None, None]


class DropPath(nn.Module):
    """Stochastic depth per sample (https://arxiv.org/abs/1603.09382)."""

    def __init__(self, prob: float = 0.0) -> None:
        super().__init__()
        self.prob = prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.prob == 0.0:
            return x
        keep = torch.rand(x.shape[0], *([1] * (x.ndim - 1)), device=x.device) >= self.prob
        return x * keep / (1.0 - self.prob)


class Residual(nn.Module):
    """x + gamma * drop_path(fn(norm(x))) with a learnable per-channel residual weight."""

    def __init__(self, dim: int, fn: nn.Module, drop_path: float = 0.0, init: float = 0.1) -> None:
        super().__init__()
        self.norm = RMSNorm(dim)
        self.fn = fn
        self.gamma = nn.Parameter(torch.full((dim,), init))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        return x + self.drop_path(self.gamma * self.fn(self.norm(x), *args, **kwargs))


class TransformerBlock(nn.Module):
    """Pre-norm attention + SwiGLU, both with adaptive residual weights."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, drop: float, drop_path: float) -> None:
        super().__init__()
        self.attn = Residual(dim, Attention(dim, num_heads, drop), drop_path)
        self.ffn = Residual(dim, SwiGLU(dim, mlp_ratio, drop), drop_path)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor, rot: Rotary) -> torch.Tensor:
        return self.ffn(self.attn(x, attn_mask, rot))


class TemporalConv(nn.Module):
    """Gated depthwise temporal convolution for motion patterns (Conformer-style conv module).

    Padded tokens are zeroed before the convolution so they cannot leak into real ones.
    """

    def __init__(self, dim: int, kernel_size: int = 5, drop: float = 0.0) -> None:
        super().__init__()
        self.glu = nn.Linear(dim, 2 * dim)
        self.depthwise = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.out = nn.Linear(dim, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        a, g = self.glu(x).chunk(2, dim=-1)
        y = (a * torch.sigmoid(g)) * mask[..., None]
        y = self.depthwise(y.transpose(1, 2)).transpose(1, 2)  # b t d
        return self.out(self.drop(F.silu(y))) * mask[..., None]
