"""The words the sentence rules know: every label the sign model can produce, common personal words
and the function words (``lexicon.tsv``, with what each tag means), and English word forms.

A gloss the table does not hold is looked up in lemminflect's English lexicon (its parts of speech
and forms); a word neither knows is taken for a name (a fingerspelled name, most often). Word forms
(plurals, -s, past, participle, -ing) come from lemminflect, with the table's own for the few it
gets wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

TABLE = Path(__file__).with_name("lexicon.tsv")
NAMES = Path(__file__).with_name("names.txt")
# parts of speech as the table writes them -> the ones lemminflect reports, in the order tried
GUESS_ORDER = (("VERB", "v"), ("NOUN", "n"), ("ADJ", "adj"), ("ADV", "adv"))
IRREGULAR_PAST = {
    "be": ("was", "been"),
    "have": ("had", "had"),
    "do": ("did", "done"),
    "lie": ("lay", "lain"),
}
NUMBERS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
           "7": "seven", "8": "eight", "9": "nine", "10": "ten"}  # fmt: skip


@dataclass(frozen=True)
class Entry:
    gloss: str
    text: str  # the English for it ("ice cream", "Mom", "I")
    pos: str  # n v adj adv pron poss det prep wh neg time modal interj conj num
    tags: frozenset[str] = field(default_factory=frozenset)
    known: bool = True  # in the table (False: guessed from lemminflect, or a name)

    def has(self, tag: str) -> bool:
        return tag in self.tags

    def tag_value(self, key: str) -> str | None:
        """The value of a key=value tag (obj=food -> 'food')."""
        prefix = key + "="
        return next((t[len(prefix) :] for t in self.tags if t.startswith(prefix)), None)


@cache
def _table() -> dict[str, tuple[Entry, ...]]:
    out: dict[str, list[Entry]] = {}
    for line in TABLE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        gloss, text, pos, *rest = line.split("\t")
        tags = frozenset(t for t in (rest[0].split(",") if rest else []) if t)
        out.setdefault(gloss.lower(), []).append(Entry(gloss.lower(), text, pos, tags))
    return {k: tuple(v) for k, v in out.items()}


@cache
def _names() -> frozenset[str]:
    lines = [line for line in NAMES.read_text().splitlines() if not line.startswith("#")]
    return frozenset(" ".join(lines).split())


def known(gloss: str) -> bool:
    return gloss.lower() in _table()


def entries(gloss: str) -> tuple[Entry, ...]:
    """The senses of a gloss, the likeliest first: the table's, else lemminflect's, else a name."""
    word = gloss.strip()
    key = word.lower()
    table = _table()
    if key in table:
        return table[key]
    if key in NUMBERS or key.isdigit():
        return (Entry(key, NUMBERS.get(key, key), "num", known=False),)
    if key in _names():
        return (_name(word), *_guess(word)[:1])
    return _guess(word)


def _name(word: str) -> Entry:
    """A person's name, as spelled (capitalised when it came in lower case)."""
    text = word[:1].upper() + word[1:] if word.islower() else word
    return Entry(word.lower(), text, "n", frozenset({"name", "person"}), known=False)


def _guess(word: str) -> tuple[Entry, ...]:
    key = word.lower()
    lemmas = _lemmas(key) if re.fullmatch(r"[a-z]+(-[a-z]+)*", key) else {}
    out: list[Entry] = []
    for upos, pos in GUESS_ORDER:
        for lemma in lemmas.get(upos, ()):
            tags = {"plural"} if upos == "NOUN" and lemma != key else set()
            if upos == "VERB" and lemma != key and any(o.pos == "v" for o in out):
                continue  # an inflected form of a verb already read
            out.append(Entry(key, lemma if upos != "NOUN" else key, pos, frozenset(tags), known=False))
    return tuple(out) if out else (_name(word),)


@cache
def _lemmas(word: str) -> dict:
    import lemminflect

    return lemminflect.getAllLemmas(word)


@cache
def _inflect(word: str, tag: str) -> str:
    import lemminflect

    forms = lemminflect.getInflection(word, tag=tag)
    return forms[0] if forms else word


PHRASAL = {
    "wake up",
    "have to",
    "turn off",
    "turn on",
    "look at",
    "pick up",
    "take a bath",
    "take a shower",
}  # the first word takes the form


def _form(text: str, form: Callable[[str], str]) -> str:
    """A form of a phrase: of its first word for a phrasal verb (woke up), else of its last (ice creams)."""
    words = text.split(" ")
    i = 0 if text in PHRASAL else len(words) - 1
    words[i] = form(words[i])
    return " ".join(words)


def plural(entry: Entry) -> str:
    if entry.has("plural") or entry.has("mass"):
        return entry.text
    given = entry.tag_value("pl")
    if given:
        return given
    return _form(entry.text, lambda w: _inflect(w, "NNS"))


def third_person(verb: str) -> str:
    if verb in ("be", "have"):
        return {"be": "is", "have": "has"}[verb]
    return _form(verb, lambda w: _inflect(w, "VBZ"))


def past(verb: str) -> str:
    return _form(verb, lambda w: IRREGULAR_PAST.get(w, (None,))[0] or _inflect(w, "VBD"))


def participle(verb: str) -> str:
    return _form(verb, lambda w: IRREGULAR_PAST.get(w, (None, None))[1] or _inflect(w, "VBN"))


def gerund(verb: str) -> str:
    return _form(verb, lambda w: _inflect(w, "VBG"))


def article(noun_phrase: str) -> str:
    """'a' or 'an' for a phrase (by its first sound, roughly: an apple, a uniform, an hour)."""
    first = noun_phrase.split(" ", 1)[0].lower()
    vowel = first[:1] in "aeiou" and not first.startswith(("uni", "use", "eu", "one"))
    return "an" if vowel or first.startswith(("hour", "honest")) else "a"
