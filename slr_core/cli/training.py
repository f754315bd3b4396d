"""`slr train` (the one training loop, also under torchrun) and `slr eval`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..base.errors import ConfigError
from .args import print_notes, probability


def _overrides(args) -> dict:
    """Command-line settings for TrainConfig: the named flags, then --set key=value pairs."""
    import yaml

    values = {
        "data": args.data,
        "out": args.out,
        "val_data": args.val_data,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "device": args.device,
        "preset": args.preset,
        "workers": args.workers,
        "seed": args.seed,
        "name": args.name,
        "cache_dir": args.cache_dir,
        "resume": True if args.resume else None,
    }
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set takes key=value, got {item!r}")
        values[key.strip()] = yaml.safe_load(value)
    return {k: v for k, v in values.items() if v not in (None, [])}


def _print_presets() -> None:
    from ..models.build import preset_size
    from ..models.config import PRESET_NOTES, PRESETS

    for name in PRESETS:
        print(f"{name} ({preset_size(name)}): {PRESET_NOTES[name]}")


def _cmd_train(args) -> int:
    from ..training import runs
    from ..training.config import TrainingError, load_config
    from ..training.loop import train
    from ..training.runs import RunState

    if args.preset == "list":
        _print_presets()
        return 0
    config_path = args.config
    if args.resume and not config_path and args.out and (Path(args.out) / runs.CONFIG).is_file():
        config_path = Path(args.out) / runs.CONFIG  # a run resumes with the settings it started with
    if args.resume and not config_path and not args.data:
        where = (
            f"{args.out}: no run to resume there (no {runs.CONFIG})"
            if args.out
            else "--resume needs --out RUN_DIR"
        )
        raise ConfigError(f"{where}; start a run with --data")
    cfg = load_config(config_path, _overrides(args))
    if not cfg.data:
        raise ConfigError("no training data: pass --data DATASET_DIR (or data: in the --config file)")
    try:
        result = train(cfg, progress=not args.quiet)
    except TrainingError as exc:
        print(f"slr train: {exc}", file=sys.stderr)
        return 1
    if int(os.environ.get("RANK", "0")) != 0:  # a torchrun worker: rank 0 reports for all
        return 0
    if result.state == RunState.STOPPED:
        world = torchrun_world()
        again = (
            f"torchrun --standalone --nproc_per_node {world} -m slr_core.cli train"
            if world > 1
            else "slr train"
        )
        print(f"stopped after {result.epochs_done} epoch(s); continue with: {again} --out {cfg.out} --resume")
        # Under torchrun a non-zero code reads as a crashed worker; a stop that was asked for is not one.
        return 0 if world > 1 else 130
    best = result.best
    print(f"{result.state} after {result.epochs_done} epoch(s); best model in {result.model_dir}")
    if best:
        print(
            f"best validation: top-1 {best['top1']:.3f}  top-5 {best['top5']:.3f}  macro F1 {best['macro_f1']:.3f}"
        )
    return 0


def _cmd_eval(args) -> int:
    import json

    from ..models.checkpoint import load_model
    from ..training.evaluate import evaluate_dataset, write_report

    loaded = load_model(args.model, args.device)
    print_notes(loaded)
    if args.library:
        return _eval_library(loaded, args)
    report = evaluate_dataset(loaded, args.data, device=args.device, threshold=args.threshold,
                              cache_dir=args.cache_dir, progress=not args.quiet, use_bank=not args.no_bank)  # fmt: skip
    for path, why in report.skipped:
        print(f"  SKIPPED {why if str(path) in why else f'{path}: {why}'}")
    worst = sorted(report.per_class.items(), key=lambda kv: kv[1]["f1"])[:10]
    with_bank = f", with its bank of {report.bank} examples" if report.bank else ""
    print(f"model {loaded.name} ({len(loaded.labels)} classes{with_bank}) on {args.data}")
    print("lowest F1:")
    for name, m in worst:
        print(
            f"  {name:20s} precision {m['precision']:.2f} recall {m['recall']:.2f} F1 {m['f1']:.2f} n={m['support']}"
        )
    if args.report_dir:
        write_report(report, args.report_dir, {"model": str(args.model), "data": str(args.data)})
        print(f"report and confusion matrix in {args.report_dir}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report.to_dict(), f, indent=1)
        print(f"metrics written to {args.json}")
    print(report.headline())
    return 0


def _eval_library(loaded, args) -> int:
    """slr eval --library: the model with the person's library, next to the model alone."""
    import json

    from ..training.library_eval import evaluate_library
    from .args import with_library

    report = evaluate_library(with_library(loaded, args), args.data, args.cache_dir, progress=not args.quiet)
    for path, why in report.skipped:
        print(f"  SKIPPED {why if str(path) in why else f'{path}: {why}'}")
    print(f"model {loaded.name} with the library {args.library} on {args.data}")
    for word, share in report.per_word.items():
        print(f"  {word:20s} its clips recognised as it: {share:.3f}")
    print("\n".join(report.lines()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report.to_dict(), f, indent=1)
        print(f"metrics written to {args.json}")
    return 0


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a model (torchrun for many GPUs)")
    p.add_argument("--data", action="append", help="Kaggle-layout dataset folder (repeat for several)")
    p.add_argument("--out", help="run folder (checkpoints, metrics.jsonl, config.yaml)")
    p.add_argument("--config", help="YAML file of TrainConfig settings")
    p.add_argument(
        "--val-data", action="append", help="separate validation dataset (else a participant fold)"
    )
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--device", help="auto | cpu | cuda")
    p.add_argument(
        "--preset",
        help="the network: conv (the bundled model's) | invariant (the transformer on the conv net's inputs) | "
        "tiny | small | base | large (the transformer on every point); `--preset list` says what each reads and measured",
    )
    p.add_argument("--workers", type=int, help="data loader processes")
    p.add_argument("--seed", type=int)
    p.add_argument("--name", help="model name stored in the checkpoint")
    p.add_argument("--cache-dir")
    p.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="any setting, e.g. model.dim=256")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_train)


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a model on a dataset")
    p.add_argument("--model", required=True, help="model folder (model.safetensors + model.json)")
    p.add_argument("--data", required=True, help="Kaggle-layout dataset folder")
    p.add_argument("--json", help="write every figure to this JSON file")
    p.add_argument("--report-dir", help="write report.json and confusion.png here")
    p.add_argument("--threshold", type=probability, help="rejection threshold (default: the model's own)")
    p.add_argument("--library", help="with the personal signs of this library folder (as the app recognises)")
    p.add_argument(
        "--no-bank", action="store_true", help="the network alone, without the model's bank of examples"
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--cache-dir")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_eval)


def _cmd_bank(args) -> int:
    """slr bank RUN_DIR: (re)build the bank of examples of a trained run from its own training split."""
    from ..models.checkpoint import load_model
    from ..recognition.bank import load_bank
    from ..training import runs
    from ..training.bank import write_bank
    from ..training.config import load_config
    from ..training.runs import MODEL_DIR
    from ..training.trainset import prepare_data

    run = Path(args.run)
    if not (run / runs.CONFIG).is_file() or not (run / MODEL_DIR).is_dir():
        raise ConfigError(f"{run}: not a finished run folder (no {runs.CONFIG} or {MODEL_DIR}/)")
    cfg = load_config(run / runs.CONFIG, {"resume": False})
    bank_data = args.data or cfg.bank_data
    if not bank_data:
        raise ConfigError(
            f"{run}: its config names no bank_data; pass --data DATASET_DIR (data whose licence allows it)"
        )
    data = prepare_data(cfg.data, cfg.val_data, cfg.folds, cfg.fold, cfg.unknown_val_fraction, cfg.sign_map,
                        cfg.cache_dir, 1, not args.quiet, cfg.fold_data)  # fmt: skip
    loaded = load_model(run / MODEL_DIR)
    figures = write_bank(loaded, data, bank_data, run / MODEL_DIR)
    bank, problem = load_bank(run / MODEL_DIR, loaded.labels)
    if bank is None:
        raise ConfigError(problem or "the bank was not written")
    w, b = figures["without_bank"], figures["with_bank"]
    print(f"bank of {len(bank)} examples ({', '.join(bank.meta['datasets'])}) beside {run / MODEL_DIR}")
    print("people per sign: " + ", ".join(f"{s} {n}" for s, n in bank.signs().items()))
    print(f"validation top-1 {figures['top1_without_bank']:.3f} -> {figures['top1_with_bank']:.3f}; accepted and "
          f"right {w['in_vocab_accepted_correct']:.3f} -> {b['in_vocab_accepted_correct']:.3f}; unknown words "
          f"rejected {w['oov_rejected']:.3f} -> {b['oov_rejected']:.3f} (threshold {b['threshold']:.2f})")  # fmt: skip
    return 0


def _add_bank(sub) -> None:
    p = sub.add_parser("bank", help="(re)build a trained run's bank of many people's examples")
    p.add_argument("run", help="run folder (config.yaml and model/)")
    p.add_argument("--data", action="append",
                   help="dataset whose training sequences go in (default: the run's bank_data); repeat for several")  # fmt: skip
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_bank)


def torchrun_world() -> int:
    """The number of processes torchrun started (1 outside torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def add(sub) -> None:
    """Register this module's commands."""
    _add_train(sub)
    _add_eval(sub)
    _add_bank(sub)
