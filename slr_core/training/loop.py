"""train(): the one training loop, for the `slr train` command and the training page.

CPU, one GPU (automatic mixed precision) or many GPUs under torchrun (DDP is switched on by the
RANK variable torchrun sets; rank 0 alone logs and saves). Focal loss with label smoothing plus
auxiliary losses, MixUp, AdamW without decay on norms and biases, gradient clipping, a cyclic
(or cosine) learning rate with warm-up, participant-disjoint validation, early stopping, an
atomic checkpoint every epoch and an exact --resume.

The run folder it writes (config, metrics, status, resume state, model, evaluation) is described
in ``runs``; the settings are ``config.TrainConfig``; the losses, MixUp and the schedule are in
``optim``, the processes in ``distributed``. The loop is cut into named steps over a ``Trainer``
(``trainer.build``: data, model, loaders): ``_train_epoch`` (with ``_step``), ``_validate`` and
``_end_epoch`` (select, save, log); a ``LoopState`` is what a resume restores.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..models.checkpoint import describe, load_model, read_resume_step, save_model
from .config import TrainConfig, TrainingError
from .distributed import Dist, StopFlag, broadcast, pick_device, predict_split, setup_distributed, should_stop
from .evaluate import choose_threshold, evaluate_arrays, write_report
from .optim import get_lr, mixup, training_loss
from .runs import EVAL_DIR, MODEL_DIR, RESUME, RunLog, RunState, drop_metrics_after
from .trainer import EpochStats, Trainer, build, check_run_folder


@dataclass
class TrainResult:
    state: RunState  # FINISHED | EARLY_STOPPED | STOPPED
    epochs_done: int
    best: dict
    model_dir: Path
    run_dir: Path


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
        check_run_folder(out, cfg.resume)
    if ddp.main and cfg.resume:
        drop_metrics_after(out, read_resume_step(out / RESUME))  # the steps after it will be done again
    log = RunLog(out, ddp.main, ddp.world)
    flag = StopFlag()
    flag.install()
    stop = stop or flag.event
    try:
        trainer = build(cfg, ddp, device, out, log, progress and ddp.main)
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


def _loop(t: Trainer, stop, progress: bool) -> TrainResult:
    """Epochs until the last one, early stopping, or a stop request."""
    cfg, state = t.cfg, t.state
    while state.epoch < cfg.epochs:
        stats = _train_epoch(t, stop, progress)
        if stats is None:  # asked to stop: the state is saved
            return TrainResult(RunState.STOPPED, state.epoch, state.best or {}, t.out / MODEL_DIR, t.out)
        metrics = _validate(t)
        _end_epoch(t, stats, metrics, progress)
        if broadcast(state.bad_epochs >= cfg.patience, t.ddp):
            break
    result_state = RunState.EARLY_STOPPED if state.epoch < cfg.epochs else RunState.FINISHED
    if t.ddp.main:
        _finalize(t.out, t.device, t.full_val_loader, t.meta)
        if cfg.bank_data:
            _bank(t)
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
        if should_stop(stop, t.ddp):
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


def _bank(t: Trainer) -> None:
    """The bank of examples beside the final model (training.bank), its threshold chosen on validation."""
    from .bank import write_bank

    t.log.status(
        RunState.RUNNING, epoch=t.state.epoch, epochs=t.cfg.epochs, message="building the bank of examples"
    )
    loaded = load_model(t.out / MODEL_DIR, t.device)
    figures = write_bank(loaded, t.data, t.cfg.bank_data, t.out / MODEL_DIR, t.device)
    w, b = figures["without_bank"], figures["with_bank"]
    print(
        f"bank of examples: validation top-1 {figures['top1_without_bank']:.3f} -> {figures['top1_with_bank']:.3f}; "
        f"accepted and right {w['in_vocab_accepted_correct']:.3f} -> {b['in_vocab_accepted_correct']:.3f}, "
        f"unknown words rejected {w['oov_rejected']:.3f} -> {b['oov_rejected']:.3f} (threshold {b['threshold']:.2f})"
    )


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
