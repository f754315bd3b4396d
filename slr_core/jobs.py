"""Training runs started from the app: each is `slr train` in its own process and run folder, so the
page stays responsive, and a reload (or a new browser session) finds the run again by its folder.

The run folder is the whole interface: status.json and metrics.jsonl (written by train()),
train.log (the process's output), eval/ at the end. Stop sends SIGTERM, which train() turns into
a checkpoint and a clean exit; resume starts `slr train --resume` on the same folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from .app_state import REPO, slug
from .train import TrainConfig

_children: dict[int, subprocess.Popen] = {}  # processes this server started (polled to reap them)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a zombie is not running
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@dataclass
class Run:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    def status(self) -> dict:
        try:
            status = json.loads((self.path / "status.json").read_text())
        except (OSError, ValueError):
            status = {"state": "unknown"}
        if status.get("state") in ("starting", "preparing", "running") and not _alive(status.get("pid")):
            status["state"] = "interrupted"
            status["message"] = "the training process is gone; resume to continue from the last checkpoint"
        return status

    @property
    def running(self) -> bool:
        return self.status()["state"] in ("starting", "preparing", "running")

    def metrics(self) -> tuple[list[dict], list[dict]]:
        steps, epochs = [], []
        try:
            lines = (self.path / "metrics.jsonl").read_text().splitlines()
        except OSError:
            return steps, epochs
        for line in lines:
            try:
                r = json.loads(line)
            except ValueError:
                continue  # a line being written right now
            (steps if r.get("type") == "step" else epochs if r.get("type") == "epoch" else []).append(r)
        return steps, epochs

    def config(self) -> dict:
        try:
            return yaml.safe_load((self.path / "config.yaml").read_text()) or {}
        except (OSError, yaml.YAMLError):
            return {}

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = (self.path / "train.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.replace("\r", "\n").splitlines()[-lines:])

    def report(self) -> dict | None:
        try:
            return json.loads((self.path / "eval" / "report.json").read_text())
        except (OSError, ValueError):
            return None

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def can_resume(self) -> bool:
        return (self.path / "resume.safetensors").exists() and self.status()["state"] in (
            "stopped",
            "interrupted",
            "failed",
        )

    def stop(self) -> bool:
        """Ask the training process to save and stop (SIGTERM)."""
        pid = self.status().get("pid")
        if not _alive(pid):
            return False
        os.kill(pid, signal.SIGTERM)
        return True


def list_runs(root: Path) -> list[Run]:
    if not root.is_dir():
        return []
    runs = [Run(p) for p in root.iterdir() if p.is_dir() and (p / "status.json").exists()]
    return sorted(runs, key=lambda r: (r.path / "status.json").stat().st_mtime, reverse=True)


def _launch(run_dir: Path, args: list[str], processes: int = 1) -> Run:
    cmd = [sys.executable, "-m", "slr_core.cli", "train", "--out", str(run_dir), "--quiet", *args]
    if processes > 1:  # DDP: torchrun starts one worker per GPU (gloo workers on a CPU)
        cmd[1:3] = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
                    "-m", "slr_core.cli"]  # fmt: skip
    env = dict(
        os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    log = open(run_dir / "train.log", "a")  # noqa: SIM115 (the child owns it)
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO,
                            env=env, start_new_session=True)  # fmt: skip
    log.close()
    _children[proc.pid] = proc
    (run_dir / "status.json").write_text(
        json.dumps({"state": "starting", "pid": proc.pid, "updated": time.time()})
    )
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
        raise ValueError("give the run a name (letters, digits, '-', '_')")
    if not data:
        raise ValueError("choose at least one dataset")
    limit = max_processes(device)
    if not 1 <= processes <= limit:
        raise ValueError(f"processes must be between 1 and {limit} for device {device!r}")
    cfg = TrainConfig(data=list(data), out=str(root / folder), preset=preset, epochs=epochs,
                      batch_size=batch_size, lr=lr, device=device, **(extra or {}))  # fmt: skip
    run_dir = Path(cfg.out)
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ValueError(f"a run named {folder!r} exists already; choose another name or resume it")
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
        raise ValueError(f"{run.name} is running already")
    if not (run.path / "resume.safetensors").exists():
        raise ValueError(f"{run.name} has no checkpoint to resume from")
    # rank 0 records the number of processes in every status it writes; resume with as many
    return _launch(run.path, ["--resume"], int(run.status().get("processes", 1)))
