"""Sign glosses -> the parts of an English clause: who does what to whom, where, when, asked or denied.

ASL orders and marks things differently from English: time is given once, up front (YESTERDAY);
the question word often comes last (YOU GO WHERE); negation can close the clause (ME LIKE MILK NOT);
a topic can come first (STORE ME GO); pronouns and possessives are signs of their own (MINEMY, HESHEIT,
WEUS); there are no articles, no copula and no verb endings. ``parse`` reads one clause of glosses,
each already given one sense (``lexicon.Entry``), into a ``Clause``, and says how badly the reading
fits (``penalty``): the composer tries the senses of each gloss, and the look-alike signs the
recogniser also considered, and keeps the reading that fits best.
"""

from __future__ import annotations

from .clause import NP, Clause, Token
from .lexicon import Entry

LINKING = {"look", "feel", "taste", "seem", "smell", "sound", "get", "become", "stay"}  # + an adjective
WITH_VERBS = {"play"}  # play + a thing: play with a puzzle


def parse(tokens: list[Token]) -> Clause:
    """One clause, each gloss with the sense it was given."""
    c = Clause(penalty=sum(t.cost for t in tokens))
    rest = _markers(tokens, c)
    items = _chunks(rest, c)
    verb_at = next((i for i, it in enumerate(items) if it[0] == "v"), None)
    if verb_at is None:
        _verbless(items, c)
    else:
        _before_verb(items[:verb_at], c)
        _after_verb(items[verb_at:], c)
    _check_sense(c)
    return c


def _markers(tokens: list[Token], c: Clause) -> list[Entry]:
    """Time, negation, modals, the question word, please and shh: noted; the other words returned."""
    rest: list[Entry] = []
    for k, t in enumerate(tokens):
        e = t.entry
        if c.wh is not None and c.wh.text in ("which", "what", "whose") and c.wh_noun is None and rest == [] and \
                e.pos == "n" and not e.has("name") and tokens[k - 1].entry is c.wh and e.text != "time":  # fmt: skip
            c.wh_noun = e  # which shirt
        elif c.wh is not None and c.wh.text == "how" and e.pos == "det" and e.text == "many" and rest == []:
            c.wh_many = True  # how many cats
        elif c.wh_many and c.wh_noun is None and e.pos == "n" and rest == []:
            c.wh_noun = e
        elif e.pos == "time":
            c.times.append(e)
        elif e.pos == "neg":
            c.neg, c.never = True, c.never or e.text == "never"
        elif e.pos == "modal":
            c.penalty += 1.0 if c.modal is not None else 0.0
            c.modal = e
        elif e.pos == "wh" and c.wh is None:
            c.wh = e
        elif e.pos == "interj" and e.text in ("please", "shh"):
            c.please, c.shh = c.please or e.text == "please", c.shh or e.text == "shh"
        elif e.pos in ("interj", "conj", "wh"):
            c.penalty += 1.0  # a greeting or a second question word inside a clause
        else:
            rest.append(e)
    return rest


def _chunks(words: list[Entry], c: Clause) -> list[tuple]:
    """Words -> ("np", NP) | ("v", verb) | ("adj", adjective) | ("pp", prep, NP) | ("adv", word)."""
    items: list[tuple] = []
    i = 0
    while i < len(words):
        e = words[i]
        feeling_said = e.pos == "adj" and bool(e.tag_value("about")) and bool(items) and items[-1][0] == "np"
        if (
            e.pos in ("n", "pron", "poss", "det", "num")
            or e.pos == "adj"
            and _noun_follows(words, i)
            and not feeling_said
        ):
            after_giving = (
                bool(items)
                and items[-1][0] == "v"
                and (
                    items[-1][1].has("ditrans")
                    or items[-1][1].has("motion")
                    and i + 1 < len(words)
                    and words[i + 1].has("place")
                )
            )  # give me a gift; drive me to school
            np, i = _noun_phrase(words, i, after_giving)
            items.append(("np", np))
            continue
        if (
            e.pos == "prep"
            and i + 1 < len(words)
            and words[i + 1].pos in ("n", "pron", "poss", "det", "adj", "num")
        ):
            np, i = _noun_phrase(words, i + 1, False)
            items.append(("pp", e.text, np))
            continue
        if e.pos == "adv" and e.has("place"):
            items.append(("np", NP(head=e)))
        else:
            items.append((e.pos if e.pos in ("v", "adj") else "adv", e))
        i += 1
    return items


def _noun_follows(words: list[Entry], i: int) -> bool:
    j = i
    while j < len(words) and words[j].pos == "adj":
        j += 1
    return (
        j < len(words) and words[j].pos == "n" and not words[j].has("name") and not words[j].has("adverbial")
    )


def _noun_phrase(words: list[Entry], i: int, after_giving: bool) -> tuple[NP, int]:
    """The noun phrase that starts at i, and where the next word is."""
    np = NP()
    e = words[i]
    nxt = words[i + 1] if i + 1 < len(words) else None
    if e.pos == "pron":
        if (
            nxt is not None
            and nxt.pos == "n"
            and not after_giving
            and not nxt.has("name")
            and not nxt.has("adverbial")
        ):
            return _noun_phrase_from(words, i + 1, NP(poss=e))  # you name -> your name
        return NP(head=e), i + 1
    if e.pos in ("poss", "det", "num"):
        if nxt is not None and (nxt.pos == "n" or nxt.pos == "adj" and _noun_follows(words, i + 1)):
            base = NP(poss=e) if e.pos == "poss" else NP(det=e)
            return _noun_phrase_from(words, i + 1, base)
        return (NP(poss=e) if e.pos == "poss" else NP(head=e)), i + 1  # mine; that
    return _noun_phrase_from(words, i, np)


def _noun_phrase_from(words: list[Entry], i: int, np: NP) -> tuple[NP, int]:
    while i < len(words) and words[i].pos == "adj":
        np.adjs.append(words[i])
        i += 1
    if i < len(words) and words[i].pos == "n":
        np.head = words[i]
        i += 1
    return np, i


def _before_verb(items: list[tuple], c: Clause) -> None:
    """Subject (and a topic: STORE ME GO, APPLE ME LIKE) before the verb."""
    nps = [it[1] for it in items if it[0] == "np" and not it[1].is_place]
    places = [it[1] for it in items if it[0] == "np" and it[1].is_place and not _bare(it[1])]
    if not nps and places:
        nps = places[:1]  # FARM HAVE MANY COW: the farm has
    for k, it in enumerate(items):
        if it[0] == "np" and any(it[1] is x for x in nps):
            continue
        if it[0] == "pp" or it[0] == "np" and it[1].is_place:
            c.location = (it[1] if it[0] == "pp" else _static(it[1]), it[-1])
        elif it[0] == "adj" and k == len(items) - 1:
            c.lead_adjective = it[1]  # ME HAPPY SEE YOU: I am happy to see you
        elif it[0] != "np":
            c.penalty += 1.0
    nps = _coordinate(nps)
    if len(nps) == 1:
        c.subject = nps[0]
    elif len(nps) >= 2:
        topic, c.subject = nps[-2], nps[-1]
        c.objects.append(topic)
        c.penalty += 0.5 + (0.0 if c.subject.is_person and not topic.is_person else 1.0) + len(nps) - 2


def _coordinate(nps: list[NP]) -> list[NP]:
    """Two people or animals in a row do it together: MOM DAD WORK -> Mom and Dad work."""
    out: list[NP] = []
    for np in nps:
        prev = out[-1] if out else None
        if (
            prev is not None
            and not np.is_pron
            and not prev.is_pron
            and _kind(prev)
            and _kind(prev) == _kind(np)
        ):
            prev.also.append(np)
        else:
            out.append(np)
    return out


def _kind(np: NP) -> str:
    h = np.head
    if h is None:
        return ""
    return "person" if h.has("person") else "animal" if h.has("animal") else ""


def _after_verb(items: list[tuple], c: Clause) -> None:
    c.verbs.append(items[0][1])
    rest = items[1:]
    while rest and rest[0][0] == "v":
        if not (c.verbs[-1].has("to") or c.verbs[-1].has("motion")):
            c.penalty += 1.5  # two actions with nothing to join them
        c.verbs.append(rest.pop(0)[1])
    verb = c.verbs[-1]
    for k, it in enumerate(rest):
        if it[0] == "np" and it[1].head is not None and it[1].head.has("when"):
            c.when.append(it[1])  # EVERY DAY: when, said at the end
        elif it[0] == "np" and c.purpose:
            c.purpose_objects.append(it[1])  # go to the store to buy MILK
        elif it[0] == "np":
            _verb_np(verb, it[1], [x for x in rest[k + 1 :] if x[0] == "np"], c)
        elif it[0] == "pp":
            _attach_place((it[1], it[2]), c)
        elif it[0] == "adj":
            _verb_adjective(verb, it[1], c)
        elif it[0] == "v" and verb.has("motion") and c.location is not None and not c.purpose:
            c.purpose.append(it[1])  # GO OUTSIDE PLAY: go outside to play
        elif it[0] == "v":
            c.penalty += 1.5
        else:
            c.adverbs.append(it[1].text)


def _verb_np(verb: Entry, np: NP, later: list, c: Clause) -> None:
    """Where a noun phrase after the verb goes: an object, where to, or where it happens."""
    if (
        verb.has("ditrans")
        and not c.objects
        and (np.is_person or np.head is not None and np.head.has("animal"))
        and later
    ):
        c.objects.append(np)  # give me a gift, give the dog food
    elif np.is_place and (verb.has("motion") or verb.has("into") or verb.has("sit")) and c.location is None:
        c.location = (_destination(verb, np), np)
    elif verb.tag_value("prep") and not np.is_locatable and c.location is None:
        c.location = (verb.tag_value("prep") or "", np)  # wait for me, listen to music
    elif verb.has("intrans") and not np.is_locatable and verb.text in WITH_VERBS and c.location is None:
        c.location = ("with", np)
    elif np.is_place and c.objects or np.is_locatable and (verb.has("intrans") or verb.text == "live"):
        _attach_place((_static(np), np), c)
    elif verb.has("intrans"):
        c.penalty += 1.0
        c.objects.append(np)
    else:
        c.penalty += 0.5 * len(c.objects)
        c.objects.append(np)


def _destination(verb: Entry, np: NP) -> str:
    """Where a movement goes: to the store, into the pool, down the stairs, home."""
    h = np.head
    if h is not None and h.has("adverbial"):
        return ""
    if verb.has("into"):
        return h.tag_value("fall") or "into" if h is not None else "into"
    return "to" if verb.has("motion") else _static(np)


def _static(np: NP) -> str:
    """The preposition for being at a place: in the closet, on the farm, at the store; home alone."""
    h = np.head
    if h is None or h.has("adverbial") or h.pos == "adv":
        return ""
    return next((p for p in ("on", "at", "in") if h.has(p)), "in" if h.has("place") else "on")


def _attach_place(pp: tuple[str, NP], c: Clause) -> None:
    if (
        c.objects
        and c.objects[-1].place is None
        and c.objects[-1].head is not None
        and c.location is not None
    ):
        c.objects[-1].place = pp
    elif c.location is None:
        c.location = pp
    elif c.objects and c.objects[-1].place is None:
        c.objects[-1].place = pp
    elif (
        c.location[0] in ("with", "for", "to", "at")
        and c.location[1].head is not None
        and not _placeish(c.location[1])
    ):
        c.extra_places.append(pp)  # play with a ball outside
    else:
        c.penalty += 1.0


def _placeish(np: NP) -> bool:
    return np.is_locatable


def _verb_adjective(verb: Entry, adj: Entry, c: Clause) -> None:
    if verb.text in LINKING or verb.has("state") and verb.text in ("think", "feel"):
        c.complement.append(adj)
    elif adj.tag_value("adverb") and (verb.has("intrans") or verb.has("motion") or adj.text == "fast"):
        c.adverbs.append(adj.tag_value("adverb") or adj.text)  # drive fast, bark loudly
    elif c.objects and c.objects[-1].head is not None:
        c.objects[-1].adjs.append(adj)  # HAVE CAR RED: a red car
    else:
        c.penalty += 1.0
        c.complement.append(adj)


def _verbless(items: list[tuple], c: Clause) -> None:
    """No verb: X is adjective, X is somewhere, X is Y, it is snowing, or a noun phrase alone."""
    nps = _coordinate([it[1] for it in items if it[0] == "np"])
    items = [it for it in items if it[0] != "np" or any(it[1] is m for m in nps)]
    c.subject = next((np for np in nps if not np.is_place), None) or next(
        (np for np in nps if not _bare(np)), None
    )
    for it in items:
        if it[0] == "np" and it[1] is c.subject:
            continue
        if it[0] == "np" and it[1].is_place and c.location is None:
            c.location = (_static(it[1]), it[1])
        elif it[0] == "np" and c.about is None and c.complement and c.complement[-1].tag_value("about"):
            c.about = it[1]  # BOY HAPPY NEW SHOE: the boy is happy with the new shoe
        elif it[0] == "np" and c.predicate is None:
            c.predicate = it[1]
            s = c.subject
            c.penalty += (
                0.0 if s is not None and (s.is_pron or s.head is not None and s.head.text == "name") else 0.5
            )
            if s is not None and not s.is_pron and s.is_person != it[1].is_person:
                c.penalty += 1.0  # DAD CAR: Dad is not a car
        elif it[0] == "pp" and c.location is None:
            c.location = (it[1], it[2])
        elif it[0] == "adj":
            c.complement.append(it[1])
        elif it[0] == "adv" and it[1].pos in ("adv", "prep"):
            c.adverbs.append(it[1].text)
        else:
            c.penalty += 1.5
    s = c.subject
    if (
        s is not None
        and s.head is not None
        and s.head.has("weather")
        and not c.complement
        and c.predicate is None
    ):
        c.weather, c.subject = s.head, None  # SNOW OUTSIDE: it is snowing outside
    if c.predicate is not None and c.complement:
        c.penalty += 1.0
    if (
        c.subject is None
        and c.predicate is None
        and not c.complement
        and c.location is None
        and c.weather is None
    ):
        c.penalty += 2.0
    elif c.subject is not None and not (c.predicate or c.complement or c.location or c.weather):
        c.penalty += 0.2 + (
            1.0 if c.please else 0.0
        )  # a thing named and nothing said of it (please: a request)


def _bare(np: NP) -> bool:
    """A place said without an article (home, outside, there): where something is, not what."""
    return np.head is not None and np.poss is None and (np.head.has("adverbial") or np.head.pos == "adv")


def _check_sense(c: Clause) -> None:
    """What the verb takes and what adjectives suit: a reading that goes against them costs."""
    verb = c.verbs[-1] if c.verbs else None
    wants = verb.tag_value("obj") if verb is not None else None
    if wants:
        for np in c.objects:
            if np.head is not None and np.head.pos == "n" and not np.head.has(wants) and np.head.known:
                c.penalty += 1.0
    subject = c.subject.head if c.subject is not None else None
    for adj in c.complement:
        for sex, other in (("male", "female"), ("female", "male")):
            if adj.has(sex) and subject is not None and subject.has(other):
                c.penalty += 1.0
