"""`slr extract` (labelled clips -> a Kaggle-layout dataset) and `slr cache`."""

from __future__ import annotations

import os


def _cmd_extract(args) -> int:
    from ..base.errors import ConfigError
    from ..datasets.extraction import extract_dataset

    if (args.labels is None) == (args.eaf is None):
        raise ConfigError(
            "give either LABELS.csv (labelled clips) or --eaf FOLDER (videos annotated in ELAN)"
        )
    if args.eaf is not None:
        from ..datasets.eaf import extract_eaf

        corpus = extract_eaf(args.eaf, args.out, args.tier, args.sign_map, args.gloss_map, args.workers,
                             progress=not args.quiet)  # fmt: skip
        print(corpus.summary())
        return 0
    if args.tier or args.gloss_map:
        raise ConfigError("--tier and --gloss-map go with --eaf FOLDER")
    report = extract_dataset(args.labels, args.out, args.workers, args.sign_map, progress=not args.quiet)
    print(report.summary())
    return 1 if report.failures else 0  # a script must see that some clips did not make it


def _cmd_cache(args) -> int:
    from ..datasets.cache import build_cache, load_or_build_cache
    from ..datasets.data import load_dataset

    dataset = load_dataset(args.data, args.sign_map)
    build = build_cache if args.rebuild else load_or_build_cache
    cache = build(dataset, args.cache_dir, args.workers, progress=not args.quiet)
    print(f"{len(cache)} sequences, {int(cache.lengths().sum())} frames cached in {cache.path}")
    for path, why in cache.skipped:
        print(f"  SKIPPED {path}: {why}")
    return 0


def _add_extract(sub) -> None:
    p = sub.add_parser(
        "extract", help="labelled clips, or videos annotated in ELAN -> a Kaggle-layout keypoint dataset"
    )
    p.add_argument(
        "labels", nargs="?", help="labels.csv with path,sign[,participant_id] (paths relative to it)"
    )
    p.add_argument(
        "--eaf", metavar="FOLDER", help="a folder of .eaf files and their videos: one sequence per annotation"
    )
    p.add_argument("--tier", help="with --eaf: the tier of glosses (default: the one tier with annotations)")
    p.add_argument(
        "--gloss-map", help="with --eaf: CSV gloss,sign for glosses not spelled as the sign map's signs"
    )
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


def add(sub) -> None:
    """Register this module's commands."""
    _add_extract(sub)
    _add_cache(sub)
