"""The training loop on real sequences: end to end, exact resume, DDP with 2 real processes, and
failures that must not cost a checkpoint."""

import json
import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from slr_core.base.errors import ConfigError
from slr_core.cli import main as slr
from slr_core.datasets.data import DatasetError
from slr_core.models.checkpoint import load_model
from slr_core.training.config import TrainConfig, TrainingError, load_config
from slr_core.training.loop import train
from slr_core.training.optim import supcon_loss
from slr_core.training.trainset import EpochSampler

from .conftest import REPO, SIGN_MAP, SUBSET, needs_shared, wait_for_state

pytestmark = needs_shared


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    """48 real asl-signs sequences (hello, thankyou) of 6 participants, copied to a temp folder."""
    root = tmp_path_factory.mktemp("small")
    table = pd.read_csv(SUBSET / "train.csv")
    keep = sorted(table["participant_id"].unique())[:6]
    table = table[table["participant_id"].isin(keep)].groupby(["participant_id", "sign"]).head(4)
    for p in table["path"]:
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SUBSET / p, root / p)
    table.to_csv(root / "train.csv", index=False)
    shutil.copy(SIGN_MAP, root / SIGN_MAP.name)
    return root


def config(data, out, **kw) -> TrainConfig:
    base = dict(data=[str(data)], out=str(out), preset="tiny", epochs=2, batch_size=16, samples_per_epoch=64,
                folds=3, warmup_steps=2, workers=0, cache_dir=str(out.parent / "cache"), log_every=1)  # fmt: skip
    return TrainConfig(**{**base, **kw})


class StopAfter:
    """A stop flag that turns on after `n` checks (the loop checks once per step)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def is_set(self) -> bool:
        self.n -= 1
        return self.n < 0


def test_train_end_to_end(small_dataset, tmp_path):
    out = tmp_path / "run"
    result = train(config(small_dataset, out), progress=False)
    assert result.state == "finished" and result.epochs_done == 2
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if r["type"] == "step"]
    epochs = [r for r in records if r["type"] == "epoch"]
    assert len(steps) == 8 and len(epochs) == 2
    assert {"loss", "lr", "train_acc", "step", "epoch"} <= set(steps[0])
    assert {"val_top1", "val_top5", "val_macro_f1", "train_loss"} <= set(epochs[0])
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "finished" and status["epochs"] == 2
    loaded = load_model(out / "model")
    assert loaded.labels[:3] == list(json.loads(SIGN_MAP.read_text()))[:3] and len(loaded.labels) == 250
    assert loaded.meta["training"]["train_sequences"] + loaded.meta["training"]["val_sequences"] == 48
    assert (out / "eval" / "confusion.png").stat().st_size > 1000
    report = json.loads((out / "eval" / "report.json").read_text())
    assert report["split"] == "validation" and report["n"] == loaded.meta["training"]["val_sequences"]
    assert "epochs: 2" in (out / "config.yaml").read_text()


def test_the_transformer_on_invariant_inputs_trains(small_dataset, tmp_path):
    """A tiny real run of the transformer over the signer-independent inputs (--preset invariant)."""
    out = tmp_path / "run"
    tiny_dims = {
        "group_dim": 32,
        "dim": 64,
        "num_heads": 2,
        "local_blocks": 1,
        "global_blocks": 1,
        "head_dim": 128,
    }
    result = train(config(small_dataset, out, preset="invariant", model=tiny_dims), progress=False)
    assert result.state == "finished"
    loaded = load_model(out / "model")
    assert loaded.config.inputs == "invariant" and loaded.config.arch == "transformer"
    steps = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["loss"]) for r in steps if r["type"] == "step")


def test_resume_continues_exactly(small_dataset, tmp_path):
    straight = tmp_path / "straight"
    train(config(small_dataset, straight), progress=False)
    interrupted = tmp_path / "interrupted"
    first = train(config(small_dataset, interrupted), stop=StopAfter(5), progress=False)  # mid epoch 2
    assert first.state == "stopped"
    assert json.loads((interrupted / "status.json").read_text())["state"] == "stopped"
    # Continue with a data loader worker this time: the draw must not depend on it.
    second = train(config(small_dataset, interrupted, resume=True, workers=1), progress=False)
    assert second.state == "finished"
    records = [json.loads(x) for x in (interrupted / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in records if r["type"] == "step"]
    assert steps == sorted(set(steps))  # the resumed part did not log the stopped steps twice
    straight_epochs = [json.loads(x) for x in (straight / "metrics.jsonl").read_text().splitlines()]
    for a, b in zip(
        [r for r in straight_epochs if r["type"] == "epoch"], [r for r in records if r["type"] == "epoch"]
    ):
        assert a["train_loss"] == pytest.approx(b["train_loss"]) and a["epoch"] == b["epoch"]  # whole epochs
    a = load_file(str(straight / "resume.safetensors"))
    b = load_file(str(interrupted / "resume.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_existing_run_and_nothing_to_resume(small_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    train(config(small_dataset, out, epochs=1), progress=False)
    with pytest.raises(ValueError, match="already holds a run"):
        train(config(small_dataset, out, epochs=1), progress=False)
    with pytest.raises(ValueError, match="nothing to resume"):
        train(config(small_dataset, tmp_path / "new", resume=True), progress=False)
    code = slr(["train", "--data", str(small_dataset), "--out", str(out), "--quiet"])
    assert code == 2 and "already holds a run" in capsys.readouterr().err


def test_nan_loss_stops_without_touching_the_checkpoint(small_dataset, tmp_path, monkeypatch):
    out = tmp_path / "run"
    train(config(small_dataset, out, epochs=1), progress=False)
    before = (out / "resume.safetensors").read_bytes(), (out / "model" / "model.safetensors").read_bytes()
    import slr_core.training.optim as training

    real = training.focal_loss
    calls = {"n": 0}

    def poisoned(*args, **kwargs):  # the loss goes bad a few steps into the resumed run
        calls["n"] += 1
        loss = real(*args, **kwargs)
        return loss * float("nan") if calls["n"] > 6 else loss

    monkeypatch.setattr(training, "focal_loss", poisoned)
    with pytest.raises(TrainingError, match="the loss became nan"):
        train(config(small_dataset, out, epochs=3, resume=True), progress=False)
    after = (out / "resume.safetensors").read_bytes(), (out / "model" / "model.safetensors").read_bytes()
    assert after == before
    assert json.loads((out / "status.json").read_text())["state"] == "failed"


def test_bad_data_and_settings(small_dataset, tmp_path, capsys):
    one = tmp_path / "one"
    shutil.copytree(small_dataset, one)
    table = pd.read_csv(one / "train.csv")
    table[table["sign"] == "hello"].to_csv(one / "train.csv", index=False)
    with pytest.raises(DatasetError, match="1 class"):
        train(config(one, tmp_path / "r1"), progress=False)
    with pytest.raises(DatasetError, match="validation split is empty"):
        train(config(small_dataset, tmp_path / "r2", folds=7), progress=False)
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="unknown setting"):
        load_config(None, {"epochz": 3})
    assert slr(["train", "--data", str(small_dataset), "--out", str(tmp_path / "r3"), "--lr", "5"]) == 2
    assert "lr must be between 0 and 1" in capsys.readouterr().err
    assert slr(["train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r4")]) == 2
    assert "no such dataset folder" in capsys.readouterr().err
    assert slr(
        ["train", "--data", str(small_dataset), "--out", str(tmp_path / "r5"), "--device", "cuda"]
    ) == (2 if not torch.cuda.is_available() else 0)


def test_presets_are_listed_plainly(capsys, tmp_path):
    """`slr train --preset list` names every network with its size and what it reads, and trains nothing."""
    assert slr(["train", "--preset", "list", "--out", str(tmp_path / "never")]) == 0
    lines = capsys.readouterr().out.splitlines()
    conv = next(line for line in lines if line.startswith("conv ("))
    invariant = next(line for line in lines if line.startswith("invariant ("))
    assert "0.58M parameters" in conv and "the bundled model" in conv
    assert "transformer" in invariant and "hand shapes" in invariant
    assert len(lines) == 6 and not (tmp_path / "never").exists()
    assert slr(["train", "--preset", "huge", "--data", "x", "--out", str(tmp_path / "r")]) == 2
    assert "preset must be one of" in capsys.readouterr().err


def test_stop_event_from_another_thread(small_dataset, tmp_path):
    event = threading.Event()
    event.set()  # asked to stop before the first step ends
    result = train(config(small_dataset, tmp_path / "run"), stop=event, progress=False)
    assert result.state == "stopped" and (tmp_path / "run" / "resume.safetensors").exists()


@pytest.mark.slow
def test_ddp_with_two_real_processes(small_dataset, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "slr_core.cli", "train", "--data", str(small_dataset), "--out", str(out), "--preset", "tiny",
           "--epochs", "2", "--batch-size", "16", "--device", "cpu", "--workers", "0", "--quiet",
           "--set", "samples_per_epoch=64", "--set", "folds=3", "--set", "log_every=1",
           "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    # faulthandler: should a worker die on a signal, its Python stack is in the failure message
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO), PYTHONFAULTHANDLER="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[:3000] + "\n...\n" + proc.stderr[-1500:]
    assert "finished after 2 epoch(s)" in proc.stdout  # rank 0's summary survives the workers' direct exit
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "finished" and status["processes"] == 2
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    # 64 samples per epoch split over 2 ranks of batch 16: 2 steps per epoch, logged once (rank 0)
    assert [r["step"] for r in records if r["type"] == "step"] == [1, 2, 3, 4]
    assert load_model(out / "model").config.dim == 64


def test_learning_rate_schedules():
    from slr_core.training.optim import get_lr

    cfg = TrainConfig(epochs=9, cycle_epochs=3, warmup_steps=5, lr=1e-3, min_lr=1e-5)
    lrs = [get_lr(s, cfg, 10) for s in range(90)]
    assert lrs[0] < lrs[4] == pytest.approx(1e-3)  # warm-up to the peak
    assert lrs[29] < 2e-5 and lrs[89] < 2e-5 and lrs[30] > 4e-4  # cycles end low, then restart
    assert max(lrs[30:60]) == pytest.approx(0.5e-3, rel=0.02)  # each restart at half the previous peak
    assert max(lrs[60:90]) == pytest.approx(0.25e-3, rel=0.05)
    cos = TrainConfig(epochs=9, schedule="cosine", warmup_steps=5, lr=1e-3, min_lr=1e-5)
    lrs = [get_lr(s, cos, 10) for s in range(90)]
    assert all(a >= b for a, b in zip(lrs[5:], lrs[6:])) and lrs[-1] == pytest.approx(1e-5, rel=0.05)


@pytest.mark.slow
def test_page_run_with_two_processes_stops_and_resumes(small_dataset, tmp_path, monkeypatch):
    """The training page's path under torchrun: Stop reaches every rank through rank 0, the run resumes
    with as many processes as it started with, and the epochs continue where they stopped."""
    from slr_core.training import jobs

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("SLR_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="processes must be between 1 and"):
        jobs.start_run(tmp_path / "runs", "too-many", [str(small_dataset)], device="cpu", processes=10_000)
    extra = {"samples_per_epoch": 64, "folds": 3, "log_every": 1, "workers": 0, "patience": 1000}
    run = jobs.start_run(tmp_path / "runs", "ddp-page", [str(small_dataset)], preset="tiny", epochs=40,
                         batch_size=16, device="cpu", extra=extra, processes=2)  # fmt: skip
    wait_for_state(run, {"running"}, condition=lambda s: s.get("step", 0) >= 1)
    assert run.stop()
    stopped = wait_for_state(run, {"stopped", "finished", "failed"})
    assert stopped["state"] == "stopped" and stopped["processes"] == 2, stopped
    assert run.can_resume
    epochs_before = [r["epoch"] for r in run.metrics()[1]]
    jobs.resume_run(run)
    done = wait_for_state(run, {"finished", "failed", "interrupted"})
    assert done["state"] == "finished" and done["processes"] == 2, (done, run.log_tail(30))
    epochs = [r["epoch"] for r in run.metrics()[1]]
    assert epochs[: len(epochs_before)] == epochs_before and epochs == list(range(1, 41))
    assert "torch.distributed.run" in (run.path / "train.log").read_text()
    assert load_model(run.model_dir).config.dim == 64


def test_views_and_the_supervised_contrastive_loss(small_dataset, tmp_path):
    weights = np.full(10, 0.1)
    plain = list(EpochSampler(weights, 8, seed=3))
    paired = list(EpochSampler(weights, 8, seed=3, views=2))
    assert [i for i, _ in paired[::2]] == [i for i, _ in paired[1::2]]  # each index twice in a row
    assert all(a[1] != b[1] for a, b in zip(paired[::2], paired[1::2]))  # each altered its own way
    assert len({i for i, _ in plain}) > 1 and len(paired) == 8
    # the loss: low when a class's rows point the same way and away from the others, high when mixed
    classes = torch.tensor([0, 0, 1, 1])
    apart = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    mixed = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert supcon_loss(apart, classes, 0.1) < 0.01 < 5 < supcon_loss(mixed, classes, 0.1)
    alone = torch.randn(3, 4, requires_grad=True)
    assert supcon_loss(alone, torch.tensor([0, 1, 2]), 0.1).item() == 0.0  # no row has a partner
    with pytest.raises(ConfigError, match="divide batch_size"):
        config(small_dataset, tmp_path / "bad", views=3)
    result = train(config(small_dataset, tmp_path / "run", views=2, supcon_weight=0.5), progress=False)
    assert (
        result.state == "finished" and "supcon_weight: 0.5" in (tmp_path / "run" / "config.yaml").read_text()
    )
