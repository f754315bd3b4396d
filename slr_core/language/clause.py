"""What a clause is made of once read: its noun phrases, verbs, places, time words, question word and
negation (``Clause``), each gloss with the sense it was given (``Token``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .lexicon import Entry


@dataclass
class Token:
    entry: Entry
    gloss: str  # the sign recognised (it differs from entry.gloss when a look-alike was read instead)
    cost: float = 0.0  # of taking this sense rather than the first sense of the recognised sign


@dataclass
class NP:
    head: Entry | None = None  # a noun or pronoun; None for a possessive alone ("mine")
    det: Entry | None = None  # that, many, every, a number, ...
    poss: Entry | None = None  # a possessive pronoun, or the person who owns it (Mom's car)
    adjs: list[Entry] = field(default_factory=list)
    place: tuple[str, NP] | None = None  # a bird in the tree
    also: list[NP] = field(default_factory=list)  # Mom and Dad

    @property
    def is_pron(self) -> bool:
        return self.head is not None and self.head.pos in ("pron", "det")

    @property
    def is_person(self) -> bool:
        return self.head is not None and (self.head.pos == "pron" or self.head.has("person"))

    @property
    def is_place(self) -> bool:
        """A place one goes to or is at (the store, home)."""
        h = self.head
        return h is not None and h.pos != "pron" and bool({"place", "bare"} & h.tags)

    @property
    def is_locatable(self) -> bool:
        """Something one can be in or on (a place, a car, the phone)."""
        h = self.head
        return h is not None and h.pos != "pron" and bool({"place", "bare", "in", "on", "at"} & h.tags)

    @property
    def plural(self) -> bool:
        """For the verb: more than one (Mom and Dad are; the cats are)."""
        return bool(self.also) or self.many

    @property
    def many(self) -> bool:
        """The noun itself in the plural (many cats, the jeans)."""
        h, d = self.head, self.det
        if d is not None and (d.has("plural") or (d.pos == "num" and d.text != "one")):
            return True
        if h is None or d is not None and d.has("singular"):
            return False
        return h.has("plural") or h.text in ("we", "they", "these", "those")


@dataclass
class Clause:
    subject: NP | None = None
    verbs: list[Entry] = field(default_factory=list)  # want drink -> want to drink
    objects: list[NP] = field(default_factory=list)  # give me a gift: [me, gift]
    complement: list[Entry] = field(default_factory=list)  # adjectives after be or a linking verb
    location: tuple[str, NP] | None = None  # ("to", the store), ("", home)
    predicate: NP | None = None  # that is your jacket
    about: NP | None = None  # what a feeling is about: happy with the new shoe
    adverbs: list[str] = field(default_factory=list)
    when: list[NP] = field(default_factory=list)  # every day, said at the end
    purpose: list[Entry] = field(default_factory=list)  # go to the store to buy milk: buy
    purpose_objects: list[NP] = field(default_factory=list)  # ... milk
    extra_places: list[tuple[str, NP]] = field(default_factory=list)  # play with a ball outside: outside
    wh: Entry | None = None
    wh_noun: Entry | None = None  # which shirt, what color
    wh_many: bool = False  # how many cats
    reason_only: bool = False  # BECAUSE GIFT: because of the gift
    neg: bool = False
    never: bool = False
    modal: Entry | None = None
    times: list[Entry] = field(default_factory=list)
    please: bool = False
    shh: bool = False
    weather: Entry | None = None  # snow, rain as what happens: it is snowing
    carried: bool = False  # the subject is the previous clause's: say it as a pronoun
    elided: bool = False  # ... and left out (I went home and slept)
    inherited_tense: str = ""  # the tense of the clause before (yesterday I went and bought)
    conditional: bool = False  # an if-clause: simple tenses (if it rains)
    lead_adjective: Entry | None = None  # happy to see you; tired and want to sleep
    penalty: float = 0.0

    @property
    def tense(self) -> str:
        if self.inherited_tense and not self.times and self.modal is None:
            return self.inherited_tense
        tags = set().union(*(t.tags for t in self.times)) if self.times else set()
        if self.modal is not None and self.modal.text == "will" or "future" in tags:
            return "future"
        return "past" if "past" in tags or "done" in tags and self.verbs else "present"

    @property
    def done(self) -> bool:
        return any(t.has("done") for t in self.times)
