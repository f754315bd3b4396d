"""The run folder: one training run's files, the states it goes through, its writer and its reader.

A run folder holds:

    config.yaml          the resolved TrainConfig
    metrics.jsonl        one JSON object per line: {"type": "step" | "epoch", ...}
    status.json          the run's state (a RunState), the writer's pid, progress, a message
    resume.safetensors   the training state of the last step saved (for --resume)
    model/               the selected model so far (model.safetensors + model.json)
    eval/                the final validation report (report.json, confusion.png)
    train.log            the process's output, when the app started the run

``RunLog`` writes metrics and status (rank 0 of a run); ``Run`` reads a folder, and sees when the
process behind a "running" status has gone. ``jobs`` launches runs; ``train`` writes them.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import yaml

CONFIG = "config.yaml"
METRICS = "metrics.jsonl"
STATUS = "status.json"
RESUME = "resume.safetensors"
MODEL_DIR = "model"
EVAL_DIR = "eval"
REPORT = "report.json"
CONFUSION = "confusion.png"
LOG = "train.log"


class RunState(str, Enum):
    """Where a run is. Stored as its value in status.json."""

    STARTING = "starting"  # the process was launched, train() has not written yet
    PREPARING = "preparing"  # opening data, building caches
    RUNNING = "running"
    STOPPED = "stopped"  # asked to stop: saved, can resume
    INTERRUPTED = "interrupted"  # the process is gone without saying so (killed, crashed)
    FAILED = "failed"  # train() raised; the message says why
    FINISHED = "finished"
    EARLY_STOPPED = "early-stopped"  # no improvement for `patience` epochs
    UNKNOWN = "unknown"  # no readable status

    def __str__(self) -> str:
        return self.value


ACTIVE = frozenset({RunState.STARTING, RunState.PREPARING, RunState.RUNNING})
RESUMABLE = frozenset({RunState.STOPPED, RunState.INTERRUPTED, RunState.FAILED})
DONE = frozenset({RunState.FINISHED, RunState.EARLY_STOPPED})


def process_alive(pid: int | None) -> bool:
    """Whether a process is running (a zombie is not; a finished child of ours is reaped)."""
    if not pid:
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)  # our own child: reap it once it has ended
        return done == 0
    except ChildProcessError:
        pass  # not our child: ask the system
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a zombie is not running
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


class RunLog:
    """The writer: metrics.jsonl and status.json of a run (only where `enabled`: rank 0)."""

    def __init__(self, out: Path, enabled: bool = True, processes: int = 1) -> None:
        self.out, self.enabled, self.processes = Path(out), enabled, processes
        self._file = open(self.out / METRICS, "a") if enabled else None  # noqa: SIM115

    def metric(self, **record) -> None:
        if self._file is not None:
            self._file.write(json.dumps(dict(record, time=time.time())) + "\n")
            self._file.flush()

    def status(self, state: RunState, **info) -> None:
        if self.enabled:
            info = dict(info, state=RunState(state).value, pid=os.getpid(), processes=self.processes,
                        updated=time.time())  # fmt: skip
            _write_json(self.out / STATUS, info)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    @staticmethod
    def launched(out: Path, pid: int) -> None:
        """The launcher's first status, before the process writes its own."""
        _write_json(
            Path(out) / STATUS, {"state": RunState.STARTING.value, "pid": pid, "updated": time.time()}
        )


@dataclass
class Run:
    """The reader: one run folder, as the app shows it."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    def status(self) -> dict:
        """status.json, with `state` as a RunState; a run whose process is gone is INTERRUPTED."""
        try:
            status = json.loads((self.path / STATUS).read_text())
            state = RunState(status.get("state"))
        except (OSError, ValueError):
            status, state = {}, RunState.UNKNOWN
        if state in ACTIVE and not process_alive(status.get("pid")):
            state = RunState.INTERRUPTED
            status["message"] = "the training process is gone; resume to continue from the last checkpoint"
        status["state"] = state
        return status

    @property
    def state(self) -> RunState:
        return self.status()["state"]

    @property
    def running(self) -> bool:
        return self.state in ACTIVE

    def metrics(self) -> tuple[list[dict], list[dict]]:
        """(step records, epoch records) of metrics.jsonl; a line being written is skipped."""
        steps: list[dict] = []
        epochs: list[dict] = []
        try:
            lines = (self.path / METRICS).read_text().splitlines()
        except OSError:
            return steps, epochs
        for line in lines:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("type") == "step":
                steps.append(r)
            elif r.get("type") == "epoch":
                epochs.append(r)
        return steps, epochs

    def config(self) -> dict:
        try:
            return yaml.safe_load((self.path / CONFIG).read_text()) or {}
        except (OSError, yaml.YAMLError):
            return {}

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = (self.path / LOG).read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.replace("\r", "\n").splitlines()[-lines:])

    def report(self) -> dict | None:
        try:
            return json.loads((self.path / EVAL_DIR / REPORT).read_text())
        except (OSError, ValueError):
            return None

    @property
    def model_dir(self) -> Path:
        return self.path / MODEL_DIR

    @property
    def resume_file(self) -> Path:
        return self.path / RESUME

    @property
    def can_resume(self) -> bool:
        return self.resume_file.exists() and self.state in RESUMABLE

    def stop(self) -> bool:
        """Ask the training process to save and stop (SIGTERM); False when it is not running."""
        pid = self.status().get("pid")
        if pid is None or not process_alive(pid):
            return False
        os.kill(int(pid), signal.SIGTERM)
        return True


def drop_metrics_after(out: Path, step: int) -> int:
    """Before a resume: remove metrics.jsonl records of steps after the checkpoint (a stopped or
    killed run logged them; they will be done, and logged, again). Returns how many went."""
    path = Path(out) / METRICS
    if not path.is_file():
        return 0
    kept, dropped = [], 0
    for line in path.read_text().splitlines():
        try:
            late = json.loads(line).get("step", 0) > step
        except ValueError:
            late = True  # a line cut short by the kill
        if late:
            dropped += 1
        else:
            kept.append(line)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(x + "\n" for x in kept))
    tmp.replace(path)
    return dropped


def list_runs(root: Path) -> list[Run]:
    """The run folders under `root`, most recently updated first."""
    if not root.is_dir():
        return []
    runs = [Run(p) for p in root.iterdir() if p.is_dir() and (p / STATUS).exists()]
    return sorted(runs, key=lambda r: (r.path / STATUS).stat().st_mtime, reverse=True)
