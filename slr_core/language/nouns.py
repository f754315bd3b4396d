"""Noun phrases in English: pronouns in their forms, articles by what the phrase does in the clause
(the subject, an object, a place), possessives, plurals; and the choices English leaves open
(``Style``)."""

from __future__ import annotations

from dataclasses import dataclass

from .clause import NP
from .lexicon import Entry, article, plural

SUBJECT = {"I": "I", "yourself": "you", "that": "that", "this": "this", "these": "these", "those": "those"}
OBJECT = {"I": "me", "he": "him", "she": "her", "we": "us", "they": "them", "yourself": "yourself"}
POSSESSIVE = {"I": "my", "you": "your", "yourself": "your", "he": "his", "she": "her", "it": "its", "we": "our",
              "they": "their"}  # fmt: skip
ALONE = {"my": "mine", "your": "yours", "her": "hers", "our": "ours", "their": "theirs"}
PERSON = {"I": (1, False), "we": (1, True), "you": (2, False), "yourself": (2, False), "they": (3, True)}
PREFERENCE = {"like", "love", "hate"}  # I like dogs: a kind of thing, in the plural


@dataclass(frozen=True)
class Style:
    she: bool = False  # HESHEIT as she
    time_first: bool = False  # Yesterday Grandma cooked. / Grandma cooked yesterday.
    simple: bool = False  # Where do you go? rather than Where are you going?
    bare_relatives: bool = False  # Aunt has many cats. / My aunt has many cats.
    definite: bool = False  # the for an object where a is the default


@dataclass
class Who:
    """The subject as the verb sees it."""

    text: str | None  # None: an order (please close the drawer)
    person: int = 3
    plural: bool = False
    owner: str = "my"  # its possessive (brush MY teeth)


def pronoun(text: str, style: Style) -> Who:
    if text == "he" and style.she:
        text = "she"
    person, plural = PERSON.get(text, (3, False))
    return Who(SUBJECT.get(text, text), person, plural, POSSESSIVE.get(text, "its"))


def owner_of(np: NP) -> str:
    h = np.head
    if np.plural:
        return "their"
    return "her" if h is not None and h.has("female") else "his" if h is not None and h.has("male") else "its"


def noun_phrase(np: NP, role: str, style: Style, verb: Entry | None = None, owner: str = "my") -> str:
    """A noun phrase in English, its article chosen by what it does in the clause."""
    h = np.head
    if h is not None and h.pos in ("pron", "det") and np.poss is None and np.det is None:
        text = pronoun(h.text, style).text or h.text
        objective = role in ("object", "location", "destination")
        return OBJECT.get(h.text if text != "she" else "she", text) if objective else text
    if h is None:  # a possessive alone: mine, yours
        p = _possessive(np.poss, style) if np.poss is not None else ""
        return ALONE.get(p, p)
    head, many = _head_form(np, h, role, verb)
    body = " ".join([*(a.text for a in np.adjs), head])
    text = _determined(np, h, body, role, style, verb, owner, many)
    for other in np.also:
        more = noun_phrase(other, role, style, verb, owner)
        text += " and " + (
            more.lower() if np.poss is not None and other.head is not None and other.head.has("kin") else more
        )
    if np.place is not None:
        text += " " + place_text(np.place, style)
    return text


def _head_form(np: NP, h: Entry, role: str, verb: Entry | None) -> tuple[str, bool]:
    """The head noun's form, and whether it is a plural made here (no article then)."""
    many = np.many and not h.has("plural")
    generic = role == "object" and verb is not None and verb.text in PREFERENCE and _countable(h)
    brushed = verb is not None and verb.text == "brush" and h.gloss == "tooth"
    made = many or generic and np.det is None and np.poss is None and not h.has("place") or brushed
    return (plural(h), True) if made else (h.text, False)


def _countable(h: Entry) -> bool:
    return h.pos == "n" and not ({"mass", "plural", "kin", "name", "person"} & h.tags)


def _determined(
    np: NP, h: Entry, body: str, role: str, style: Style, verb: Entry | None, owner: str, many: bool
) -> str:
    if np.poss is not None:
        return f"{_possessive(np.poss, style)} {body.lower() if h.has('kin') else body}"
    if np.det is not None:
        d = np.det.text
        return f"all the {body}" if d == "all" else f"{d} {body}"
    if (
        h.has("name")
        or h.has("kin")
        or h.pos == "adv"
        or h.has("bare")
        and role in ("location", "destination")
    ):
        return body
    if h.has("relative"):
        return body.capitalize() if style.bare_relatives and not np.adjs else f"my {body}"
    if h.has("body") and role == "object":
        return f"{owner} {body}"
    if h.has("bare_to") and role == "destination":
        return body  # go to bed
    if (
        role in ("subject", "location", "destination")
        or h.has("place")
        and role == "object"
        or h.has("unique")
        or h.pos == "pron"
        or h.has("person")
    ):
        return f"the {body}"
    if h.has("mass") or h.has("plural") or many:
        return body  # water; jeans; cats
    definite = style.definite or verb is not None and verb.has("def")
    return f"the {body}" if definite else f"{article(body)} {body}"


def _possessive(poss: Entry, style: Style) -> str:
    if poss.pos == "poss":
        return poss.text
    if poss.pos == "pron":
        return POSSESSIVE.get(pronoun(poss.text, style).text or poss.text, "its")
    return poss.text + "'s"


def place_text(place: tuple[str, NP], style: Style) -> str:
    prep, np = place
    role = "destination" if prep == "to" else "object" if prep in ("with", "for") else "location"
    text = noun_phrase(np, role, style)
    return f"{prep} {text}" if prep else text
