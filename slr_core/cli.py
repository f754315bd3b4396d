"""The `slr` command: extract, cache, train, eval, predict, translate.

Every subcommand is a thin wrapper over a function in slr_core; errors that come from the user's
input (``errors.SLRError``, or a file the system cannot read) are printed as one line and exit with
status 2; a programming error keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import settings
from .errors import ConfigError, SLRError


def _cmd_extract(args) -> int:
    from .data import extract_dataset

    report = extract_dataset(args.labels, args.out, args.workers, args.sign_map, progress=not args.quiet)
    print(report.summary())
    return 1 if report.failures else 0  # a script must see that some clips did not make it


def _cmd_cache(args) -> int:
    from .cache import build_cache, load_or_build_cache
    from .data import load_dataset

    dataset = load_dataset(args.data, args.sign_map)
    build = build_cache if args.rebuild else load_or_build_cache
    cache = build(dataset, args.cache_dir, args.workers, progress=not args.quiet)
    print(f"{len(cache)} sequences, {int(cache.lengths().sum())} frames cached in {cache.path}")
    for path, why in cache.skipped:
        print(f"  SKIPPED {path}: {why}")
    return 0


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


def _cmd_train(args) -> int:
    from . import runs
    from .runs import RunState
    from .train import TrainingError, load_config, train

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
        world = _torchrun_world()
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

    from .checkpoint import load_model
    from .evaluate import evaluate_dataset, write_report

    loaded = load_model(args.model, args.device)
    _notes(loaded)
    report = evaluate_dataset(loaded, args.data, device=args.device, threshold=args.threshold,
                              cache_dir=args.cache_dir, progress=not args.quiet)  # fmt: skip
    for path, why in report.skipped:
        print(f"  SKIPPED {why if str(path) in why else f'{path}: {why}'}")
    worst = sorted(report.per_class.items(), key=lambda kv: kv[1]["f1"])[:10]
    print(f"model {loaded.name} ({len(loaded.labels)} classes) on {args.data}")
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


def _cmd_predict(args) -> int:
    import json

    from .checkpoint import load_model
    from .predict import Classifier
    from .streaming import StreamConfig, recognize_clip

    loaded = load_model(args.model or settings.default_model(), args.device)
    _notes(loaded)
    bar = None
    if not args.quiet and not args.json:
        from tqdm.auto import tqdm

        bar = tqdm(desc="keypoints", unit="frame", leave=False)

    def progress(done, total):
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    config = StreamConfig(mode=args.mode, threshold=args.threshold)
    classifier = _with_library(loaded, args) if args.library else Classifier(loaded, device=args.device)
    fps = settings.clip_fps() if args.fps is None else (args.fps or None)
    processes = settings.clip_processes() if args.processes is None else args.processes
    result = recognize_clip(args.clip, classifier, config, progress, max_fps=fps, processes=processes)
    if bar is not None:
        bar.close()
    kp, events = result.keypoints, result.events
    if kp.meta.get("warning"):  # a file that decoded only in part
        print(f"warning: {args.clip}: {kp.meta['warning']}", file=sys.stderr)
    if args.json:
        print(json.dumps({"clip": str(args.clip), "model": loaded.name, "frames": len(kp),
                          "hand_frames": result.hand_frames, "duration": kp.duration,
                          "events": [e.to_dict() for e in events]}, indent=1))  # fmt: skip
        return 0
    for e in events:
        print(e.line())
    if not events:
        print(f"no sign recognised in {args.clip} ({result.why_nothing()})")
    return 0


def _argument(kind: type, least: float, rule: str, most: float | None = None):
    """An argparse type: settings.parse_number's rule, and at most `most`."""

    def parse(text: str):
        try:
            value = settings.parse_number(text, kind, least, rule)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if most is not None and value > most:
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    return parse


_probability = _argument(float, 0, "between 0 and 1", most=1)  # a rejection threshold
_non_negative = _argument(float, 0, "0 or more")
_at_least_one = _argument(int, 1, "at least 1")


def _notes(loaded) -> None:
    for note in loaded.notes:
        print(f"note: {note}", file=sys.stderr)


def _cmd_translate(args) -> int:
    from .sentence import load_composer

    composer, why = load_composer(args.t5)
    if why:
        print(f"note: {why}", file=sys.stderr)
    sentence = composer.compose(args.words)
    print(sentence.text or f"({sentence.note})")
    print(
        f"composer: {sentence.composer}" + (f" ({sentence.note})" if sentence.note and sentence.text else "")
    )
    return 0


def _add_extract(sub) -> None:
    p = sub.add_parser("extract", help="labelled clips -> a Kaggle-layout keypoint dataset")
    p.add_argument("labels", help="labels.csv with path,sign[,participant_id] (paths relative to it)")
    p.add_argument("--out", required=True, help="dataset folder to write")
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 1)), help="parallel processes")
    p.add_argument("--sign-map", default=None, help="sign_to_prediction_index_map.json (default: nearest)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_extract)


def _add_cache(sub) -> None:
    p = sub.add_parser("cache", help="build the on-disk cache of a dataset")
    p.add_argument("--data", required=True, help="Kaggle-layout dataset folder")
    p.add_argument(
        "--cache-dir", default=None, help="where caches live (default $SLR_CACHE_DIR or ~/.cache/slr)"
    )
    p.add_argument("--sign-map", default=None)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--rebuild", action="store_true", help="rebuild even if a matching cache exists")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_cache)


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
    p.add_argument("--preset", help="model size: tiny | small | base | large")
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
    p.add_argument("--threshold", type=_probability, help="rejection threshold (default: the model's own)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--cache-dir")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_eval)


def _with_library(loaded, args):
    """The model plus the person's library (matcher.PersonalClassifier)."""
    from .library import Library
    from .matcher import PersonalClassifier

    return PersonalClassifier(loaded, Library.open(_library_dir(args)), device=args.device)


def _library_dir(args) -> Path:
    return Path(args.library) if getattr(args, "library", None) else settings.library_dir()


def _cmd_signs(args) -> int:
    """slr signs add | list | remove | export | import | finetune."""
    from .library import Library

    lib = Library.open(_library_dir(args))
    if args.action == "add":
        return _signs_add(lib, args)
    if args.action == "list":
        return _signs_list(lib, args)
    if args.action == "finetune":
        return _signs_finetune(lib, args)
    if args.action == "remove":
        n = lib.remove_word(args.word)
        print(f"removed {args.word} ({n} example(s)) from {lib.file}")
    elif args.action == "export":
        out = lib.export(args.file)
        print(f"{len(lib)} example(s) of {len(lib.words())} word(s) written to {out}")
    elif args.action == "import":
        n = lib.import_file(args.file)
        print(f"{n} new example(s) from {args.file}; the library has {len(lib)} in {lib.file}")
    return 0


def _signs_add(lib, args) -> int:
    import time

    from .extract import Extractor, keypoints_from_file
    from .library import LibraryError
    from .streaming import sign_span

    with Extractor() as extractor:
        for path in args.files:
            kp = keypoints_from_file(path, extractor)
            if not kp.hands_present().any():
                raise LibraryError(f"{path}: no hand was seen in it, so there is no sign to learn")
            span = sign_span(kp.data, kp.times)
            t0 = time.perf_counter()
            e = lib.add(args.word, kp.data[span], kp.times[span], source=Path(path).name)
            print(f"added {e.word!r} from {path}: {len(e.data)} frames "
                  f"({(time.perf_counter() - t0) * 1000:.0f} ms after the keypoints)")  # fmt: skip
    return 0


def _signs_list(lib, args) -> int:
    words = lib.words()
    if not words:
        print(f"no personal signs yet in {lib.file}; add some with: slr signs add WORD CLIP...")
        return 0
    from .checkpoint import load_model
    from .matcher import MOVEMENT_MIN_SIMILARITY, MOVEMENT_STRICTER, PersonalClassifier

    pc = PersonalClassifier(load_model(args.model or settings.default_model()), lib)
    print(f"{len(lib)} example(s) of {len(words)} word(s) in {lib.file} (model {pc.loaded.name}):")
    for word, examples in words.items():
        st = pc.stats.get(word)
        known = "a sign of the model" if word in pc.labels else "a new word"
        line = f"  {word:16s} {len(examples)} example(s), {known}"
        if st is not None:
            agree = "n/a (one example)" if st.examples < 2 else f"{st.agreement:.2f}"
            line += f"; agreement {agree}, threshold {st.threshold:.2f}"
            line += "; movement check " + (
                f"on (then {st.threshold + MOVEMENT_STRICTER:.2f}, or {MOVEMENT_MIN_SIMILARITY:.2f} with a matching movement)"
                if st.movement_threshold is not None
                else "off (no shoulders seen)"
            )
            if st.nearest_word:
                line += f"; nearest: {st.nearest_word} ({st.nearest_similarity:.2f})"
                line += " - CONFUSABLE" if st.confusable else ""
        print(line)
    return 0


def _signs_finetune(lib, args) -> int:
    from .checkpoint import load_model
    from .finetune import (
        STEPS,
        FinetuneError,
        base_model,
        default_folder,
        finetune,
        replay_sequences,
        save_finetuned,
    )

    if not len(lib):
        raise FinetuneError(f"the library is empty ({lib.file}): add examples of your signs first")
    base = base_model(load_model(args.model or settings.default_model()))
    replay = replay_sequences(args.data, base.labels)
    steps = args.steps or STEPS
    folder = Path(args.out) / "model" if args.out else default_folder(base)
    print(f"fine-tuning {base.name} to {len(lib)} example(s) of {len(lib.words())} word(s), "
          f"with {len(replay)} clips of other people's signs, {steps} steps")  # fmt: skip

    def progress(step: int, steps: int) -> None:
        if step % 10 == 0 or step == steps:
            print(f"\r  step {step}/{steps}", end="" if step < steps else "\n", file=sys.stderr, flush=True)

    result = finetune(base, lib, replay, steps=steps, progress=progress)
    save_finetuned(result, base, folder, lib, args.data)
    new = f"; new outputs for {', '.join(result.new_words)}" if result.new_words else ""
    print(f"done in {result.seconds:.0f} s{new}: {folder}")
    print(f"use it with --model {folder}, or pick it in the app")
    return 0


def _add_signs(sub) -> None:
    p = sub.add_parser("signs", help="your personal signs: add, list, remove, export, import, finetune")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("add", help="teach a word from clips or keypoint parquets of you signing it")
    a.add_argument("word")
    a.add_argument("files", nargs="+", metavar="FILE", help="a clip, or a keypoints parquet (Kaggle layout)")
    a = actions.add_parser("list", help="the words, how well their examples agree, what they resemble")
    a.add_argument("--model", help="the base model (default: $SLR_DEFAULT_MODEL, else the bundled one)")
    a = actions.add_parser("remove", help="forget a word and its examples")
    a.add_argument("word")
    a = actions.add_parser("export", help="the whole library as one file")
    a.add_argument("file")
    a = actions.add_parser("import", help="add the examples of a library file")
    a.add_argument("file")
    a = actions.add_parser("finetune", help="adapt a model to your library (about a minute on a CPU)")
    a.add_argument("--data", action="append", required=True, metavar="DATASET_DIR",
                   help="clips of other people's signs to keep the model's other signs (Kaggle layout)")  # fmt: skip
    a.add_argument("--model", help="the base model (default: $SLR_DEFAULT_MODEL, else the bundled one)")
    a.add_argument("--out", help="run folder for the new model (default: RUNS/<model>-personal)")
    a.add_argument("--steps", type=_at_least_one, help="training steps (default: 150)")
    for a in actions.choices.values():
        a.add_argument("--library", help="library folder (default: $SLR_LIBRARY, else a per-user folder)")
    p.set_defaults(func=_cmd_signs)


def _cmd_spell(args) -> int:
    """Letters of still images of a hand, words spelled in clips."""
    import json

    from .extract import VIDEO_SUFFIXES, Extractor, extract_video
    from .letters import HandFinder, LetterModel, read_image
    from .spelling import spell_sequence

    model = LetterModel.load(args.model or settings.letters_model())
    results: list[dict] = []
    with HandFinder() as finder, Extractor() as extractor:
        for path in map(Path, args.files):
            if path.suffix.lower() in VIDEO_SUFFIXES:
                kp = extract_video(path, extractor)
                aspect = kp.meta.get("height", 1) / kp.meta.get("width", 1)
                words = spell_sequence(model, kp.data, kp.times, aspect)
                results.append({"file": str(path), "kind": "clip", "words": [w.to_dict() for w in words]})
                if not args.json:
                    print(f"{path}: " + (" ".join(w.text for w in words) or "(no spelled word)"))
                continue
            found = finder.find(read_image(path))
            if found is None:
                results.append({"file": str(path), "kind": "image", "letter": None})
                if not args.json:
                    print(f"{path}: no hand found")
                continue
            g = model.predict(found.points, found.left)
            results.append({"file": str(path), "kind": "image", "letter": g.letter, "probability": g.probability,
                            "top3": g.top3})  # fmt: skip
            if not args.json:
                print(f"{path}: {g.letter} ({g.probability:.0%}; then " + ", ".join(f"{c} {p:.0%}" for c, p in
                      g.top3[1:]) + ")")  # fmt: skip
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


def _cmd_train_letters(args) -> int:
    import numpy as np

    from .letters import find_hands, fit, leave_one_person_out

    data = find_hands(args.data, progress=not args.quiet)
    print(f"hands found in {len(data.label)} images ({len(data.missed)} without a hand found)")
    meta: dict = {"data": Path(args.data).parent.name}
    if args.evaluate:
        report = leave_one_person_out(data, args.epochs, args.seed)
        print(f"leave one person out: {report['accuracy']:.3f} ("
              + ", ".join(f"{p} {r['accuracy']:.3f}" for p, r in report["per_person"].items()) + ")")  # fmt: skip
        meta["leave_one_person_out"] = report
    labels = sorted(set(data.label.tolist()))
    model = fit(data, np.arange(len(data.label)), labels, args.epochs, args.seed)
    model.meta.update(meta)
    print(f"letter model ({len(labels)} letters and digits) written to {model.save(args.out)}")
    return 0


def _add_spell(sub) -> None:
    p = sub.add_parser("spell", help="fingerspelling: the letter of each hand image, the word of each clip")
    p.add_argument("files", nargs="+", metavar="FILE", help="still images of a hand, or clips")
    p.add_argument("--model", help="letter model folder (default: the bundled one)")
    p.add_argument("--json", action="store_true", help="letters, times and confidence as JSON")
    p.set_defaults(func=_cmd_spell)
    p = sub.add_parser("train-letters", help="train the fingerspelling letter model")
    p.add_argument("--data", default=str(settings.REPO.parent / "shared" / "data" / "asl-letters-massey" / "labels.csv"),
                   help="labels.csv with path,label,signer (images of one hand)")  # fmt: skip
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--evaluate", action="store_true", help="leave-one-person-out figures first")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_train_letters)


def _add_predict(sub) -> None:
    p = sub.add_parser("predict", help="the signs in a video clip, with time spans and confidence")
    p.add_argument("clip", help="mp4 / webm / mov / avi")
    p.add_argument("--model", help="model folder (default: $SLR_DEFAULT_MODEL, else the bundled model)")
    p.add_argument("--json", action="store_true", help="print JSON instead of lines")
    p.add_argument("--mode", default="activity", choices=("activity", "window"), help="segmentation")
    p.add_argument("--threshold", type=_probability, help="rejection threshold (default: the model's own)")
    p.add_argument("--library", help="also recognise the personal signs of this library folder")
    p.add_argument("--fps", type=_non_negative, help="keypoints at most this many frames per second (0: every frame; "
                   "default $SLR_CLIP_FPS, else 15)")  # fmt: skip
    p.add_argument("--processes", type=_at_least_one, help="processes sharing a clip of a minute or more (default "
                   "$SLR_CLIP_PROCESSES, else the cores, at most 4)")  # fmt: skip
    p.add_argument("--device", default="cpu")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_predict)


def _add_translate(sub) -> None:
    p = sub.add_parser("translate", help="keywords -> an English sentence (FLAN-T5 or rules)")
    p.add_argument("words", nargs="*", help="the recognised signs, in order")
    p.add_argument("--t5", help="folder of a saved FLAN-T5 (default: $SLR_T5_PATH, then the HF cache)")
    p.set_defaults(func=_cmd_translate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slr", description="Sign-language recognition tools")
    sub = parser.add_subparsers(dest="command", required=True)
    adders = (
        _add_extract,
        _add_cache,
        _add_train,
        _add_eval,
        _add_predict,
        _add_signs,
        _add_spell,
        _add_translate,
    )
    for add in adders:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
    except (SLRError, OSError) as exc:  # the user's input; anything else keeps its traceback
        print(f"slr {args.command}: error: {exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print(f"slr {args.command}: interrupted", file=sys.stderr)
        code = 130
    if args.command == "train" and _torchrun_world() > 1:
        _exit_distributed_worker(code)
    return code


def _torchrun_world() -> int:
    """The number of processes torchrun started (1 outside torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def _exit_distributed_worker(code: int) -> None:
    """End a torchrun worker without the interpreter's shutdown.

    A gloo worker thread can still be releasing the tensors of the last collective when Python
    starts finalising; it then needs the GIL, CPython ends the thread inside a C++ destructor, and
    the process dies with SIGABRT ("terminate called without an active exception") after a run that
    succeeded. Everything is written and closed by now, so the worker leaves directly.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
