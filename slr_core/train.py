"""train(): the one training loop, for the `slr train` command and the training page.

CPU, one GPU (automatic mixed precision) or many GPUs under torchrun (DDP is switched on by the
RANK variable torchrun sets; rank 0 alone logs and saves). Focal loss with label smoothing plus
auxiliary losses, MixUp, AdamW without decay on norms and biases, gradient clipping, a cyclic
(or cosine) learning rate with warm-up, participant-disjoint validation, early stopping, an
atomic checkpoint every epoch and an exact --resume.

The run folder it writes (config, metrics, status, resume state, model, evaluation) is described
in ``runs``. The loop is cut into named steps: ``_build`` (data, model, loaders), ``_train_epoch``
(with ``_step``), ``_validate`` and ``_end_epoch`` (select, save, log), over a ``Trainer`` that
holds what they share and a ``LoopState`` that a resume restores.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
import yaml
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .augment import AugmentConfig
from .checkpoint import (
    describe,
    load_model,
    load_training_state,
    read_resume_step,
    save_model,
    save_training_state,
)
from .data import DatasetError
from .errors import ConfigError, SLRError
from .evaluate import choose_threshold, evaluate_arrays, write_report
from .model import PRESETS, ModelConfig, build_model, count_parameters
from .predict import predict_loader
from .runs import CONFIG, EVAL_DIR, MODEL_DIR, RESUME, RunLog, RunState, drop_metrics_after
from .trainset import EpochSampler, SequenceSet, Split, TrainingData, prepare_data, sample_weights


class TrainingError(SLRError, RuntimeError):
    """Training cannot go on (NaN loss, out of memory, ...); checkpoints on disk are kept."""


@dataclass
class TrainConfig:
    data: list[str] = field(default_factory=list)
    out: str = "runs/latest"
    val_data: list[str] = field(default_factory=list)
    folds: int = 5
    fold: int = 0
    unknown_val_fraction: float = 0.5
    sign_map: str | None = None
    cache_dir: str | None = None
    name: str | None = None
    # model
    preset: str = "base"
    model: dict = field(default_factory=dict)  # ModelConfig overrides on top of the preset
    augment: dict = field(default_factory=dict)  # AugmentConfig overrides
    # optimisation
    epochs: int = 60
    batch_size: int = 64
    samples_per_epoch: int = 0  # 0: the size of the training split
    lr: float = 1e-3
    min_lr: float = 1e-5
    weight_decay: float = 0.05
    warmup_steps: int = 100
    schedule: str = "cyclic"  # cyclic | cosine
    cycle_epochs: int = 10
    grad_clip: float = 1.0
    mixup_prob: float = 0.5
    mixup_alpha: float = 0.4
    focal_gamma: float = 2.0
    label_smoothing: float = 0.1
    aux_weight: float = 0.3
    confidence_weight: float = 0.1
    balance: float = 1.0  # 1: every class drawn equally often; 0: as often as in the data
    unknown_share: float = 0.1
    # Supervised contrastive loss (https://arxiv.org/abs/2004.11362) on the pooled embedding: each drawn
    # clip comes `views` times in a row, each differently altered, and rows of one class are pulled
    # together, other classes pushed apart. 0: off (the default recipe).
    views: int = 1
    supcon_weight: float = 0.0
    supcon_temperature: float = 0.1
    patience: int = 20  # epochs without improvement before stopping
    monitor: str = "top1"  # top1 | macro_f1 (validation)
    select: str = "best"  # best: keep the best validation epoch; last: keep the last epoch
    # machinery
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    amp: bool = True
    workers: int = 1
    seed: int = 0
    log_every: int = 10
    resume: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.data, str):
            self.data = [self.data]
        if isinstance(self.val_data, str):
            self.val_data = [self.val_data]
        problems = []
        if self.epochs < 1:
            problems.append("epochs must be at least 1")
        if self.batch_size < 1:
            problems.append("batch_size must be at least 1")
        if not (0 < self.lr < 1):
            problems.append("lr must be between 0 and 1")
        if self.schedule not in ("cyclic", "cosine"):
            problems.append("schedule must be cyclic or cosine")
        if self.preset not in PRESETS:
            problems.append(f"preset must be one of {', '.join(PRESETS)}")
        if self.monitor not in ("top1", "macro_f1"):
            problems.append("monitor must be top1 or macro_f1")
        if self.select not in ("best", "last"):
            problems.append("select must be best or last")
        if self.views < 1 or self.batch_size % self.views:
            problems.append("views must be at least 1 and divide batch_size")
        if self.supcon_weight < 0 or self.supcon_temperature <= 0:
            problems.append("supcon_weight must be at least 0 and supcon_temperature above 0")
        if not 0 <= self.fold < max(self.folds, 1):
            problems.append(f"fold must be in 0..{self.folds - 1}")
        for group, known in (("model", ModelConfig), ("augment", AugmentConfig)):
            names = {f.name for f in fields(known)}
            unknown = sorted(set(getattr(self, group)) - names)
            if unknown:
                problems.append(
                    f"{group}.{unknown[0]} is not a {group} setting (known: {', '.join(sorted(names))})"
                )
        if problems:
            raise ConfigError("; ".join(problems))

    def model_config(self, num_classes: int) -> ModelConfig:
        return ModelConfig(**{**PRESETS[self.preset], **self.model, "num_classes": num_classes})

    def augment_config(self) -> AugmentConfig:
        return AugmentConfig(**self.augment)


def load_config(path: str | Path | None = None, overrides: dict | None = None) -> TrainConfig:
    """A TrainConfig from a YAML file, then `overrides` (dotted keys like 'model.dim' allowed)."""
    values: dict = {}
    if path:
        try:
            values = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: not a readable YAML config ({exc})") from None
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: a config must be a mapping of settings")
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        head, _, rest = key.partition(".")
        if rest:
            values.setdefault(head, {})[rest] = value
        else:
            values[key] = value
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    return TrainConfig(**values)


# --- helpers ---------------------------------------------------------------------------------------


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device_kind: str) -> Dist:
    """DDP when torchrun's RANK variable is set: NCCL on GPUs, gloo on CPUs."""
    if "RANK" not in os.environ:
        return Dist()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_kind == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError("device 'cuda' was asked for, but no CUDA GPU is available; use --device cpu")
        return torch.device(name if ":" in name else f"cuda:{local_rank}")
    if name != "cpu":
        raise ConfigError(f"unknown device {name!r}; use auto, cpu or cuda")
    return torch.device("cpu")


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


class _StopFlag:
    """Set by SIGINT/SIGTERM (the training page's Stop) or by a caller; checked between steps."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._old: dict = {}

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, lambda *_: self.event.set())

    def restore(self) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def predict_split(model, loader, device, autocast, ddp: Dist) -> tuple[np.ndarray, np.ndarray]:
    """Targets and class probabilities over a validation loader (gathered from every rank)."""
    y, p = predict_loader(model, loader, device, autocast)
    if ddp.enabled:
        gathered: list = [None] * ddp.world
        dist.all_gather_object(gathered, (y, p))
        y = np.concatenate([g[0] for g in gathered])
        p = np.concatenate([g[1] for g in gathered if len(g[1])])
    return y, p


# --- the loop --------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    state: RunState  # FINISHED | EARLY_STOPPED | STOPPED
    epochs_done: int
    best: dict
    model_dir: Path
    run_dir: Path


@dataclass
class LoopState:
    """Where the loop is; saved in resume.safetensors (its fields are the saved keys)."""

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    best: dict | None = None
    best_epoch: int = -1
    bad_epochs: int = 0
    # the epoch in progress so far, so that a resumed epoch reports the whole epoch's figures
    epoch_seen: int = 0
    epoch_loss_sum: float = 0.0
    epoch_correct: int = 0
    epoch_seconds: float = 0.0


@dataclass
class EpochStats:
    t0: float = field(default_factory=time.time)
    seen: int = 0
    loss_sum: float = 0.0
    correct: int = 0
    last_loss: float = 0.0  # the loss of the latest step

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.seen, 1)

    @property
    def acc(self) -> float:
        return self.correct / max(self.seen, 1)


@dataclass
class Trainer:
    """Everything one run's steps share: settings, process group, data, model and optimiser."""

    cfg: TrainConfig
    ddp: Dist
    device: torch.device
    out: Path
    log: RunLog
    data: TrainingData
    mcfg: ModelConfig
    model: torch.nn.Module
    net: torch.nn.Module  # the model, wrapped in DDP when distributed
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    amp_dtype: torch.dtype
    use_amp: bool
    sampler: EpochSampler
    train_set: SequenceSet
    val_loader: DataLoader  # this rank's share of the validation split
    full_val_loader: DataLoader  # all of it (rank 0 chooses the threshold on it)
    loader_args: dict
    steps_per_epoch: int
    meta: dict  # name and training description stored with every saved model
    state: LoopState = field(default_factory=LoopState)

    @property
    def resume_file(self) -> Path:
        return self.out / RESUME

    def autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.use_amp)

    def save_state(self) -> None:
        meta = dict(asdict(self.state), labels=self.data.labels, config=asdict(self.cfg))
        save_training_state(self.resume_file, self.net, self.optimizer, meta, self.scaler)


def train(cfg: TrainConfig, stop: threading.Event | None = None, progress: bool = True) -> TrainResult:
    """Train a model as `cfg` says; returns when done, stopped early, or asked to stop."""
    device_kind = (
        "cuda"
        if cfg.device.startswith("cuda") or (cfg.device == "auto" and torch.cuda.is_available())
        else "cpu"
    )
    ddp = setup_distributed(device_kind)
    device = pick_device(cfg.device, ddp.local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    out = Path(cfg.out)
    if ddp.main:
        _check_run_folder(out, cfg.resume)
    if ddp.main and cfg.resume:
        drop_metrics_after(out, read_resume_step(out / RESUME))  # the steps after it will be done again
    log = RunLog(out, ddp.main, ddp.world)
    flag = _StopFlag()
    flag.install()
    stop = stop or flag.event
    try:
        trainer = _build(cfg, ddp, device, out, log, progress and ddp.main)
        result = _loop(trainer, stop, progress and ddp.main)
        if ddp.enabled:
            dist.barrier()  # every rank leaves together, after rank 0 has written the final model
        return result
    except Exception as exc:
        log.status(RunState.FAILED, message=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        flag.restore()
        log.close()
        if ddp.enabled and dist.is_initialized():
            dist.destroy_process_group()


def _check_run_folder(out: Path, resume: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if not resume and (out / RESUME).exists():
        raise ConfigError(f"{out} already holds a run; pass --resume to continue it, or choose another --out")
    if resume and not (out / RESUME).exists():
        raise ConfigError(f"{out}: nothing to resume (no {RESUME})")


def _build(cfg: TrainConfig, ddp: Dist, device, out: Path, log: RunLog, progress: bool) -> Trainer:
    """Data (caches built by rank 0 first), model, optimiser and loaders; the saved state on resume."""
    torch.manual_seed(cfg.seed)
    log.status(RunState.PREPARING, message="opening the data and building caches")
    if ddp.enabled and not ddp.main:
        dist.barrier()  # rank 0 builds the caches first
    data = prepare_data(
        cfg.data, cfg.val_data, cfg.folds, cfg.fold, cfg.unknown_val_fraction, cfg.sign_map,
        cfg.cache_dir, max(1, cfg.workers), progress,
    )  # fmt: skip
    if ddp.enabled and ddp.main:
        dist.barrier()
    mcfg = cfg.model_config(len(data.labels))
    model = build_model(mcfg).to(device)
    optimizer = make_optimizer(model, cfg)
    use_amp = cfg.amp and device.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    per_rank = max(1, (cfg.samples_per_epoch or len(data.train)) // ddp.world)
    weights = sample_weights(data.train.targets, data.labels, cfg.balance, cfg.unknown_share)
    loader_args = dict(num_workers=cfg.workers, pin_memory=device.type == "cuda", persistent_workers=False)
    val_loader, full_val_loader = _val_loaders(data, mcfg.length, ddp, max(cfg.batch_size, 128), loader_args)
    net: torch.nn.Module = model
    if ddp.enabled:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    trainer = Trainer(
        cfg, ddp, device, out, log, data, mcfg, model, net, optimizer, scaler, amp_dtype, use_amp,
        sampler=EpochSampler(weights, per_rank, cfg.seed, ddp.rank, ddp.world, cfg.views),
        train_set=SequenceSet(data.caches, data.train, mcfg.length, cfg.augment_config()),
        val_loader=val_loader, full_val_loader=full_val_loader, loader_args=loader_args,
        steps_per_epoch=math.ceil(per_rank / cfg.batch_size),
        meta={"name": cfg.name or out.resolve().name, "training": resolved_training(cfg, data)},
    )  # fmt: skip
    if cfg.resume:
        saved = load_training_state(trainer.resume_file, model, optimizer, scaler)
        if saved.get("labels") != data.labels:
            raise DatasetError(
                f"{trainer.resume_file}: the run was trained on other classes than this data has"
            )
        trainer.state = LoopState(**{k: saved[k] for k in asdict(LoopState()) if k in saved})
    if ddp.main:
        _announce(trainer)
    return trainer


def _val_loaders(data: TrainingData, length: int, ddp: Dist, batch_size: int, loader_args: dict):
    """This rank's share of the validation split (predictions are gathered), and the whole split."""
    split = data.val
    if ddp.enabled:
        split = Split(split.items[ddp.rank :: ddp.world], split.targets[ddp.rank :: ddp.world])
    shard = DataLoader(SequenceSet(data.caches, split, length), batch_size=batch_size, shuffle=False,
                       **loader_args)  # fmt: skip
    if not ddp.enabled:
        return shard, shard
    full = SequenceSet(data.caches, data.val, length)
    return shard, DataLoader(full, batch_size=batch_size, shuffle=False, **loader_args)


def _announce(t: Trainer) -> None:
    """Rank 0: write the resolved config and say what is about to be trained."""
    cfg, data = t.cfg, t.data
    resolved = dict(asdict(cfg), model=t.mcfg.to_dict(), augment=cfg.augment_config().to_dict())
    (t.out / CONFIG).write_text(yaml.safe_dump(resolved, sort_keys=False))
    for note in data.notes:
        print(f"note: {note}")
    print(
        f"{count_parameters(t.model) / 1e6:.2f}M parameters, {len(data.labels)} classes, "
        f"{len(data.train)} training / {len(data.val)} validation sequences, device {t.device}"
        + (f", {t.ddp.world} processes" if t.ddp.enabled else "")
    )


def _loop(t: Trainer, stop, progress: bool) -> TrainResult:
    """Epochs until the last one, early stopping, or a stop request."""
    cfg, state = t.cfg, t.state
    while state.epoch < cfg.epochs:
        stats = _train_epoch(t, stop, progress)
        if stats is None:  # asked to stop: the state is saved
            return TrainResult(RunState.STOPPED, state.epoch, state.best or {}, t.out / MODEL_DIR, t.out)
        metrics = _validate(t)
        _end_epoch(t, stats, metrics, progress)
        if _broadcast(state.bad_epochs >= cfg.patience, t.ddp):
            break
    result_state = RunState.EARLY_STOPPED if state.epoch < cfg.epochs else RunState.FINISHED
    if t.ddp.main:
        _finalize(t.out, t.device, t.full_val_loader, t.meta)
        t.log.status(result_state, epoch=state.epoch, epochs=cfg.epochs, best=state.best,
                     best_epoch=state.best_epoch + 1, message=f"best model in {t.out / MODEL_DIR}")  # fmt: skip
    return TrainResult(result_state, state.epoch, state.best or {}, t.out / MODEL_DIR, t.out)


def _train_epoch(t: Trainer, stop, progress: bool) -> EpochStats | None:
    """One epoch of steps from where the state is; None when asked to stop (after saving)."""
    cfg, state = t.cfg, t.state
    epoch = state.epoch
    t.sampler.set_epoch(epoch, state.step_in_epoch * cfg.batch_size)
    gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
    loader = DataLoader(t.train_set, batch_size=cfg.batch_size, sampler=t.sampler, generator=gen,
                        **t.loader_args)  # fmt: skip
    t.net.train()
    stats = EpochStats(time.time() - state.epoch_seconds, state.epoch_seen, state.epoch_loss_sum,
                       state.epoch_correct)  # fmt: skip
    bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not progress, leave=False,
               initial=state.step_in_epoch, total=t.steps_per_epoch)  # fmt: skip
    for batch in bar:
        lr = _step(t, batch, stats)
        if progress:
            bar.set_postfix(loss=f"{stats.loss:.3f}", acc=f"{stats.acc:.3f}", lr=f"{lr:.2e}")
        if state.global_step % cfg.log_every == 0:
            _log_step(t, stats, lr)
        if _should_stop(stop, t.ddp):
            state.epoch_seen, state.epoch_loss_sum, state.epoch_correct = (
                stats.seen,
                stats.loss_sum,
                stats.correct,
            )
            state.epoch_seconds = time.time() - stats.t0
            if t.ddp.main:
                t.save_state()
            t.log.status(RunState.STOPPED, epoch=epoch, epochs=cfg.epochs, step=state.global_step,
                         message="saved; continue with --resume")  # fmt: skip
            return None
    bar.close()
    return stats


def _step(t: Trainer, batch, stats: EpochStats) -> float:
    """One optimisation step; returns its learning rate."""
    cfg, state = t.cfg, t.state
    step = state.global_step
    # Every random choice of this step (dropout, MixUp) follows from (seed, step, rank).
    torch.manual_seed(cfg.seed * 7_919 + step * 104_729 + t.ddp.rank)
    step_rng = np.random.default_rng([cfg.seed, step, t.ddp.rank])
    lr = get_lr(step, cfg, t.steps_per_epoch)
    for group in t.optimizer.param_groups:
        group["lr"] = lr
    batch = [b.to(t.device, non_blocking=True) for b in batch]
    inputs, target = mixup(batch, len(t.data.labels), cfg, step_rng)
    try:
        with t.autocast():  # the forward pass in mixed precision; the losses in fp32
            out = t.net(*inputs)
        total, right = training_loss(out, target, cfg)
        if not torch.isfinite(total):
            raise TrainingError(
                f"the loss became {total.item()} at step {step} (epoch {state.epoch + 1}); nothing was saved "
                f"over the last good checkpoint. Lower --lr (now {cfg.lr}) or check the data"
            )
        t.optimizer.zero_grad(set_to_none=True)
        t.scaler.scale(total).backward()
        t.scaler.unscale_(t.optimizer)
        torch.nn.utils.clip_grad_norm_(t.net.parameters(), cfg.grad_clip)
        t.scaler.step(t.optimizer)
        t.scaler.update()
    except torch.OutOfMemoryError:
        raise TrainingError(
            f"out of memory on {t.device} at batch size {cfg.batch_size}; try --batch-size "
            f"{max(1, cfg.batch_size // 2)}. The checkpoints on disk are unchanged"
        ) from None
    n = len(target)
    stats.last_loss = total.item()
    stats.seen += n
    stats.loss_sum += stats.last_loss * n
    stats.correct += int(right.sum().item())
    state.global_step += 1
    state.step_in_epoch += 1
    return lr


def _log_step(t: Trainer, stats: EpochStats, lr: float) -> None:
    state = t.state
    t.log.metric(type="step", epoch=state.epoch + state.step_in_epoch / t.steps_per_epoch,
                 step=state.global_step, loss=stats.last_loss, lr=lr, train_acc=stats.acc,
                 samples_per_s=stats.seen * t.ddp.world / max(time.time() - stats.t0, 1e-6))  # fmt: skip
    t.log.status(RunState.RUNNING, epoch=state.epoch, epochs=t.cfg.epochs, step=state.global_step,
                 step_in_epoch=state.step_in_epoch, steps_per_epoch=t.steps_per_epoch)  # fmt: skip


def _validate(t: Trainer) -> dict:
    """Validation figures of this epoch (on rank 0; the other ranks only contribute predictions)."""
    y, probs = predict_split(t.net, t.val_loader, t.device, t.autocast, t.ddp)
    if not t.ddp.main:
        return {}
    rep = evaluate_arrays(y, probs, t.data.labels, threshold=0.0)
    val_loss = float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-9, 1)).mean())
    return {"top1": rep.top1, "top5": rep.top5, "macro_f1": rep.macro_f1, "loss": val_loss}


def _end_epoch(t: Trainer, stats: EpochStats, metrics: dict, progress: bool) -> None:
    """Select (best or last), save the model and the resume state, log the epoch (rank 0)."""
    cfg, state = t.cfg, t.state
    epoch = state.epoch
    state.epoch += 1
    state.step_in_epoch = 0
    state.epoch_seen, state.epoch_loss_sum, state.epoch_correct, state.epoch_seconds = 0, 0.0, 0, 0.0
    if not t.ddp.main:
        return
    improved = state.best is None or metrics[cfg.monitor] > state.best[cfg.monitor]
    if improved:
        state.best, state.best_epoch, state.bad_epochs = metrics, epoch, 0
    else:
        state.bad_epochs += 1
    if improved or cfg.select == "last":
        meta = describe(t.mcfg, t.data.labels, 0.0, metrics, **t.meta)
        save_model(t.out / MODEL_DIR, t.net, meta)
    t.save_state()
    t.log.metric(type="epoch", epoch=epoch + 1, step=state.global_step, train_loss=stats.loss,
                 train_acc=stats.acc, **{f"val_{k}": v for k, v in metrics.items()},
                 lr=get_lr(state.global_step, cfg, t.steps_per_epoch), improved=bool(improved),
                 seconds=time.time() - stats.t0)  # fmt: skip
    t.log.status(RunState.RUNNING, epoch=epoch + 1, epochs=cfg.epochs, step=state.global_step,
                 best=state.best, best_epoch=state.best_epoch + 1)  # fmt: skip
    if progress:
        tqdm.write(
            f"epoch {epoch + 1}: train loss {stats.loss:.3f} acc {stats.acc:.3f} | val top-1 "
            f"{metrics['top1']:.3f} top-5 {metrics['top5']:.3f} F1 {metrics['macro_f1']:.3f}"
            + (" *" if improved else "")
        )


def resolved_training(cfg: TrainConfig, data) -> dict:
    return {
        "data": [str(Path(d).resolve().name) for d in cfg.data],
        "val_data": [str(Path(d).resolve().name) for d in cfg.val_data],
        "folds": cfg.folds,
        "fold": cfg.fold,
        "train_sequences": len(data.train),
        "val_sequences": len(data.val),
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "seed": cfg.seed,
        "signers_per_sign": getattr(data, "signers", {}),
    }


def _should_stop(stop, ddp: Dist) -> bool:
    return _broadcast(stop.is_set(), ddp)


def _broadcast(flag: bool, ddp: Dist) -> bool:
    """One decision for all ranks (any rank asking to stop stops everyone)."""
    if not ddp.enabled:
        return bool(flag)
    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def _finalize(out: Path, device, val_loader, meta_common: dict) -> None:
    """Choose the rejection threshold on validation for the selected model, store it, write the report."""
    best = load_model(out / MODEL_DIR, device)
    y, probs = predict_split(best.model, val_loader, device, contextlib.nullcontext, Dist())
    threshold = choose_threshold(y, probs, best.labels)
    report = evaluate_arrays(y, probs, best.labels, threshold)
    metrics = dict(best.meta.get("metrics", {}), open_set=report.open_set)
    meta = describe(best.config, best.labels, threshold, metrics, **meta_common)
    save_model(out / MODEL_DIR, best.model, meta)
    write_report(report, out / EVAL_DIR, {"split": "validation", "threshold": threshold})
