"""What one training run's steps share (``Trainer``: settings, processes, data, model, optimiser,
loaders) and how it is built (``build``), with the loop's position that a resume restores
(``LoopState``)."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import yaml
from torch.utils.data import DataLoader

from ..base.errors import ConfigError
from ..datasets.data import DatasetError
from ..models.build import build_model, count_parameters
from ..models.checkpoint import load_training_state, save_training_state
from ..models.config import ModelConfig
from .config import TrainConfig
from .distributed import Dist
from .optim import make_optimizer
from .runs import CONFIG, RESUME, RunLog, RunState
from .trainset import EpochSampler, SequenceSet, Split, TrainingData, prepare_data, sample_weights


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


def check_run_folder(out: Path, resume: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if not resume and (out / RESUME).exists():
        raise ConfigError(f"{out} already holds a run; pass --resume to continue it, or choose another --out")
    if resume and not (out / RESUME).exists():
        raise ConfigError(f"{out}: nothing to resume (no {RESUME})")


def build(cfg: TrainConfig, ddp: Dist, device, out: Path, log: RunLog, progress: bool) -> Trainer:
    """Data (caches built by rank 0 first), model, optimiser and loaders; the saved state on resume."""
    torch.manual_seed(cfg.seed)
    log.status(RunState.PREPARING, message="opening the data and building caches")
    if ddp.enabled and not ddp.main:
        dist.barrier()  # rank 0 builds the caches first
    data = prepare_data(
        cfg.data, cfg.val_data, cfg.folds, cfg.fold, cfg.unknown_val_fraction, cfg.sign_map,
        cfg.cache_dir, max(1, cfg.workers), progress, cfg.fold_data,
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
    people = (
        np.array([f"{c}:{data.people[c][s]}" for c, s in data.train.items]) if cfg.person_balance else None
    )
    weights = sample_weights(data.train.targets, data.labels, cfg.balance, cfg.unknown_share, people,
                             cfg.person_balance)  # fmt: skip
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
        announce(trainer)
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


def announce(t: Trainer) -> None:
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


def resolved_training(cfg: TrainConfig, data) -> dict:
    return {
        "data": [str(Path(d).resolve().name) for d in cfg.data],
        "val_data": [str(Path(d).resolve().name) for d in cfg.val_data],
        "folds": cfg.folds,
        "fold": cfg.fold,
        "fold_data": [str(Path(d).resolve().name) for d in cfg.fold_data],
        "train_sequences": len(data.train),
        "val_sequences": len(data.val),
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "seed": cfg.seed,
        "signers_per_sign": getattr(data, "signers", {}),
        "people_per_sign": getattr(data, "by_source", {}),  # per sign: people per dataset folder
    }
