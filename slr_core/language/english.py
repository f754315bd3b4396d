"""A parsed clause -> English words: articles, agreement, tense and aspect, questions, negation.

``clause_text(clause, style)`` writes one clause; ``Style`` holds the choices English leaves open
where the signs do not say (he or she, the time word first or last, my aunt or Aunt, simple or
-ing), so that the composer can offer the alternatives.
"""

from __future__ import annotations

from .clause import Clause
from .lexicon import Entry, gerund, participle, past, plural, third_person
from .nouns import Style, Who, noun_phrase, owner_of, place_text, pronoun

WANTS_IT = {"want", "need", "like", "love", "hate", "have"}  # ME NO WANT: I do not want it
PARTICLES = {"up", "down", "off", "on", "out", "away", "back"}
WEATHER_ADJ = {"hot", "cold", "warm", "cool", "sunny", "windy", "cloudy", "rainy", "snowy", "dark", "quiet", "noisy",
               "loud", "wet"}  # fmt: skip
TIME_TEXT = {"morning": ("in the morning", "this morning"), "night": ("at night", "last night"),
             "finish": ("", ""), "already": ("", ""), "after": ("", ""), "ago": ("", "")}  # fmt: skip


def clause_text(c: Clause, style: Style) -> tuple[str, bool]:
    """The clause in English, and whether it asks a question."""
    if c.reason_only and c.subject is not None:
        return "of " + noun_phrase(c.subject, "location", style), False  # because of the gift
    who = _subject(c, style)
    if c.wh is not None:
        return _question(c, who, style), True
    if c.weather is not None:
        return _join(["it", _weather(c), _location(c, style), *c.adverbs], c, style), False
    if not c.verbs:
        return _copula_clause(c, who, style), False
    words: list[str | None] = [
        who.text,
        *_verb_group(c, who, style),
        *_objects(c, who, style),
        _location(c, style),
        *_adverbs(c, style),
    ]
    if c.lead_adjective is not None and who.text is not None:
        words = _lead_adjective(c, who, style)
    if c.elided:
        words = words[1:]
    if who.text is None and c.please:
        words.insert(0, "please")
    return _join(words, c, style), False


def _lead_adjective(c: Clause, who: Who, style: Style) -> list[str | None]:
    """I am happy to see you (a feeling, then what it is about); I am tired and want to sleep."""
    adj = c.lead_adjective.text if c.lead_adjective is not None else ""
    be = _be(who, c.tense).split(" ")
    rest = Clause(verbs=c.verbs, objects=c.objects, location=c.location, adverbs=c.adverbs, times=c.times)
    if c.verbs[0].has("to"):
        return [who.text, *be, adj, "and", *_verb_group(rest, who, style), *_objects(rest, who, style),
                _location(c, style)]  # fmt: skip
    return [who.text, *be, adj, "to", *(v.text for v in c.verbs[:1]), *_chain(c), *_objects(rest, who, style),
            _location(c, style), *_adverbs(c, style)]  # fmt: skip


def _subject(c: Clause, style: Style) -> Who:
    s = c.subject
    if s is not None and s.head is not None and s.head.pos == "pron" and s.poss is None:
        return pronoun(s.head.text, style)
    if s is not None and c.carried:
        owner = owner_of(s)
        return pronoun({"his": "he", "her": "she", "their": "they"}.get(owner, "it"), style)
    if s is not None:
        return Who(noun_phrase(s, "subject", style), 3, s.plural, owner_of(s))
    if not c.verbs and (c.please or c.shh) and c.complement:
        return Who(None, 2)  # shh, quiet: be quiet
    if c.weather is not None or c.complement and not c.verbs and _weather_like(c):
        return Who("it")
    if c.wh is not None and not (c.wh.text == "who" and c.verbs) and c.predicate is None:
        return Who("you", 2)  # why sad: why are you sad
    if c.modal is not None:
        return Who("I", 1)  # have to go home: I have to
    if c.verbs and (c.please or c.shh or not _states(c)) or not c.verbs and (c.please or c.shh):
        return Who(None, 2)  # an order
    if c.wh is not None and c.wh.text == "who" or c.predicate is not None:
        return Who(None, 3)
    return Who("I", 1)  # a dropped subject is the signer


def yes_no_question(c: Clause, style: Style) -> str | None:
    """The clause asked as a yes/no question (Are you hungry? Do you like pizza?), which ASL shows on the
    face, not with a sign; None where the clause is not a plain statement about someone."""
    if (
        c.wh is not None
        or c.weather is not None
        or c.elided
        or c.conditional
        or c.neg
        or c.never
        or c.please
        or c.shh
    ):
        return None
    if c.lead_adjective is not None or c.reason_only or c.subject is None:
        return None
    who = _subject(c, style)
    if who.text is None or who.text in ("i", "I", "we", "there"):
        return None
    if not c.verbs:
        pred = _predicate(c, style)
        if not pred or c.location is not None and c.location[0] == "into":
            return None
        be = _be(who, c.tense).split(" ")
        return _join([be[0], who.text, *be[1:], pred], c, style)
    aux, main = _auxiliaries(c, who, c.verbs[0], style)
    if not aux or aux == ["never"]:  # a simple tense needs do
        aux = ["did"] if c.tense == "past" else ["does" if who.person == 3 and not who.plural else "do"]
        main = [c.verbs[0].text]
    tail = [*main, *_chain(c), *_objects(c, who, style), _location(c, style), *_adverbs(c, style)]
    return _join([aux[0], who.text, *aux[1:], *tail], c, style)


def _weather_like(c: Clause) -> bool:
    return all(a.text in WEATHER_ADJ for a in c.complement) or bool(c.times and c.location)


def _states(c: Clause) -> bool:
    return all(v.has("state") for v in c.verbs[:1])


def _location(c: Clause, style: Style) -> str:
    return place_text(c.location, style) if c.location is not None else ""


def _adverbs(c: Clause, style: Style | None = None) -> list[str]:
    """What follows the objects and the place: to play (a purpose), outside, fast, every day."""
    style = style or Style()
    out = []
    if c.purpose:
        objects = [noun_phrase(np, "object", style, c.purpose[-1]) for np in c.purpose_objects]
        out.append(" ".join(["to", c.purpose[0].text, *objects]))
    out += [place_text(p, style) for p in c.extra_places]
    out += [a for a in c.adverbs if a not in PARTICLES]
    return out + [noun_phrase(np, "predicate", style) for np in c.when]


def _objects(c: Clause, who: Who, style: Style) -> list[str]:
    verb = c.verbs[-1]
    out = [p for p in c.adverbs if p in PARTICLES]
    recipient = verb.has("ditrans") and len(c.objects) == 2  # give THE DOG food
    out += [noun_phrase(np, "location" if recipient and k == 0 else "object", style, verb, who.owner)
            for k, np in enumerate(c.objects)]  # fmt: skip
    out += [_adjective(a) for a in c.complement]
    if not c.objects and not c.complement and verb.text in WANTS_IT and len(c.verbs) == 1:
        out.append("it")
    return out


def _adjective(a: Entry) -> str:
    return "the same" if a.text == "same" else a.text


def _chain(c: Clause) -> list[str]:
    """The verbs after the first: want to drink, like to dance, go eat."""
    out: list[str] = []
    for before, v in zip(c.verbs, c.verbs[1:]):
        out += ["to", v.text] if before.has("to") else [v.text] if before.has("motion") else ["and", v.text]
    return out


def _verb_group(c: Clause, who: Who, style: Style) -> list[str]:
    """The tensed verb with its auxiliaries, negation and the verbs that follow it."""
    verbs = list(c.verbs)
    if c.modal is not None and c.modal.text == "have to":
        verbs.insert(0, Entry("have", "have", "v", frozenset({"to"})))
    main = verbs[0].text
    rest = _chain(Clause(verbs=verbs))
    if c.done and not c.neg:
        return [past("finish"), gerund(main), *rest]
    if who.text is None:  # an order
        return ["do", "not", main, *rest] if c.neg else [main, *rest]
    aux = _auxiliaries(c, who, verbs[0], style)
    return [*aux[0], *aux[1], *rest]


def _auxiliaries(c: Clause, who: Who, verb: Entry, style: Style) -> tuple[list[str], list[str]]:
    """(auxiliaries with the negation, the main verb's form) for a statement."""
    v, tense, no = verb.text, c.tense, ["not"] if c.neg and not c.never else []
    never = ["never"] if c.never else []
    if c.modal is not None and c.modal.text not in ("will", "have to"):
        modal = "could" if tense == "past" and c.modal.text == "can" else c.modal.text
        return [modal, *no, *never], [v]
    if tense == "future":
        return ["will", *no, *never], [v]
    if c.never and tense == "present":
        return [_have(who), "never"], [participle(v)]
    if tense == "past":
        return (["did", *no], [v]) if no else (never, [past(v)])
    if _progressive(c, verb, style):
        return [_be(who, "present"), *no], [gerund(v)]
    if no:
        return ["does" if who.person == 3 and not who.plural else "do", *no], [v]
    return never, [third_person(v) if who.person == 3 and not who.plural else v]


def _progressive(c: Clause, verb: Entry, style: Style) -> bool:
    if verb.has("state") or c.conditional or style.simple and c.wh is None:
        return False
    now = any(t.has("present") and t.text == "now" for t in c.times)
    return now or c.wh is not None and not style.simple and not verb.has("habit")


def _have(who: Who) -> str:
    return "has" if who.person == 3 and not who.plural else "have"


def _be(who: Who, tense: str) -> str:
    if tense == "past":
        return "were" if who.plural or who.person == 2 else "was"
    if tense == "future":
        return "will be"
    return "am" if who.person == 1 and not who.plural else "are" if who.plural or who.person == 2 else "is"


def _copula_clause(c: Clause, who: Who, style: Style) -> str:
    """No verb: the dog is happy, the book is on the table, that is your jacket, there are trees."""
    pred = _predicate(c, style)
    if c.subject is None and not pred and c.times:
        return _join([], c, style)  # a time word alone: Yesterday.
    if who.text is None and not pred:
        return _join(["be", *(_adjective(a) for a in c.complement)], c, style) if c.shh or c.please else ""
    if who.text is None and (c.please or c.shh):
        return _join(["please" if c.please else "", "be", pred], c, style)
    if c.subject is not None and not pred and not c.times and not c.neg:
        return noun_phrase(c.subject, "predicate", style)  # a noun phrase alone: My dog. Ice cream.
    s = c.subject
    if s is not None and c.location is not None and not c.complement and s.det is not None and s.plural:
        who = Who("there", 3, True)  # there are many trees outside
        pred = noun_phrase(s, "object", style) + " " + _location(c, style)
    if c.location is not None and c.location[0] == "into" and not c.complement:
        return _join([who.text, *_verb_group(_with_verb(c, "go"), who, style), _location(c, style)], c, style)
    be = _be(who, c.tense).split(" ")
    neg = ["not"] if c.neg else []
    return _join([who.text, be[0], *neg, *be[1:], pred], c, style)


def _predicate(c: Clause, style: Style) -> str:
    words = [_adjective(a) for a in c.complement]
    adj = " and ".join(words)
    if c.about is not None and c.complement:
        known = Style(
            style.she, style.time_first, style.simple, style.bare_relatives, definite=True
        )  # the thing
        adj += f" {c.complement[-1].tag_value('about')} {noun_phrase(c.about, 'object', known)}"
    if c.done and not words and c.predicate is None:
        adj = "finished"
    pred = noun_phrase(c.predicate, "predicate", style) if c.predicate is not None else ""
    return " ".join(x for x in (adj, pred, _location(c, style), *c.adverbs) if x)


def _with_verb(c: Clause, verb: str) -> Clause:
    return Clause(
        verbs=[Entry(verb, verb, "v", frozenset({"motion"}))], times=c.times, neg=c.neg, modal=c.modal
    )


def _weather(c: Clause) -> str:
    w = c.weather.gloss if c.weather is not None else "rain"
    no = ["not"] if c.neg else []
    if c.tense == "past":
        return " ".join(["did", *no, w] if no else [past(w)])
    if c.tense == "future":
        return " ".join(["will", *no, w])
    if c.conditional:
        return " ".join(["does", *no, w] if no else [third_person(w)])
    return " ".join(["is", *no, gerund(w)])


def _question(c: Clause, who: Who, style: Style) -> str:
    """Where are you going? What do you want? Who is that? What time is it?"""
    wh = c.wh.text if c.wh is not None else "what"
    if (
        wh == "what"
        and c.subject is not None
        and c.subject.head is not None
        and c.subject.head.text == "time"
    ):
        return "what time is it"
    if c.wh_many and c.wh_noun is not None:
        wh = f"how many {plural(c.wh_noun)}"
        if not c.verbs and c.subject is None:  # how many cats: how many cats are there
            return " ".join(
                x for x in (wh, "are" if c.tense == "present" else "were", "there", _location(c, style)) if x
            )
    elif c.wh_noun is not None:
        wh += " " + c.wh_noun.text  # which shirt
    if wh == "how" and c.complement and not c.verbs and who.text:  # how old are you
        be = _be(who, c.tense).split(" ")
        return " ".join(["how", " ".join(_adjective(a) for a in c.complement), be[0], who.text, *be[1:]])
    if not c.verbs:
        subject = who.text or ""
        pred = " ".join(x for x in (" ".join(_adjective(a) for a in c.complement), _location(c, style)) if x)
        if c.predicate is not None:
            subject = noun_phrase(c.predicate, "subject", style) if not subject else subject
        be = _be(who if who.text else Who("it"), c.tense).split(" ")
        return " ".join(x for x in (wh, be[0], "not" if c.neg else "", subject, *be[1:], pred) if x)
    if wh == "who" and c.subject is None:  # who is crying, who wants pizza
        words = [*_verb_group(c, Who("who"), style), *_objects(c, Who("who"), style), _location(c, style)]
        return " ".join(x for x in ("who", *words) if x)
    return _inverted(c, who, wh, style)


def _inverted(c: Clause, who: Who, wh: str, style: Style) -> str:
    """Where does Grandma live? What are you eating? Why did the cat hide?"""
    aux, main = _auxiliaries(c, who, c.verbs[0], style)
    if not aux or aux == ["never"]:  # a simple tense needs do
        aux = ["did"] if c.tense == "past" else ["does" if who.person == 3 and not who.plural else "do"]
        main = [c.verbs[0].text]
    objects = _objects(c, who, style)
    if (
        c.wh is not None
        and (c.wh.text in ("what", "which", "who") or c.wh_noun is not None)
        and not c.objects
    ):
        objects = [o for o in objects if o != "it"]  # the question word is the object
    tail = [*main, *_chain(c), *objects, _location(c, style), *_adverbs(c, style)]
    return " ".join(x for x in (wh, aux[0], who.text or "you", *aux[1:], *tail) if x)


def _join(words: list, c: Clause, style: Style) -> str:
    """The clause's words with its time words, first or last."""
    body = " ".join(w for w in words if w)
    times = [t for t in (_time_text(t, c.tense) for t in c.times) if t]
    if not times:
        return body
    return " ".join([*times, body] if style.time_first else [body, *times])


def _time_text(t: Entry, tense: str) -> str:
    if t.gloss in TIME_TEXT:
        return TIME_TEXT[t.gloss][1 if tense == "past" else 0]
    return "" if t.has("done") else t.text
