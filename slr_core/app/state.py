"""What the app knows about its surroundings: the models and datasets it may use, the folders it may
read, and the keyword list. No Streamlit here; the pages call these. Settings (folders, the default
model, ...) are read through ``settings``.

The app reads and writes only inside its folders: paths typed by a user are checked against them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..base import settings
from ..base.errors import ConfigError
from ..base.text import clean_word, phrase_words


def inside(path: str | Path, roots: list[Path]) -> Path:
    """`path` resolved, if it lies inside one of `roots`; otherwise ConfigError."""
    p = Path(path).expanduser().resolve()
    for root in roots:
        if p == root or root in p.parents:
            return p
    raise ConfigError(f"{path} is outside the allowed folders ({', '.join(str(r) for r in roots)})")


# --- models ----------------------------------------------------------------------------------------


@dataclass
class ModelEntry:
    name: str
    path: Path
    origin: str  # bundled | trained
    description: dict

    @property
    def label(self) -> str:
        return f"{self.name} ({self.summary})"

    @property
    def summary(self) -> str:
        """What the model is: where it comes from, its signs, what it was trained on."""
        d = self.description
        training = d.get("training", {})
        data = ", ".join(training.get("data", [])) or "unknown data"
        return (f"{self.origin}; {coverage(d)}; trained on {data} "
                f"({training.get('train_sequences', '?')} sequences)")  # fmt: skip


def coverage(description: dict) -> str:
    """How many of a model's signs it has training data for ("250 signs", or "250 signs, only 2 with
    training data" for a model trained on a subset: the others it can never answer right)."""
    signs = [x for x in description.get("labels", []) if not x.startswith("_")]
    signers = description.get("training", {}).get("signers_per_sign")
    if not signers:
        return f"{len(signs)} signs"
    with_data = sum(1 for s in signs if signers.get(s, 0) > 0)
    if with_data == len(signs):
        return f"{len(signs)} signs"
    return f"{len(signs)} signs, only {with_data} with training data"


def list_models() -> list[ModelEntry]:
    """Bundled models, then models trained in runs/, newest first; unreadable ones are skipped."""
    from ..models.checkpoint import WEIGHTS, CheckpointError, read_description
    from ..training.runs import MODEL_DIR

    found = []
    for origin, root, pattern in (("bundled", settings.models_dir(), f"*/{WEIGHTS}"),
                                  ("trained", settings.runs_dir(), f"*/{MODEL_DIR}/{WEIGHTS}")):  # fmt: skip
        if not root.is_dir():
            continue
        files = sorted(root.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=origin == "trained")
        for weights in files:
            try:
                desc = read_description(weights)
            except CheckpointError:
                continue
            name = weights.parent.name if origin == "bundled" else weights.parent.parent.name
            found.append(ModelEntry(name, weights.parent, origin, desc))
    return found


# --- datasets --------------------------------------------------------------------------------------


def list_datasets() -> list[Path]:
    """Kaggle-layout dataset folders (with train.csv) in the data roots, two levels deep."""
    found = []
    for root in settings.data_dirs():
        if not root.is_dir():
            continue
        for csv in sorted([*root.glob("train.csv"), *root.glob("*/train.csv"), *root.glob("*/*/train.csv")]):
            found.append(csv.parent.resolve())
    return list(dict.fromkeys(found))


def _data_rows(csv: Path) -> int:
    """Non-blank rows of a CSV file below its header (0 when unreadable)."""
    try:
        with open(csv, "rb") as f:
            return max(sum(1 for line in f if line.strip()) - 1, 0)
    except OSError:
        return 0


def sequence_count(folder: Path) -> int:
    """Sequences a dataset lists (the rows of its train.csv)."""
    return _data_rows(folder / "train.csv")


def datasets_by_size() -> dict[Path, int]:
    """The datasets of list_datasets() with their sequence counts, the largest first."""
    counts = {d: sequence_count(d) for d in list_datasets()}
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def extracted_from(folder: Path) -> Path | None:
    """The labels.csv a dataset made by `slr extract` came from (None for other datasets)."""
    try:
        return Path(json.loads((folder / "extract_report.json").read_text())["labels"]).resolve()
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clip_folders() -> list[Path]:
    """Folders of labelled clips (a labels.csv, no train.csv) in the data roots, two levels deep,
    that no dataset in the roots was extracted from yet."""
    done = {extracted_from(d) for d in list_datasets()}
    found = []
    for root in settings.data_dirs():
        if not root.is_dir():
            continue
        for csv in sorted([*root.glob("*/labels.csv"), *root.glob("*/*/labels.csv")]):
            if not (csv.parent / "train.csv").exists() and csv.resolve() not in done:
                found.append(csv.parent.resolve())
    return list(dict.fromkeys(found))


def sequence_count_of_labels(folder: Path) -> int:
    """Clips a labels.csv lists."""
    return _data_rows(folder / "labels.csv")


def dataset_name(folder: Path) -> str:
    """A dataset's folder as a person reads it: its path inside its data root."""
    for root in settings.data_dirs():
        try:
            return str(Path(folder).resolve().relative_to(root))
        except ValueError:
            continue
    return Path(folder).name


# --- keywords --------------------------------------------------------------------------------------


PERSONAL_FIGURES = "personal.json"  # written beside a model by bench/bench_personal.py --write


def personal_figures(model_dir: Path) -> str:
    """What a person's own examples give with this model's recipe, as the bench measured it ('' when
    it was not measured for this model)."""
    try:
        f = json.loads((Path(model_dir) / PERSONAL_FIGURES).read_text())
        text = (
            f"With {f['examples']} of your own examples of a sign, {f['library']:.0%} of your next repetitions "
            f"were recognised ({f['signers']} signers, {f['what']}; with your shoulders in view)"
        )
        if "finetuned" in f:
            text += f", {f['finetuned']:.0%} once the model was fine-tuned to them"
        if "one_example" in f:
            text += f"; with 1 example, {f['one_example']:.0%}"
        return text + "."
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def card_markdown(text: str) -> str:
    """A model card shown inside a page: its title dropped (the expander names it), its headings made
    smaller than the page's own."""
    if text.startswith("# "):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    return re.sub(r"^(#{1,3}) ", lambda m: "#" * (len(m.group(1)) + 3) + " ", text, flags=re.MULTILINE)


def keypoints_digest(data) -> str:
    """A fingerprint of an example's keypoints: the same clip added twice has the same one."""
    import hashlib

    import numpy as np

    rounded = np.nan_to_num(np.round(np.asarray(data, np.float32), 4), nan=-9.0)
    return hashlib.sha1(rounded.tobytes() + str(rounded.shape).encode()).hexdigest()[:16]


# A keyword is kept as an entry: the sign, and the look-alike signs the recogniser also considered
# ("cow{milk|water}"), so that the sentence composer may read a look-alike where it makes more sense.
LOOK_ALIKE_SHARE = 0.2  # a top-5 sign counts as a look-alike from this share of the first sign's probability
MAX_LOOK_ALIKES = 3


def keyword_entry(word: str, alternatives=()) -> str:
    """One keyword as stored (in the session and the URL): 'word' or 'word{alt|alt}'."""
    text = clean_word(word)
    alts = [a for a in (clean_word(x) for x in alternatives) if a and a.lower() != text.lower()]
    return f"{text}{{{'|'.join(alts)}}}" if text and alts else text


def entry_parts(entry: str) -> tuple[str, tuple[str, ...]]:
    """(the word, its look-alikes) of a stored keyword."""
    word, brace, rest = str(entry).partition("{")
    alts = tuple(a for a in (clean_word(x) for x in rest.rstrip("}").split("|")) if a) if brace else ()
    return clean_word(word), alts


def keyword_word(entry: str) -> str:
    """What a keyword shows: the sign recognised."""
    return entry_parts(entry)[0]


def event_keyword(label: str, top5) -> str:
    """A recognised sign as a keyword, with the look-alikes of its top-5 (signs of the model that came
    close: at least LOOK_ALIKE_SHARE of the first sign's probability)."""
    first = max((p for _, p in top5), default=0.0)
    alts = [n for n, p in top5 if n != label and not n.startswith("_") and p >= LOOK_ALIKE_SHARE * first]
    return keyword_entry(label, alts[:MAX_LOOK_ALIKES])


def confidence_text(confidence: float, personal: bool) -> str:
    """How sure an answer is, in words that do not mix two scales: the model's probability, or how
    alike a window is to the person's own examples."""
    return f"{confidence:.0%} like your examples" if personal else f"{confidence:.0%}"


def top5_text(top5, personal: bool) -> str:
    """A sign's top-5 as one line, the model's signs by their probability; a personal word (first,
    when it won) is named as yours rather than given a number on another scale."""
    items = list(top5)
    mine = [f"{items[0][0]} (your sign)"] if personal and items else []
    rest = sorted(items[1:] if personal else items, key=lambda np_: -np_[1])
    return ", ".join([*mine, *(f"{n} {p:.0%}" for n, p in rest)])


def as_keywords(entries: list[str]) -> list:
    """Stored keywords as the sentence composer takes them (language.glosses.Keyword)."""
    from ..language.glosses import Keyword

    return [Keyword(*entry_parts(e)) for e in entries if entry_parts(e)[0]]


def add_keywords(keywords: list[str], words: list[str]) -> list[str]:
    """Keywords with more added: a typed phrase ("yesterday grandma cook food") becomes one keyword
    per word; a sign's look-alikes are kept."""
    out = list(keywords)
    for raw in words:
        word, brace, _ = str(raw).partition("{")
        parts, _left = phrase_words(word)
        if len(parts) == 1 and brace:
            out.append(keyword_entry(*entry_parts(raw)))  # a recognised sign and its look-alikes
        else:
            out += [keyword_entry(p) for p in parts]
    return [w for w in out if w]


def move_keyword(keywords: list[str], index: int, step: int) -> list[str]:
    j = index + step
    if not (0 <= index < len(keywords) and 0 <= j < len(keywords)):
        return list(keywords)
    out = list(keywords)
    out[index], out[j] = out[j], out[index]
    return out


def remove_keyword(keywords: list[str], index: int) -> list[str]:
    return [w for i, w in enumerate(keywords) if i != index]


def encode_keywords(keywords: list[str]) -> str:
    """For the page URL, so that a reload keeps them (with their look-alikes)."""
    return ",".join(keywords)


MAX_URL_KEYWORDS = 200  # a URL is not a place for more; longer ones are cut, not trusted


def decode_keywords(raw: str | None) -> list[str]:
    items = (raw or "")[: MAX_URL_KEYWORDS * 120].split(",")[:MAX_URL_KEYWORDS]
    return [e for e in (keyword_entry(*entry_parts(x)) for x in items) if e]


NO_DATA = "no training data: it cannot recognise this sign"
ONE_CLIP = "one studio clip"
# What the people of a known data folder are, for the list of signs (other folders: "people in <folder>").
SOURCE_NAMES = {
    "popsign-kp": ("studio clip", "studio clips"),
    "asl-signs-subset": ("Kaggle signer", "Kaggle signers"),
    "asl-signs": ("Kaggle signer", "Kaggle signers"),
    "webcam-signs": ("webcam user", "webcam users"),
}
MANY_PEOPLE = 3  # a sign learned from this many people or more is "learned from many people"


def _people_phrase(by_source: dict[str, int]) -> str:
    """'13 webcam users + 12 Kaggle signers + 1 studio clip', most people first."""
    parts = []
    for folder, n in sorted(by_source.items(), key=lambda kv: (-kv[1], kv[0])):
        one, many = SOURCE_NAMES.get(folder, (f"person in {folder}", f"people in {folder}"))
        parts.append(f"{n} {one if n == 1 else many}")
    return " + ".join(parts)


def vocabulary(description: dict, personal_words: list[str] | None = None) -> list[dict]:
    """The signs a model knows and how: from how many people of which data (its training split), from
    one clip, or the person's own; `people` is the count (0: none)."""
    training = description.get("training", {})
    signers = training.get("signers_per_sign", {})
    by_source = training.get("people_per_sign", {})
    tuned, new = training.get("personal_words", {}), training.get("new_words", [])  # a fine-tuned model
    rows = []
    for sign in description.get("labels", []):
        if sign.startswith("_"):
            continue
        n = int(signers.get(sign) or 0)
        if not n:
            how = NO_DATA
        elif sign in by_source:
            how = _people_phrase(by_source[sign])
            how = ONE_CLIP if how == "1 studio clip" else how
        else:
            how = ONE_CLIP if n == 1 else f"{n} signers"
        if sign in new:
            how = "your own examples (fine-tuned)"
        elif sign in tuned:
            how += " + your own examples (fine-tuned)"
        rows.append({"sign": sign, "people": n, "learned from": how})
    for word in personal_words or []:
        rows.append({"sign": word, "people": 1, "learned from": "your own examples (personal)"})
    return rows
