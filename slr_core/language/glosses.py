"""Sign glosses -> an English sentence, by rules (the composer used when FLAN-T5 is absent).

Sign languages order and mark things differently from English: no articles, no verb endings, time
given once by a word (yesterday, tomorrow), questions by a question word often at the end,
pronouns glossed as one sign (minemy, hesheit, weus). The rules cover the common patterns:

* greetings and answers set off at the start ("Hello, ...", "Yes, ...");
* a subject (pronoun, person or noun), the verb agreeing with it, and the tense from time words;
* articles before countable nouns, "and" between two nouns in a row, possessives (my dog);
* "to" between verbs (want drink -> want to drink), be before adjectives (dog happy -> is happy);
* negation with not/no (do not like, is not happy), and questions from where/who/why/what/how.

It is not a translator: it makes the keywords read as a plain sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

# Compound glosses of the vocabulary, and words glossed differently from their English.
COMPOUNDS = {
    "callonphone": ["call"], "frenchfries": ["french fries"], "icecream": ["ice cream"],
    "glasswindow": ["window"], "haveto": ["have", "to"], "thankyou": ["thank you"], "owie": ["boo-boo"],
    "shhh": ["shh"], "tv": ["TV"],
}  # fmt: skip
PRONOUNS = {  # gloss -> (subject, object, possessive, person: 1/2/3, plural)
    "i": ("I", "me", "my", 1, False), "me": ("I", "me", "my", 1, False), "minemy": ("I", "me", "my", 1, False),
    "you": ("you", "you", "your", 2, False), "yourself": ("you", "yourself", "your", 2, False),
    "hesheit": ("he", "him", "his", 3, False), "he": ("he", "him", "his", 3, False),
    "she": ("she", "her", "her", 3, False), "it": ("it", "it", "its", 3, False),
    "weus": ("we", "us", "our", 1, True), "we": ("we", "us", "our", 1, True), "they": ("they", "them", "their", 3, True),
}  # fmt: skip
PEOPLE = {"mom", "dad", "grandma", "grandpa", "aunt", "uncle"}  # names of people: no article
QUESTIONS = {"where", "who", "why", "what", "when", "how", "which"}
GREETINGS = {"hello", "hi", "bye", "goodbye", "thank you", "please", "yes", "no", "sorry"}
PAST = {"yesterday", "before", "ago", "finish"}
FUTURE = {"tomorrow", "later", "will", "soon"}
TIME_WORDS = PAST | FUTURE | {"now", "today", "morning", "night", "tonight"}
NEGATIONS = {"not", "no", "never"}
MASS = {"water", "milk", "food", "cereal", "grass", "snow", "rain", "gum", "chocolate", "ice cream",
        "french fries", "pizza", "juice", "time", "garbage", "hair"}  # fmt: skip
ADJECTIVES = {
    "happy", "sad", "mad", "hungry", "thirsty", "sleepy", "sick", "hot", "cold", "cute", "pretty", "dirty",
    "clean", "bad", "good", "fine", "loud", "quiet", "noisy", "wet", "dry", "sticky", "empty", "old", "fast",
    "high", "awake", "better", "same", "red", "blue", "green", "yellow", "white", "black", "brown", "orange",
    "yucky", "tired", "big", "small", "stuck",
}  # fmt: skip
IRREGULAR = {  # base -> (third person singular, past)
    "go": ("goes", "went"), "eat": ("eats", "ate"), "drink": ("drinks", "drank"), "have": ("has", "had"),
    "make": ("makes", "made"), "give": ("gives", "gave"), "find": ("finds", "found"), "see": ("sees", "saw"),
    "hear": ("hears", "heard"), "read": ("reads", "read"), "say": ("says", "said"), "think": ("thinks", "thought"),
    "sleep": ("sleeps", "slept"), "wake": ("wakes", "woke"), "ride": ("rides", "rode"), "hide": ("hides", "hid"),
    "blow": ("blows", "blew"), "cut": ("cuts", "cut"), "fall": ("falls", "fell"), "do": ("does", "did"),
    "can": ("can", "could"), "will": ("will", "would"), "buy": ("buys", "bought"), "come": ("comes", "came"),
    "drop": ("drops", "dropped"), "stay": ("stays", "stayed"), "cry": ("cries", "cried"), "kiss": ("kisses", "kissed"),
    "touch": ("touches", "touched"), "finish": ("finishes", "finished"), "wash": ("washes", "washed"),
}  # fmt: skip
VERBS = set(IRREGULAR) | {
    "like", "hate", "look", "listen", "talk", "dance", "jump", "wait", "pretend", "taste", "close", "open",
    "call", "want", "need", "love", "play", "help", "know", "nap", "shower", "bath", "vacuum", "smile", "walk",
    "learn", "sign", "work", "clean", "dry", "read", "write",
}  # fmt: skip
VERBS -= {"clean", "dry"}  # adjectives first: "dog dirty" is about the dog
TAKES_TO = {"want", "need", "like", "love", "hate", "have"}  # want + verb -> want to verb
MOTION = {"go", "come", "walk", "ride", "run", "drive"}  # go + a place -> go to the place
PLACES_BARE = {"home", "outside", "inside", "there", "here", "upstairs", "downstairs"}  # go home, go outside


@dataclass
class _Word:
    text: str
    kind: str  # pronoun | person | noun | verb | adj | time | neg | question | greeting


def _split(glosses: list[str]) -> list[str]:
    out: list[str] = []
    for g in glosses:
        key = g.strip().lower()
        out += COMPOUNDS.get(key, [g.strip()])
    return [w for w in out if w]


def _tag(word: str) -> _Word:
    w = word.lower()
    for kind, words in (("question", QUESTIONS), ("neg", NEGATIONS), ("time", TIME_WORDS)):
        if w in words:
            return _Word(w, kind)
    if w in PRONOUNS:
        return _Word(w, "pronoun")
    if w in PEOPLE or (word[:1].isupper() and word.lower() not in VERBS):  # a name keeps its capital
        return _Word(word if word[:1].isupper() else w, "person")
    if w in VERBS or w == "to":
        return _Word(w, "verb")
    if w in ADJECTIVES:
        return _Word(w, "adj")
    return _Word(w, "noun")


def _article(noun: str, subject: bool = False) -> str:
    if noun in MASS or noun.endswith("s"):
        return noun if not subject else f"the {noun}"
    if subject:
        return f"the {noun}"
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _verb_form(verb: str, person: int, plural: bool, tense: str) -> str:
    third, past = IRREGULAR.get(verb, (None, None))
    if tense == "past":
        return past or (verb + "d" if verb.endswith("e") else verb + "ed")
    if tense == "future":
        return f"will {verb}"
    if person == 3 and not plural:
        return third or (verb + "es" if verb.endswith(("s", "sh", "ch", "x")) else verb + "s")
    return verb


def _be(person: int, plural: bool, tense: str) -> str:
    if tense == "past":
        return "were" if plural or person == 2 else "was"
    if tense == "future":
        return "will be"
    return "am" if person == 1 and not plural else "are" if plural or person == 2 else "is"


def compose(glosses: list[str]) -> str:
    """One English sentence from glosses in signing order (empty for no words)."""
    words = [_tag(w) for w in _split(glosses)]
    if not words:
        return ""
    opening = []
    while words and words[0].text in GREETINGS and len(words) > 0:
        opening.append(words.pop(0).text)
    tense = (
        "past"
        if any(w.text in PAST for w in words)
        else "future"
        if any(w.text in FUTURE for w in words)
        else ""
    )
    times = [w.text for w in words if w.kind == "time" and w.text not in ("will", "finish")]
    question = next((w.text for w in words if w.kind == "question"), None)
    negative = any(w.kind == "neg" for w in words)
    if "no" in opening and len(opening) == 1 and words and not negative:
        pass  # "no" answering something: kept as "No, ..."
    core = [w for w in words if w.kind not in ("time", "question", "neg")]
    body = _clause(core, tense, negative, question) if core else ""
    parts = [p if k else (p.capitalize() if p == p.lower() else p) for k, p in enumerate(opening)]
    text = ", ".join([*parts, body] if body else parts)
    if times and body:
        text += " " + " ".join(times)
    if not text:
        text = question or ""
    text = text[0].upper() + text[1:]
    return text + ("?" if question else ".")


def _subject(core: list[_Word]) -> tuple[str, int, bool, list[_Word]]:
    """(subject phrase, person, plural, the words left)."""
    first = core[0]
    if first.kind == "pronoun":
        subj, _, _, person, plural = PRONOUNS[first.text]
        return subj, person, plural, core[1:]
    if first.kind in ("person", "noun"):
        nouns = [first]
        rest = core[1:]
        says_something = any(w.kind in ("verb", "adj") for w in rest)
        while says_something and rest and rest[0].kind in ("person", "noun"):  # dog cat happy: both are
            nouns.append(rest.pop(0))
        phrase = " and ".join(_named(n.text) if n.kind == "person" else _article(n.text, True) for n in nouns)
        return phrase, 3, len(nouns) > 1 or nouns[0].text.endswith("s"), rest
    return "", 1, False, core


def _clause(core: list[_Word], tense: str, negative: bool, question: str | None) -> str:
    possessive = core[0].kind == "pronoun" and len(core) > 1 and core[1].kind in ("noun", "person")
    if possessive:  # my dog ... : the pronoun owns the noun
        core = [_Word(f"{PRONOUNS[core[0].text][2]} {core[1].text}", "person"), *core[2:]]
    if core[0].kind in ("verb", "adj") and not question:
        core = [_Word("i", "pronoun"), *core]  # a dropped subject is the signer
    subj, person, plural, rest = _subject(core) if core[0].kind != "verb" else ("you", 2, False, core)
    verbs = [w for w in rest if w.kind == "verb"]
    adjs = [w.text for w in rest if w.kind == "adj"]
    objs = [w for w in rest if w.kind in ("noun", "person", "pronoun")]
    motion = bool(verbs) and verbs[-1].text in MOTION
    obj = " and ".join(_place(o) if motion else _object(o) for o in objs)
    if question and not verbs:  # where mom -> where is mom; why sad -> why are you sad
        subj = subj or "you"
        person, plural = (2, False) if subj == "you" else (person, plural)
        be = _be(person, plural, tense)
        tail = " ".join(x for x in (" ".join(adjs), obj) if x)
        return f"{question} {be}{' not' if negative else ''} {subj}{' ' + tail if tail else ''}"
    if not verbs and not adjs and not objs and core[0].kind in ("noun", "person"):
        return " ".join(w.text for w in core)  # one thing named: "Ice cream."
    if not verbs:  # subject + adjectives (or nouns): the dog is happy
        be = _be(person, plural, tense) + (" not" if negative else "")
        pred = " and ".join(adjs) if adjs else obj
        return " ".join(x for x in (subj, be, pred) if x)
    chain = _verb_chain([v.text for v in verbs if v.text != "to"])
    if question:
        aux = {"past": "did", "future": "will"}.get(tense, "does" if person == 3 and not plural else "do")
        return " ".join(x for x in (question, aux + (" not" if negative else ""), subj, chain, obj) if x)
    if negative:
        aux = {"past": "did not", "future": "will not"}.get(
            tense, "does not" if person == 3 and not plural else "do not"
        )
        return " ".join(x for x in (subj, aux, chain, obj) if x)
    first, *others = chain.split(" ", 1)
    verb = _verb_form(first, person, plural, tense)
    return " ".join(x for x in (subj, verb, *others, obj) if x)


def _verb_chain(verbs: list[str]) -> str:
    out = [verbs[0]]
    for v in verbs[1:]:
        out += ["to", v] if out[-1] in TAKES_TO else ["and", v]
    return " ".join(out)


def _object(w: _Word) -> str:
    if w.kind == "pronoun":
        return PRONOUNS[w.text][1]
    if w.kind == "person":
        return _named(w.text)
    return _article(w.text)


def _named(text: str) -> str:
    """A person's name with its capital (Mom, Maria); "my name" stays as it is."""
    return text.capitalize() if text.islower() and " " not in text else text


def _place(w: _Word) -> str:
    """Where a motion goes: home, outside; to the store."""
    if w.text in PLACES_BARE or w.kind != "noun":
        return w.text if w.kind != "pronoun" else f"to {PRONOUNS[w.text][1]}"
    return f"to the {w.text}"
