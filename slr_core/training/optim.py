"""What one optimisation step is made of: the learning-rate schedule (``get_lr``), the losses (focal
with label smoothing, auxiliary, confidence, supervised contrastive), MixUp and the optimiser."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .config import TrainConfig


def get_lr(step: int, cfg: TrainConfig, steps_per_epoch: int) -> float:
    """Linear warm-up to lr, then either cycles of `cycle_epochs` that each fall from a peak to
    min_lr along a cosine and restart at half the previous peak (cyclic), or one cosine decay to
    min_lr over the whole run (cosine). A run of a whole number of cycles ends at min_lr."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    step -= cfg.warmup_steps
    if cfg.schedule == "cosine":
        total = max(1, cfg.epochs * steps_per_epoch - cfg.warmup_steps)
        frac = min(step / total, 1.0)
        peak = cfg.lr
    else:
        cycle = max(2, cfg.cycle_epochs * steps_per_epoch)
        first = max(2, cycle - cfg.warmup_steps)  # the warm-up is part of the first cycle
        if step < first:
            k, pos, cycle = 0, step, first
        else:
            k, pos = divmod(step - first, cycle)
            k += 1
        frac = pos / cycle
        peak = cfg.min_lr + (cfg.lr - cfg.min_lr) * 0.5**k
    return cfg.min_lr + 0.5 * (peak - cfg.min_lr) * (1 + math.cos(math.pi * frac))


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float, smoothing: float) -> torch.Tensor:
    """Focal loss (https://arxiv.org/abs/1708.02002) on soft targets, with label smoothing."""
    c = logits.shape[-1]
    target = target * (1 - smoothing) + smoothing / c
    logp = F.log_softmax(logits.float(), dim=-1)
    weight = (1 - logp.exp()).pow(gamma) if gamma > 0 else 1.0
    return -(target * weight * logp).sum(-1).mean()


def supcon_loss(embedding: torch.Tensor, classes: torch.Tensor, temperature: float) -> torch.Tensor:
    """Supervised contrastive loss over a batch: for each row with another row of its class, minus the
    mean log-probability of those rows among all the others, by cosine similarity / temperature."""
    z = F.normalize(embedding.float(), dim=-1)
    self_mask = torch.eye(len(z), dtype=torch.bool, device=z.device)
    logits = (z @ z.T / temperature).masked_fill(self_mask, float("-inf"))
    logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    positive = (classes[:, None] == classes[None, :]) & ~self_mask
    anchors = positive.any(1)
    if not anchors.any():
        return embedding.sum() * 0.0
    mean_pos = (logp.masked_fill(~positive, 0.0).sum(1) / positive.sum(1).clamp(min=1))[anchors]
    return -mean_pos.mean()


def training_loss(out: dict, target: torch.Tensor, cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Focal loss + auxiliary focal losses + the confidence head's BCE (+ the supervised contrastive
    loss when set); and which rows were right."""
    logits = out["logits"].float()
    loss = focal_loss(logits, target, cfg.focal_gamma, cfg.label_smoothing)
    aux = [focal_loss(a.float(), target, cfg.focal_gamma, cfg.label_smoothing) for a in out["aux_logits"]]
    right = (logits.argmax(-1) == target.argmax(-1)).float()
    conf = F.binary_cross_entropy(out["confidence"].float().clamp(1e-6, 1 - 1e-6), right)
    total = loss + cfg.aux_weight * sum(aux) / max(len(aux), 1) + cfg.confidence_weight * conf
    if cfg.supcon_weight > 0:
        total = total + cfg.supcon_weight * supcon_loss(
            out["embedding"], target.argmax(-1), cfg.supcon_temperature
        )
    return total, right


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW; no weight decay on norms, biases, residual weights and learned embeddings (1-d)."""
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        (decay if p.ndim >= 2 and "missing" not in name else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.98), fused=False)


def mixup(batch, num_classes: int, cfg: TrainConfig, rng: np.random.Generator):
    """MixUp (https://arxiv.org/abs/1710.09412) on preprocessed batches; returns soft targets."""
    x, hands, mask, groups, pos, y = batch
    target = F.one_hot(y, num_classes).float()
    if cfg.mixup_prob <= 0 or rng.random() >= cfg.mixup_prob:
        return (x, hands, mask, groups, pos), target
    lam = float(rng.beta(cfg.mixup_alpha, cfg.mixup_alpha))
    lam = max(lam, 1 - lam)  # the first sample stays the main one
    perm = torch.from_numpy(rng.permutation(len(y))).to(y.device)
    x = lam * x + (1 - lam) * x[perm]
    hands = lam * hands + (1 - lam) * hands[perm]
    both = mask & mask[perm]
    pos = torch.where(both, lam * pos + (1 - lam) * pos[perm], torch.where(mask, pos, pos[perm]))
    inputs = (x, hands, mask | mask[perm], groups | groups[perm], pos)
    return inputs, lam * target + (1 - lam) * target[perm]
