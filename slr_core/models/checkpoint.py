"""Checkpoints as safetensors plus JSON: loading never unpickles anything.

A model folder holds ``model.safetensors`` (the weights; its header metadata carries the JSON
description: model config, labels, preprocessing version, rejection threshold, metrics, training
config) and ``model.json``, a readable copy of that description. The safetensors header is the
source of truth, so one atomic file replace publishes weights and description together.

Training state for ``--resume`` (weights, optimizer moments, position in the run) is a second
safetensors file of the same kind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..base import safefile
from ..base.errors import SLRError
from ..features.preprocess import PREPROCESS_VERSION
from .build import build_model
from .config import ModelConfig

FORMAT = "slr-checkpoint/1"
WEIGHTS = "model.safetensors"
DESCRIPTION = "model.json"


class CheckpointError(SLRError, ValueError):
    """A checkpoint that cannot be used; the message says which file and why."""


@dataclass
class LoadedModel:
    model: nn.Module  # SignTransformer or convnet.InvariantConvNet
    labels: list[str]
    meta: dict
    path: Path
    notes: list[str] = field(default_factory=list)  # things the user should know about the files

    @property
    def config(self) -> ModelConfig:
        config: ModelConfig = self.model.config  # type: ignore[assignment]  # every model of ours has one
        return config

    @property
    def threshold(self) -> float:
        return float(self.meta.get("threshold", 0.0))

    @property
    def name(self) -> str:
        return self.meta.get("name") or self.path.name


def _atomic_save(tensors: dict[str, torch.Tensor], metadata: dict, path: Path) -> None:
    safefile.write(path, tensors, metadata)


def _read(path: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    return safefile.read(path, CheckpointError, "checkpoint", FORMAT)


def describe(
    config: ModelConfig,
    labels: list[str],
    threshold: float = 0.0,
    metrics: dict | None = None,
    training: dict | None = None,
    name: str | None = None,
) -> dict:
    return {
        "format": FORMAT,
        "name": name,
        "model": config.to_dict(),
        "labels": list(labels),
        "preprocess_version": PREPROCESS_VERSION,
        "threshold": float(threshold),
        "metrics": metrics or {},
        "training": training or {},
    }


def save_model(folder: str | Path, model: torch.nn.Module, meta: dict) -> Path:
    """Write model.safetensors (atomically) and its readable model.json copy; returns the folder."""
    folder = Path(folder)
    net: Any = getattr(model, "module", model)  # unwrap DDP
    state = net.state_dict()
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"refusing to save a model with non-finite weights ({bad[0]} ...)")
    if len(meta["labels"]) != net.config.num_classes:
        raise CheckpointError(
            f"{len(meta['labels'])} labels for a model with {net.config.num_classes} outputs"
        )
    _atomic_save(state, meta, folder / WEIGHTS)
    tmp = folder / (DESCRIPTION + ".tmp")
    tmp.write_text(json.dumps(meta, indent=1))
    tmp.replace(folder / DESCRIPTION)
    return folder


def weights_path(path: str | Path) -> Path:
    path = Path(path)
    return path / WEIGHTS if path.is_dir() else path


def read_description(path: str | Path) -> dict:
    """The checkpoint's description without building the model (cheap; for listings)."""
    return _read(weights_path(path))[0]


def load_model(
    path: str | Path,
    device: str | torch.device = "cpu",
    expect_labels: list[str] | None = None,
) -> LoadedModel:
    """Load a model folder (or its .safetensors file), checking that everything matches."""
    file = weights_path(path)
    meta, tensors = _read(file)
    if meta.get("preprocess_version") != PREPROCESS_VERSION:
        raise CheckpointError(
            f"{file}: made for preprocessing version {meta.get('preprocess_version')}, this code has "
            f"version {PREPROCESS_VERSION}; retrain it or use a matching release"
        )
    try:
        config = ModelConfig.from_dict(meta["model"])
        labels = [str(x) for x in meta["labels"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{file}: its model description does not fit this code ({exc})") from None
    if len(labels) != config.num_classes:
        raise CheckpointError(f"{file}: {len(labels)} labels for a model with {config.num_classes} outputs")
    if expect_labels is not None and list(expect_labels) != labels:
        diff = sorted(set(expect_labels) ^ set(labels))[:5]
        raise CheckpointError(f"{file}: its labels differ from the expected ones (e.g. {diff})")
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(
            f"{file}: {len(bad)} weight tensor(s) hold NaN or infinite values ({bad[0]} ...)"
        )
    model = build_model(config)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise CheckpointError(f"{file}: weights do not match its model config ({first[0]} ...)") from None
    model.to(device).eval()
    return LoadedModel(model, labels, meta, Path(path), _description_notes(file, meta))


def _description_notes(file: Path, meta: dict) -> list[str]:
    """A readable model.json that was edited is ignored: say so (the weights' own copy counts)."""
    readable = file.parent / DESCRIPTION
    try:
        copy = json.loads(readable.read_text()) if readable.is_file() else meta
    except (OSError, ValueError):
        return [f"{readable} is not valid JSON; the description inside {file.name} is the one used"]
    if copy != meta:
        changed = sorted(k for k in set(copy) | set(meta) if copy.get(k) != meta.get(k))
        return [f"{readable} differs from the description inside {file.name} ({', '.join(changed)}); the copy "
                f"inside {file.name} is the one used: edits to {DESCRIPTION} change nothing"]  # fmt: skip
    return []


# --- training state for --resume ------------------------------------------------------------------


def save_training_state(
    path: str | Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    meta: dict,
    scaler: torch.amp.GradScaler | None = None,
) -> None:
    """Weights, optimizer moments and position in the run, in one atomic safetensors file."""
    model = getattr(model, "module", model)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for idx, state in opt["state"].items():
        for key, value in state.items():
            tensors[f"optim.{idx}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    meta = dict(meta, format=FORMAT, param_groups=opt["param_groups"])
    if scaler is not None and scaler.is_enabled():
        meta["scaler"] = {k: float(v) if isinstance(v, float) else v for k, v in scaler.state_dict().items()}
    _atomic_save(tensors, meta, Path(path))


def read_resume_step(path: str | Path) -> int:
    """The global step a training state was saved at (its header only)."""
    meta, _ = _read_header(Path(path))
    return int(meta.get("global_step", 0))


def _read_header(path: Path) -> tuple[dict, None]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            return json.loads((f.metadata() or {}).get("slr", "{}")), None
    except Exception as exc:
        raise CheckpointError(f"{path}: not a readable training state ({exc})") from None


def load_training_state(
    path: str | Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None = None,
) -> dict:
    meta, tensors = _read(Path(path))
    model = getattr(model, "module", model)
    weights = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{path}: the saved run does not match this model ({str(exc).splitlines()[0]})"
        ) from None
    state: dict[int, dict] = {}
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, idx, key = k.split(".", 2)
            state.setdefault(int(idx), {})[key] = v
    try:
        optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"{path}: optimizer state does not match ({exc})") from None
    if scaler is not None and "scaler" in meta:
        scaler.load_state_dict(meta["scaler"])
    return meta
