"""What several commands share: argument types with plain messages, the model's notes, the library."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..base import settings


def argument(kind: type, least: float, rule: str, most: float | None = None):
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


probability = argument(float, 0, "between 0 and 1", most=1)  # a rejection threshold


non_negative = argument(float, 0, "0 or more")


at_least_one = argument(int, 1, "at least 1")


def print_notes(loaded) -> None:
    for note in loaded.notes:
        print(f"note: {note}", file=sys.stderr)


def with_library(loaded, args):
    """The model plus the person's library (matcher.PersonalClassifier)."""
    from ..recognition.library import Library
    from ..recognition.matcher import PersonalClassifier

    return PersonalClassifier(loaded, Library.open(library_dir(args)), device=args.device)


def library_dir(args) -> Path:
    return Path(args.library) if getattr(args, "library", None) else settings.library_dir()
