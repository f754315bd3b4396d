"""`slr translate`: keywords -> an English sentence."""

from __future__ import annotations

import sys


def _cmd_translate(args) -> int:
    from ..language.sentence import load_composer

    composer, why = load_composer(args.t5)
    if why:
        print(f"note: {why}", file=sys.stderr)
    sentence = composer.compose(args.words)
    print(sentence.text or f"({sentence.note})")
    print(
        f"composer: {sentence.composer}" + (f" ({sentence.note})" if sentence.note and sentence.text else "")
    )
    return 0


def _add_translate(sub) -> None:
    p = sub.add_parser("translate", help="keywords -> an English sentence (FLAN-T5 or rules)")
    p.add_argument("words", nargs="*", help="the recognised signs, in order")
    p.add_argument("--t5", help="folder of a saved FLAN-T5 (default: $SLR_T5_PATH, then the HF cache)")
    p.set_defaults(func=_cmd_translate)


def add(sub) -> None:
    """Register this module's commands."""
    _add_translate(sub)
