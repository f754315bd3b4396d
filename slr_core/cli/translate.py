"""`slr translate`: keywords -> English sentences (the best, then the next best)."""

from __future__ import annotations

import sys

from .args import at_least_one


def _cmd_translate(args) -> int:
    from ..language.glosses import Keyword
    from ..language.sentence import load_composer

    composer, why = load_composer(args.t5)
    if why:
        print(f"note: {why}", file=sys.stderr)
    words = [_keyword(w, Keyword) for w in args.words]
    sentence = composer.compose(words, args.n)
    print(sentence.text or f"({sentence.note})")
    for k, alternative in enumerate(sentence.alternatives, 2):
        print(f"{k}. {alternative}")
    for read in sentence.reads:
        print(f"note: {read}")
    print(
        f"composer: {sentence.composer}" + (f" ({sentence.note})" if sentence.note and sentence.text else "")
    )
    return 0


def _keyword(text: str, keyword: type):
    """WORD, or WORD{ALT,ALT}: a sign and the look-alikes the recogniser also considered."""
    word, brace, alts = text.partition("{")
    return keyword(word, tuple(a for a in alts.rstrip("}").split(",") if a.strip())) if brace else text


def _add_translate(sub) -> None:
    p = sub.add_parser("translate", help="keywords -> English sentences (FLAN-T5 or rules)")
    p.add_argument(
        "words", nargs="*", help="the recognised signs, in order; WORD{ALT,ALT} adds look-alike signs"
    )
    p.add_argument("--n", type=at_least_one, default=3, help="how many sentences to show, the best first (3)")
    p.add_argument("--t5", help="folder of a saved FLAN-T5 (default: $SLR_T5_PATH, then the HF cache)")
    p.set_defaults(func=_cmd_translate)


def add(sub) -> None:
    """Register this module's commands."""
    _add_translate(sub)
