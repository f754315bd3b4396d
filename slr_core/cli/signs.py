"""`slr signs`: a person's own signs (add, list, remove, export, import, finetune)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..base import settings
from .args import at_least_one, library_dir


def _cmd_signs(args) -> int:
    """slr signs add | list | remove | export | import | finetune."""
    from ..recognition.library import Library

    lib = Library.open(library_dir(args))
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

    from ..capture.extract import Extractor, keypoints_from_file
    from ..recognition.library import LibraryError
    from ..recognition.streaming import sign_span

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
    from ..models.checkpoint import load_model
    from ..recognition.matcher import MOVEMENT_MIN_SIMILARITY, MOVEMENT_STRICTER, PersonalClassifier

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
    from ..models.checkpoint import load_model
    from ..training.finetune import (
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
    a.add_argument("--steps", type=at_least_one, help="training steps (default: 150)")
    for a in actions.choices.values():
        a.add_argument("--library", help="library folder (default: $SLR_LIBRARY, else a per-user folder)")
    p.set_defaults(func=_cmd_signs)


def add(sub) -> None:
    """Register this module's commands."""
    _add_signs(sub)
