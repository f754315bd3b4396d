"""Sign glosses -> English sentences, by rules: the composer used without FLAN-T5.

The glosses are cut into sentences (a greeting, "because", "if" start a new part; a long run is cut
where its parts read best), each part is read as a clause (``grammar``) with every sense of its
glosses tried, and the look-alike signs the recogniser also considered (``Keyword.alternatives``),
and the reading that fits best is written in English (``english``). ``candidates`` returns the best
few sentences, the likeliest first, each with what was read differently ("read 'cow' as 'milk'").
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from functools import lru_cache

from ..base.text import clean_word
from .clause import Clause, Token
from .english import Style, clause_text, yes_no_question
from .grammar import parse
from .lexicon import Entry, entries, gerund

OPENERS = {"hello", "hi", "bye", "goodbye", "thankyou", "thanks", "yes", "no", "ok", "sorry", "please"}
STARTERS = OPENERS - {"no", "please"}  # these start a new sentence inside a run; no and please do not
SPLITTERS = {"because", "if", "but", "so"}
PHRASES = {("thank", "you"): "thankyou", ("ice", "cream"): "icecream", ("french", "fries"): "frenchfries",
           ("have", "to"): "haveto", ("call", "phone"): "callonphone"}  # fmt: skip
MAX_CLAUSE = 7  # a longer run without a greeting or conjunction is cut where its parts read best
MAX_READINGS = 96  # sense combinations tried per clause (the likeliest first)
ALT_COST = 0.6  # reading a look-alike sign instead of the one recognised
SENSE_COST = 0.3  # each step down a gloss's list of senses


@dataclass(frozen=True)
class Keyword:
    """A recognised sign, and the look-alike signs the recogniser also considered (its top-5)."""

    word: str
    alternatives: tuple[str, ...] = ()


@dataclass
class Reading:
    text: str
    notes: list[str] = field(default_factory=list)  # read 'cow' as 'milk'
    penalty: float = 0.0


def words_of(keywords) -> list[Keyword]:
    """Keywords cleaned, typed phrases split into words, letters spelled one by one joined into a word,
    known two-word phrases (thank you, ice cream) joined into their gloss."""
    words: list[Keyword] = []
    for raw in keywords or []:
        kw = raw if isinstance(raw, Keyword) else Keyword(str(raw) if raw is not None else "")
        alts = tuple(a for a in (clean_word(x).lower() for x in kw.alternatives) if a)
        parts = clean_word(kw.word).lower().split()
        words += [Keyword(p, alts if len(parts) == 1 else ()) for p in parts]
    out: list[Keyword] = []
    for k, w in enumerate(words):
        letter = len(w.word) == 1 and w.word.isalpha()
        run = letter and any(
            len(x.word) == 1 and x.word.isalpha() for x in words[max(k - 1, 0) : k + 2] if x is not w
        )
        if run and out and getattr(out[-1], "spelled", False) is True:
            out[-1] = Spelled(out[-1].word + w.word)  # M A R I A -> maria
        elif run:
            out.append(Spelled(w.word))
        elif out and (out[-1].word, w.word) in PHRASES:
            out[-1] = Keyword(PHRASES[(out[-1].word, w.word)])
        else:
            out.append(w)
    return out


@dataclass(frozen=True)
class Spelled(Keyword):
    """A word spelled letter by letter (a name, most often)."""

    spelled: bool = True


def candidates(keywords, n: int = 3) -> list[Reading]:
    """The best n English sentences for the keywords (none for no keywords)."""
    words = words_of(keywords)
    if not words:
        return []
    parts = _sentences(words)
    readings = [_part_readings(p) for p in parts]
    out: list[Reading] = []
    for variant in _variants(readings):
        text = " ".join(v.text for v in variant)
        if text and all(text != r.text for r in out):
            out.append(Reading(text, [x for v in variant for x in v.notes], sum(v.penalty for v in variant)))
        if len(out) >= n:
            break
    return out


def _variants(readings: list[list[Reading]]):
    """Whole texts: the best of every part first, then each part's next choices in turn."""
    yield [r[0] for r in readings]
    for i, options in enumerate(readings):
        for alt in options[1:]:
            yield [alt if j == i else r[0] for j, r in enumerate(readings)]


def _sentences(words: list[Keyword]) -> list[list[Keyword]]:
    """Cut where a greeting or answer follows other words (hello, thank you, yes, no start a part)."""
    parts: list[list[Keyword]] = [[]]
    for w in words:
        if w.word in STARTERS and parts[-1] and not _only_openers(parts[-1]):
            parts.append([w])
        else:
            parts[-1].append(w)
    return [p for p in parts if p]


def _only_openers(part: list[Keyword]) -> bool:
    return all(w.word in OPENERS for w in part)


def _part_readings(part: list[Keyword]) -> list[Reading]:
    """One part (greetings, a clause, a conjunction and its clause) in English, its best readings."""
    lead = []
    while part and part[0].word in OPENERS and _opens(part):
        lead.append(part.pop(0))
    if (
        lead
        and len(part) > 1
        and _vocative(part[:1])
        and entries(part[1].word)[0].pos in ("wh", "pron", "poss")
    ):
        lead.append(part.pop(0))  # HELLO GRANDMA HOW YOU: Hello Grandma, how are you?
    opener = ", ".join(_opener_text(w.word) for w in lead)
    thanks = _thanks_for(lead, part)
    if thanks:
        return thanks
    if part and lead and _vocative(part):
        return [Reading(_sentence(f"{opener}, {_vocative(part)}", False))]
    if not part:
        return [Reading(_sentence(opener, False))] if opener else []
    clauses = _clauses(part)
    if not clauses:  # only a conjunction: said as it is
        return [
            Reading(_sentence(", ".join(x for x in (opener, " ".join(w.word for w in part)) if x), False))
        ]
    out = []
    for style in _styles(clauses[0][1]):
        texts = [(conj, c.elided, clause_text(c, style)) for conj, c, _ in clauses]
        sentences = _combine(texts)
        first, asks = sentences[0]
        text = " ".join([_sentence(", ".join(x for x in (opener, first) if x), asks),
                         *(_sentence(t, q) for t, q in sentences[1:])])  # fmt: skip
        notes = [n for _, _, ns in clauses for n in ns]
        out.append(Reading(text, notes, sum(c.penalty for _, c, _ in clauses)))
    if len(clauses) == 1:  # the same clause asked: ASL marks a yes/no question on the face, not with a sign
        _, c, notes = clauses[0]
        asked = yes_no_question(c, Style())
        if asked:
            out.insert(
                1, Reading(_sentence(", ".join(x for x in (opener, asked) if x), True), notes, c.penalty)
            )
    return _unique(out)


def _thanks_for(lead: list[Keyword], part: list[Keyword]) -> list[Reading]:
    """THANKYOU HELP: Thank you for helping. THANKYOU FOOD: Thank you for the food. (One word after
    thank you: what the thanks are for.)"""
    if not lead or lead[-1].word != "thankyou" or len(part) != 1:
        return []
    before = ", ".join(_opener_text(w.word) for w in lead[:-1])
    out = []
    for e in entries(part[0].word):
        if e.pos == "v" and not e.has("state"):
            out.append(f"thank you for {gerund(e.text)}")
        elif e.pos == "n" and not e.has("kin") and not e.has("name"):
            out.append(f"thank you for {'' if e.has('bare') else 'the '}{e.text}")
    return [Reading(_sentence(", ".join(x for x in (before, t) if x), False)) for t in out]


def _opens(part: list[Keyword]) -> bool:
    """Whether the first word is a greeting or an answer set off before the rest (Yes, ...; No, ...):
    please before a request, and no before a verb (no touch: do not touch), belong to the clause."""
    first, nxt = part[0].word, part[1].word if len(part) > 1 else None
    if nxt is None:
        return True
    if first == "please":
        return nxt in STARTERS
    if nxt in OPENERS:
        return True
    return not (first == "no" and entries(nxt)[0].pos in ("v", "modal"))


def _opener_text(word: str) -> str:
    e = entries(word)[0]
    if e.pos != "interj" and (e.has("kin") or e.has("name")):
        return e.text  # a person greeted: Grandma
    return {"thankyou": "thank you", "ok": "OK"}.get(word, word)


def _vocative(part: list[Keyword]) -> str:
    """Thank you, Mom: one person named after a greeting."""
    if len(part) != 1:
        return ""
    e = entries(part[0].word)[0]
    return e.text if e.has("kin") or e.has("name") else ""


def _clauses(part: list[Keyword]) -> list[tuple[str, Clause, list[str]]]:
    """(conjunction, clause, notes) for each clause of a part: cut at because, if, but, so; after
    "if" (and in a long run) where the two halves read best."""
    segments: list[tuple[str, list[Keyword]]] = [("", [])]
    for w in part:
        if w.word in SPLITTERS:
            segments.append((w.word, []))
        else:
            segments[-1][1].append(w)
    out: list[tuple[str, Clause, list[str]]] = []
    for conj, words in segments:
        if not words:
            continue
        if conj == "if":
            halves = _cut(words, True)
        else:
            halves = [h for run in _runs(words) for h in (_cut(run, False) if _poor(run) else [run])]
        for k, half in enumerate(halves):
            clause, notes = _best(half)
            clause.conditional = conj == "if" and k == 0
            clause.reason_only = conj == "because" and _only_a_thing(clause)
            out.append((conj if k == 0 else ("then" if conj == "if" else "and"), clause, notes))
    if out:
        _carry_subjects(out)
    return out


def _poor(words: list[Keyword]) -> bool:
    """A run of words that reads badly as one clause (two clauses signed without a pause, maybe)."""
    return len(words) > 3 and _best(words)[0].penalty >= 1.5


def _only_a_thing(c: Clause) -> bool:
    """A clause that names a thing and says nothing of it."""
    said = (c.verbs, c.complement, c.location, c.predicate, c.wh, c.neg, c.weather)
    return (
        c.subject is not None and c.subject.head is not None and c.subject.head.pos == "n" and not any(said)
    )


def _runs(words: list[Keyword]) -> list[list[Keyword]]:
    """A long run without greetings or conjunctions cut into clauses of at most MAX_CLAUSE words,
    each cut where the clause before it reads best (the longer one when equal)."""
    out: list[list[Keyword]] = []
    while len(words) > MAX_CLAUSE:
        k = min(range(2, MAX_CLAUSE + 1), key=lambda k: (_best(words[:k])[0].penalty, -k))
        out.append(words[:k])
        words = words[k:]
    return [*out, words] if words else out


def _cut(words: list[Keyword], always: bool) -> list[list[Keyword]]:
    """Two halves where they read best together (always, or when that reads better than whole)."""
    if len(words) < 2:
        return [words]
    cuts = [[words[:k], words[k:]] for k in range(1, len(words))]
    best = min(cuts, key=lambda cut: (sum(_best(p)[0].penalty for p in cut), -len(cut[0])))
    whole = _best(words)[0].penalty
    return best if always or sum(_best(p)[0].penalty for p in best) + 1.0 < whole else [words]


def _carry_subjects(clauses: list[tuple[str, Clause, list[str]]]) -> None:
    """A clause after because/if without a subject of its own is about the first one's subject
    (the baby is crying because it is hungry); the clause after an if-clause is in the future."""
    first = clauses[0][1]
    for conj, c, _ in clauses[1:]:
        if c.subject is None and first.subject is not None and conj in ("because", "but", "so", "and"):
            c.subject = first.subject
            c.carried = True
            c.elided = conj == "and"  # I went to the store and bought milk
        if conj in ("and", "because", "but", "so"):
            c.inherited_tense = first.tense
        if conj == "then" and not c.times and c.modal is None and (c.subject is not None or not c.verbs):
            c.modal = Entry("will", "will", "modal")


def _best(part: list[Keyword]) -> tuple[Clause, list[str]]:
    """The reading of a clause that fits best: every sense of each gloss and its look-alikes tried."""
    clause, notes = _best_of(tuple(part))
    return copy.deepcopy(clause), list(notes)


@lru_cache(maxsize=512)
def _best_of(part: tuple[Keyword, ...]) -> tuple[Clause, tuple[str, ...]]:
    options = [_senses(w) for w in part]
    best: tuple[Clause, tuple[str, ...]] | None = None
    for combo in itertools.islice(itertools.product(*options), MAX_READINGS):
        clause = parse(list(combo))
        if best is None or clause.penalty < best[0].penalty - 1e-9:
            notes = tuple(f"read '{t.gloss}' as '{t.entry.gloss}'" for t in combo if t.entry.gloss != t.gloss)
            best = (clause, notes)
    assert best is not None
    return best


def _senses(w: Keyword) -> list[Token]:
    out = [Token(e, w.word, SENSE_COST * i) for i, e in enumerate(entries(w.word))]
    for alt in w.alternatives:
        out += [Token(e, w.word, ALT_COST + SENSE_COST * i) for i, e in enumerate(entries(alt))]
    return out


def _styles(first: Clause) -> list[Style]:
    """The default, then the choices English leaves open for this clause."""
    styles = [Style()]
    if first.times:
        styles.append(Style(time_first=True))
    if _mentions(first, "he"):
        styles.append(Style(she=True))
    if first.verbs or first.wh is not None:
        styles.append(Style(simple=True))
    if first.subject is not None and first.subject.head is not None and first.subject.head.has("relative"):
        styles.append(Style(bare_relatives=True))
    if first.objects:
        styles.append(Style(definite=True))
    return styles


def _mentions(c: Clause, pronoun: str) -> bool:
    nps = [c.subject, c.predicate, *c.objects]
    return any(np is not None and (np.head is not None and np.head.text == pronoun or
                                   np.poss is not None and np.poss.text == pronoun) for np in nps)  # fmt: skip


def _combine(texts: list[tuple[str, bool, tuple[str, bool]]]) -> list[tuple[str, bool]]:
    """Clauses joined into sentences: 'if it rains, we will stay home'; 'I am sad because the dog is
    sick'; 'I went to the store and bought milk'; a clause with a subject of its own after a long run
    starts a sentence."""
    out: list[tuple[str, bool]] = []
    for conj, elided, (text, asks) in texts:
        if not out or conj == "and" and not elided:
            out.append((f"{conj} {text}" if conj and conj != "and" else text, asks))
        elif conj == "then":
            out[-1] = (f"{out[-1][0]}, {text}", out[-1][1] or asks)
        else:
            out[-1] = (f"{out[-1][0]} {conj} {text}", out[-1][1] or asks)
    return out


def _sentence(text: str, question: bool) -> str:
    text = text.strip()
    if not text:
        return ""
    return text[0].upper() + text[1:] + ("?" if question else ".")


def _unique(readings: list[Reading]) -> list[Reading]:
    out: list[Reading] = []
    for r in readings:
        if r.text and all(r.text != o.text for o in out):
            out.append(r)
    return out
