"""Training runs started from the app: each is `slr train` in its own process and run folder, so the
page stays responsive, and a reload (or a new browser session) finds the run again by its folder
(read through ``runs.Run``).

Stop sends SIGTERM, which train() turns into a checkpoint and a clean exit; resume starts
`slr train --resume` on the same folder with as many processes as before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ..base.errors import ConfigError
from ..base.settings import REPO
from ..base.text import slug
from .config import TrainConfig
from .runs import LOG, Run, RunLog


def _launch(run_dir: Path, args: list[str], processes: int = 1) -> Run:
    cmd = [sys.executable, "-m", "slr_core.cli", "train", "--out", str(run_dir), "--quiet", *args]
    if processes > 1:  # DDP: torchrun starts one worker per GPU (gloo workers on a CPU)
        cmd[1:3] = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
                    "-m", "slr_core.cli"]  # fmt: skip
    env = dict(
        os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    with open(run_dir / LOG, "a") as log:  # the child keeps its own copy of the descriptor
        log.write(f"$ {' '.join(cmd)}\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=REPO, env=env, start_new_session=True)  # fmt: skip
    RunLog.launched(run_dir, proc.pid)
    return Run(run_dir)


def start_run(
    root: Path,
    name: str,
    data: list[str],
    preset: str = "small",
    epochs: int = 20,
    batch_size: int = 32,
    lr: float = 1e-3,
    device: str = "auto",
    extra: dict | None = None,
    processes: int = 1,
) -> Run:
    """Check the settings, then start `slr train` for them in the background (under torchrun when
    `processes` > 1: one DDP worker per GPU)."""
    folder = slug(name)
    if not folder:
        raise ConfigError("give the run a name (letters, digits, '-', '_')")
    if not data:
        raise ConfigError("choose at least one dataset")
    limit = max_processes(device)
    if not 1 <= processes <= limit:
        raise ConfigError(f"processes must be between 1 and {limit} for device {device!r}")
    cfg = TrainConfig(data=list(data), out=str(root / folder), preset=preset, epochs=epochs,
                      batch_size=batch_size, lr=lr, device=device, **(extra or {}))  # fmt: skip
    run_dir = Path(cfg.out)
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ConfigError(f"a run named {folder!r} exists already; choose another name or resume it")
    run_dir.mkdir(parents=True, exist_ok=True)
    args = ["--preset", cfg.preset, "--epochs", str(cfg.epochs), "--batch-size", str(cfg.batch_size),
            "--lr", str(cfg.lr), "--device", cfg.device, "--name", folder]  # fmt: skip
    for d in cfg.data:
        args += ["--data", d]
    for key, value in (extra or {}).items():
        args += ["--set", f"{key}={json.dumps(value)}"]
    return _launch(run_dir, args, processes)


def gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def max_processes(device: str) -> int:
    """How many DDP workers a device allows: one per GPU; on a CPU, one per core."""
    gpus = gpu_count()
    if device == "cuda" or (device == "auto" and gpus):
        return max(1, gpus)
    return max(1, os.cpu_count() or 1)


def resume_run(run: Run) -> Run:
    if run.running:
        raise ConfigError(f"{run.name} is running already")
    if not run.resume_file.exists():
        raise ConfigError(f"{run.name} has no checkpoint to resume from")
    # rank 0 records the number of processes in every status it writes; resume with as many
    return _launch(run.path, ["--resume"], int(run.status().get("processes", 1)))
