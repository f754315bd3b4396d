"""Text that comes from a person (a keyword, a word's name, a run's name) made safe to show, to put
in a URL, a prompt or a folder name."""

from __future__ import annotations

import re
import unicodedata

MAX_WORD_CHARS = 40

_NOT_WORDLIKE = re.compile(r"[^\w\s'-]+", re.UNICODE)


def clean_word(raw) -> str:
    """One keyword made safe to show, to put in a URL and to prompt with: letters, digits, spaces,
    apostrophes and hyphens only (underscores become spaces), trimmed to MAX_WORD_CHARS. None and
    anything with nothing word-like in it give ''."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    text = "".join(ch for ch in text if ch.isprintable())
    text = _NOT_WORDLIKE.sub("", text.replace("_", " "))
    return re.sub(r"\s+", " ", text).strip()[:MAX_WORD_CHARS].strip()


MAX_TYPED_WORDS = 40  # words taken from one typed phrase


def phrase_words(raw) -> tuple[list[str], list[str]]:
    """A typed phrase ("yesterday grandma cook food") as clean words, one keyword each, never cut inside
    a word; and what was left out (words beyond MAX_TYPED_WORDS, and any word longer than
    MAX_WORD_CHARS, which no sign has), so the page can say so."""
    if raw is None:
        return [], []
    text = unicodedata.normalize("NFKC", str(raw))
    text = "".join(ch for ch in text if ch.isprintable())
    words = _NOT_WORDLIKE.sub(" ", text.replace("_", " ")).split()
    kept: list[str] = []
    left: list[str] = []
    for w in words:
        (kept if len(w) <= MAX_WORD_CHARS and len(kept) < MAX_TYPED_WORDS else left).append(w)
    return kept, left


def slug(name: str) -> str:
    """A safe folder name for a run."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-.")
    return s[:60]
