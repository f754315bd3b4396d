"""The processes of a run: DDP under torchrun (switched on by the RANK variable; rank 0 alone logs and
saves), the device, one decision shared by all ranks, predictions gathered from every rank, and the
stop flag that SIGINT/SIGTERM set."""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from ..base.errors import ConfigError
from ..recognition.predict import predict_loader


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


class StopFlag:
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


def should_stop(stop, ddp: Dist) -> bool:
    return broadcast(stop.is_set(), ddp)


def broadcast(flag: bool, ddp: Dist) -> bool:
    """One decision for all ranks (any rank asking to stop stops everyone)."""
    if not ddp.enabled:
        return bool(flag)
    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)
