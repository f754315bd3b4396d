"""`slr predict` (the signs in a clip), `slr spell` and `slr train-letters` (fingerspelling)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..base import settings
from .args import at_least_one, non_negative, print_notes, probability, with_library


def _cmd_predict(args) -> int:
    from ..base.errors import ConfigError
    from ..capture.poseformat import KEYPOINT_SUFFIXES, read_keypoints
    from ..models.checkpoint import load_model
    from ..recognition import exports
    from ..recognition.predict import Classifier
    from ..recognition.streaming import ClipResult, StreamConfig, clip_guess, recognize, recognize_clip

    fmt = "json" if args.json else args.format
    if fmt == "pose" and not args.out:
        raise ConfigError("--format pose writes a binary file: give --out FILE.pose")
    loaded = load_model(args.model or settings.default_model(), args.device)
    print_notes(loaded)
    bar = None
    keypoints_given = Path(args.clip).suffix.lower() in KEYPOINT_SUFFIXES  # another tool's, or ours
    if not args.quiet and fmt is None and not keypoints_given:
        from tqdm.auto import tqdm

        bar = tqdm(desc="keypoints", unit="frame", leave=False)

    def progress(done, total):
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    config = StreamConfig(mode=args.mode, threshold=args.threshold)
    classifier = with_library(loaded, args) if args.library else Classifier(loaded, device=args.device)
    fps = settings.clip_fps() if args.fps is None else (args.fps or None)
    processes = settings.clip_processes() if args.processes is None else args.processes
    if keypoints_given:
        kp = read_keypoints(args.clip)
        result = ClipResult(kp, recognize(kp, classifier, config))
    else:
        result = recognize_clip(args.clip, classifier, config, progress, max_fps=fps, processes=processes)
    if bar is not None:
        bar.close()
    kp, events = result.keypoints, result.events
    if kp.meta.get("warning"):  # a file that decoded only in part
        print(f"warning: {args.clip}: {kp.meta['warning']}", file=sys.stderr)
    if fmt is None:
        for e in events:
            print(e.line())
        if not events:
            print(f"no sign recognised in {args.clip} ({result.why_nothing()})")
            guess = clip_guess(kp, classifier) if result.hand_frames else None
            if guess is not None:  # what the Upload page shows as "What it thought" (one measurement)
                print("what it thought: " + ", ".join(f"{n} {p:.1%}" for n, p in guess.top5))
        return 0
    found = exports.Found(events, kp, str(args.clip), _sentence(events) if fmt != "pose" else "", loaded.name)
    if args.out:
        written = exports.export(found, fmt, args.out)
        print(f"{len(events)} sign(s) found in {args.clip}; {fmt} written to {written}", file=sys.stderr)
    else:
        print(exports.text(found, fmt))
    return 0


def _sentence(events) -> str:
    """The English sentence of the signs found (the composer the app uses: FLAN-T5 where its weights
    are, else the rules)."""
    if not events:
        return ""
    from ..language.sentence import load_composer

    composer, _ = load_composer()
    return composer.compose([e.label for e in events], n=1).text


def _add_predict(sub) -> None:
    p = sub.add_parser("predict", help="the signs in a video clip, with time spans and confidence")
    p.add_argument("clip", help="mp4 / webm / mov / avi, or keypoints already extracted (.parquet, .pose)")
    p.add_argument("--model", help="model folder (default: $SLR_DEFAULT_MODEL, else the bundled model)")
    p.add_argument("--format", choices=("eaf", "srt", "vtt", "json", "pose"),
                   help="ELAN annotations, SubRip or WebVTT captions, JSON, or the keypoints as .pose")  # fmt: skip
    p.add_argument("--out", help="write the --format to this file (else printed; .pose needs a file)")
    p.add_argument("--json", action="store_true", help="print JSON instead of lines (= --format json)")
    p.add_argument("--mode", default="activity", choices=("activity", "window"), help="segmentation")
    p.add_argument("--threshold", type=probability, help="rejection threshold (default: the model's own)")
    p.add_argument("--library", help="also recognise the personal signs of this library folder")
    p.add_argument("--fps", type=non_negative, help="keypoints at most this many frames per second (0: every frame; "
                   "default $SLR_CLIP_FPS, else 15)")  # fmt: skip
    p.add_argument("--processes", type=at_least_one, help="processes sharing a clip of a minute or more (default "
                   "$SLR_CLIP_PROCESSES, else the cores, at most 4)")  # fmt: skip
    p.add_argument("--device", default="cpu")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_predict)


def _cmd_spell(args) -> int:
    """Letters of still images of a hand, words spelled in clips."""
    import json

    from ..capture.extract import VIDEO_SUFFIXES, Extractor, extract_video
    from ..recognition.letters import HandFinder, LetterModel, read_image
    from ..recognition.spelling import spell_sequence

    model = LetterModel.load(args.model or settings.letters_model())
    if not args.files and not args.landmarks:
        from ..base.errors import ConfigError

        raise ConfigError("give images or clips, or --landmarks FILE.csv")
    results: list[dict] = _spell_landmarks(model, args) if args.landmarks else []
    if not args.files:
        if args.json:
            print(json.dumps(results, indent=1))
        return 0
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


def _spell_landmarks(model, args) -> list[dict]:
    """The letter of each row of landmark CSVs (letters-webcam's layout; read_landmark_rows checks them
    all before any is read), and how many were right where the file has a letter column."""
    from ..training.letters import read_landmark_rows

    out: list[dict] = []
    tables = [(path, read_landmark_rows(path)) for path in args.landmarks]
    for path, rows in tables:
        assert rows.has_z is not None
        probs = model.point_probabilities(rows.points, rows.left, rows.has_z)
        right = 0
        for k, p in enumerate(probs):
            order = np.argsort(-p)[:3]
            letter, truth = model.labels[order[0]], str(rows.label[k])
            right += letter == truth
            out.append({"file": str(path), "kind": "landmarks", "row": k + 2, "letter": letter,
                        "probability": float(p[order[0]]), "top3": [(model.labels[i], float(p[i])) for i in order],
                        **({"letter_given": truth} if truth else {})})  # fmt: skip
            if not args.json:
                print(f"{path} row {k + 2}: {letter} ({p[order[0]]:.0%}; then "
                      + ", ".join(f"{model.labels[i]} {p[i]:.0%}" for i in order[1:]) + ")"
                      + (f"  [given: {truth}]" if truth else ""))  # fmt: skip
        if not args.json and (rows.label != "").all():
            print(
                f"{path}: {right} of {len(probs)} rows read as their letter ({right / max(len(probs), 1):.1%})"
            )
    return out


def _cmd_train_letters(args) -> int:
    from ..training.letters import fit, leave_one_person_out, load_letter_data

    sources = args.data or [
        str(settings.REPO.parent / "shared" / "data" / "asl-letters-massey" / "labels.csv")
    ]
    data = load_letter_data(sources, progress=not args.quiet)
    people = sorted(set(data.person.tolist()))
    print(f"{len(data.label)} labelled hands of {len(people)} people from {len(sources)} source(s) "
          f"({len(data.missed)} images without a hand found)")  # fmt: skip
    meta: dict = {
        "data": [Path(s).parent.name if Path(s).name == "labels.csv" else Path(s).name for s in sources]
    }
    if args.evaluate:
        report = leave_one_person_out(
            data, args.epochs, args.seed, args.representation, per_person=len(sources) > 1
        )
        print(f"leave one person out: {report['accuracy']:.3f} ("
              + ", ".join(f"{p} {r['accuracy']:.3f}" for p, r in report["per_person"].items()) + ")")  # fmt: skip
        meta["leave_one_person_out"] = report
    labels = sorted(set(data.label.tolist()))
    model = fit(data, np.arange(len(data.label)), labels, args.epochs, args.seed, args.representation,
                per_person=len(sources) > 1)  # fmt: skip
    model.meta.update(meta)
    print(
        f"letter model ({len(labels)} letters and digits, {args.representation}) written to {model.save(args.out)}"
    )
    return 0


def _add_spell(sub) -> None:
    p = sub.add_parser("spell", help="fingerspelling: the letter of each hand image, the word of each clip")
    p.add_argument("files", nargs="*", metavar="FILE", help="still images of a hand, or clips")
    p.add_argument("--landmarks", action="append", metavar="FILE.csv",
                   help="hand landmarks, a row per hand (x0, y0, ... x20, y20[, z0 ... z20]; a letter column and "
                   "others allowed): a letter per row; repeat for several files")  # fmt: skip
    p.add_argument("--model", help="letter model folder (default: the bundled one)")
    p.add_argument("--json", action="store_true", help="letters, times and confidence as JSON")
    p.set_defaults(func=_cmd_spell)
    p = sub.add_parser("train-letters", help="train the fingerspelling letter model")
    p.add_argument("--data", action="append",
                   help="labels.csv with path,label,signer (images of one hand), or a landmark CSV (x0, y0, ... "
                   "x20, y20, letter, person: letters-webcam's layout); repeat for several (default: "
                   "../shared/data/asl-letters-massey/labels.csv)")  # fmt: skip
    p.add_argument("--representation", default="both", choices=("both", "2d", "3d"),
                   help="what the model reads: the 2D points around the wrist and the 3D hand shape where there "
                   "is depth (both), or one of them")  # fmt: skip
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--evaluate", action="store_true", help="leave-one-person-out figures first")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_train_letters)


def add(sub) -> None:
    """Register this module's commands."""
    _add_predict(sub)
    _add_spell(sub)
