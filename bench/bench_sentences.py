"""Sentences from signs: how often each composer writes English a person would accept.

The gloss sequences and their references are bench/sentences.tsv (written for this bench, several
acceptable sentences each). Within each pattern the items alternate between a development half and
a test half; rules were made looking at the development half only. A sentence is acceptable when it
equals a reference once case, punctuation and contractions are ignored.

Prints, for each composer (the rules; the rules with the small language model choosing among their
candidates, where its file is installed; FLAN-T5 where its weights are): the acceptable rate on each
half, per pattern, the rate for the best 3 (one of the 3 alternatives acceptable), and the time per
sentence (median and 90th percentile over all items, one thread of work on the machine).

Usage: python bench/bench_sentences.py [--halves dev,test] [--composers rules,ranked,t5] [--show]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections import defaultdict
from pathlib import Path

from common import REPO

parser = argparse.ArgumentParser()
parser.add_argument("--halves", default="dev,test")
parser.add_argument("--composers", default="rules,ranked,t5")
parser.add_argument("--show", action="store_true", help="print every sentence that was not acceptable")
parser.add_argument("--file", default=str(REPO / "bench" / "sentences.tsv"))
args = parser.parse_args()

from slr_core.language.glosses import Keyword  # noqa: E402
from slr_core.language.sentence import RankedComposer, RuleComposer, load_composer  # noqa: E402

CONTRACTIONS = {
    "i'm": "i am", "you're": "you are", "we're": "we are", "they're": "they are", "it's": "it is",
    "that's": "that is", "what's": "what is", "where's": "where is", "who's": "who is", "how's": "how is",
    "there's": "there is", "he's": "he is", "she's": "she is", "don't": "do not", "doesn't": "does not",
    "didn't": "did not", "can't": "can not", "cannot": "can not", "won't": "will not", "isn't": "is not",
    "aren't": "are not", "wasn't": "was not", "weren't": "were not", "haven't": "have not",
    "hasn't": "has not", "i've": "i have", "we've": "we have", "i'll": "i will", "we'll": "we will",
    "you'll": "you will", "he'll": "he will", "she'll": "she will", "it'll": "it will", "let's": "let us",
}  # fmt: skip


def normal(text: str) -> str:
    words = re.sub(r"[^\w\s']", " ", text.lower().replace("’", "'")).split()
    return " ".join(CONTRACTIONS.get(w, w) for w in words)


def parse_item(glosses: str) -> list:
    """'me drink cow{milk}' -> ['me', 'drink', Keyword('cow', alternatives=('milk',))]."""
    out: list = []
    for token in glosses.split():
        word, _, alts = token.partition("{")
        out.append(Keyword(word, tuple(a for a in alts.rstrip("}").split(",") if a)) if alts else word)
    return out


def load_items(path: str) -> list[dict]:
    items, seen = [], defaultdict(int)
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pattern, glosses, refs = line.split("\t")
        half = "dev" if seen[pattern] % 2 == 0 else "test"
        seen[pattern] += 1
        items.append(
            dict(pattern=pattern, glosses=glosses, refs=[r.strip() for r in refs.split(" | ")], half=half)
        )
    return items


def resident_mb() -> float:
    """This process's resident memory (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def loaded(name: str, load):
    """Load a composer, saying what it cost in time and memory."""
    before, t0 = resident_mb(), time.perf_counter()
    composer = load()
    if isinstance(composer, tuple):  # (composer, why not)
        composer, why = composer
        if composer is None:
            print(f"{name}: not measured ({why})")
            return None
    composer.compose(["dog", "eat", "apple"])  # the first sentence loads what the composer reads lazily
    print(
        f"{name}: loaded in {time.perf_counter() - t0:.1f} s, the process grew by {resident_mb() - before:.0f} MB"
    )
    return composer


def composers() -> dict:
    wanted = args.composers.split(",")
    out: dict = {}
    if "rules" in wanted:
        out["rules"] = loaded("rules", RuleComposer)
    if "ranked" in wanted:
        ranked = loaded("rules + language model", RankedComposer.load)
        if ranked is not None:
            out["rules + language model"] = ranked
    if "t5" in wanted:
        composer, why = load_composer()
        if why:
            print(f"FLAN-T5: {why}")
        elif composer.name.startswith("FLAN-T5"):
            out[composer.name] = composer
    return out


def run(name: str, composer, items: list[dict]) -> None:
    halves = args.halves.split(",")
    right: dict = defaultdict(list)
    right3: dict = defaultdict(list)
    per_pattern: dict = defaultdict(list)
    seconds = []
    misses = []
    for item in items:
        if item["half"] not in halves:
            continue
        t0 = time.perf_counter()
        sentence = composer.compose(parse_item(item["glosses"]), n=3)
        seconds.append(time.perf_counter() - t0)
        refs = {normal(r) for r in item["refs"]}
        ok = normal(sentence.text) in refs
        ok3 = any(normal(a) in refs for a in [sentence.text, *sentence.alternatives])
        right[item["half"]].append(ok)
        right3[item["half"]].append(ok3)
        per_pattern[item["pattern"]].append(ok)
        if not ok:
            misses.append(
                f"  [{item['half']}] {item['glosses']:32s} -> {sentence.text!r}  (want {item['refs'][0]!r})"
            )
    print(f"\n{name}")
    for half in halves:
        r, r3 = right[half], right3[half]
        print(f"  {half} half: {sum(r)}/{len(r)} = {sum(r) / len(r):.3f} acceptable; one of the best 3: "
              f"{sum(r3) / len(r3):.3f}")  # fmt: skip
    print(
        "  per pattern: "
        + ", ".join(f"{p} {sum(v) / len(v):.2f} ({len(v)})" for p, v in sorted(per_pattern.items()))
    )
    q = statistics.quantiles(seconds, n=10)
    print(f"  time per sentence: median {statistics.median(seconds) * 1000:.1f} ms, 90th percentile "
          f"{q[-1] * 1000:.1f} ms, longest {max(seconds) * 1000:.1f} ms ({len(seconds)} sentences)")  # fmt: skip
    if args.show:
        print("\n".join(misses))


items = load_items(args.file)
print(f"{len(items)} gloss sequences ({sum(i['half'] == 'dev' for i in items)} development, "
      f"{sum(i['half'] == 'test' for i in items)} test) from {args.file}")  # fmt: skip
for name, composer in composers().items():
    run(name, composer, items)
