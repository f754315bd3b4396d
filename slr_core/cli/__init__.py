"""The `slr` command: one module per group of subcommands (data, training, recognise, signs,
translate), each a thin wrapper over a function in slr_core. Errors that come from the user's
input (``errors.SLRError``, or a file the system cannot read) are printed as one line and exit with
status 2; a programming error keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..base.errors import SLRError
from . import data, recognise, signs, training, translate
from .training import torchrun_world


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slr", description="Sign-language recognition tools")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (data, training, recognise, signs, translate):
        module.add(sub)
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
    if args.command == "train" and torchrun_world() > 1:
        _exit_distributed_worker(code)
    return code


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
