"""TrainConfig: every setting of a training run, read from YAML and the command line, written beside
the run (config.yaml) and stored in its checkpoints; and TrainingError."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from ..base.errors import ConfigError, SLRError
from ..features.augment import AugmentConfig
from ..models.config import PRESETS, ModelConfig


class TrainingError(SLRError, RuntimeError):
    """Training cannot go on (NaN loss, out of memory, ...); checkpoints on disk are kept."""


@dataclass
class TrainConfig:
    data: list[str] = field(default_factory=list)
    out: str = "runs/latest"
    val_data: list[str] = field(default_factory=list)
    folds: int = 5
    fold: int = 0
    fold_data: list[str] = field(
        default_factory=list
    )  # the datasets split into folds (empty: all that can be)
    # datasets whose training sequences go into the model's bank of examples (recognition.bank); only
    # data whose licence lets examples derived from it travel with the model
    bank_data: list[str] = field(default_factory=list)
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
    person_balance: float = 0.0  # 1: within a class, every person drawn equally often; 0: every sequence
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
        if isinstance(self.fold_data, str):
            self.fold_data = [self.fold_data]
        if isinstance(self.bank_data, str):
            self.bank_data = [self.bank_data]
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
