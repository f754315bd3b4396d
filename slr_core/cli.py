"""The `slr` command: extract, cache, train, eval, predict, translate.

Every subcommand is a thin wrapper over a function in slr_core; errors that come from the user's
input are printed as one line and exit with status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from .data import DatasetError


def _cmd_extract(args) -> int:
    from .data import extract_dataset

    report = extract_dataset(args.labels, args.out, args.workers, args.sign_map, progress=not args.quiet)
    print(report.summary())
    return 1 if report.failures and not report.written and not report.skipped_existing else 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slr", description="Sign-language recognition tools")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("extract", help="labelled clips -> a Kaggle-layout keypoint dataset")
    p.add_argument("labels", help="labels.csv with path,sign[,participant_id] (paths relative to it)")
    p.add_argument("--out", required=True, help="dataset folder to write")
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 1)), help="parallel processes")
    p.add_argument("--sign-map", default=None, help="sign_to_prediction_index_map.json (default: nearest)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_extract)

    p = sub.add_parser("cache", help="build the on-disk cache of a dataset")
    p.add_argument("--data", required=True, help="Kaggle-layout dataset folder")
    p.add_argument("--cache-dir", default=None, help="where caches live (default $SLR_CACHE_DIR or ~/.cache/slr)")
    p.add_argument("--sign-map", default=None)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--rebuild", action="store_true", help="rebuild even if a matching cache exists")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_cache)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (DatasetError, ValueError, FileNotFoundError) as exc:
        print(f"slr {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"slr {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
