"""The sentence stage: recognised keywords in, English sentences out (the best one and alternatives).

Three composers share one interface (``compose(keywords, n) -> Sentence``, the best sentence with up
to n - 1 alternatives):

* FLAN-T5 (``T5ForConditionalGeneration`` and its tokenizer) with the seed report's prompt and
  deterministic decoding, on the GPU when there is one;
* the rules (``glosses``): a lexicon of every sign the app can produce and ASL's patterns (time
  first, the question word last, negation, possession, plurals), which read each gloss in every sense
  and the recogniser's look-alike signs and keep the reading that fits;
* the rules with a small language model choosing among their candidates (``ranker``), where its
  file is installed.

FLAN-T5 weights come from a local folder (``SLR_T5_PATH`` or a path given by the caller) or else from
the Hugging Face cache for ``SLR_T5_MODEL`` (default ``google/flan-t5-small``). Nothing is ever
downloaded (``local_files_only``), so loading cannot hang on a missing network; when the weights are
absent the reason is kept and shown, and the rules take over.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..base import settings
from ..base.text import clean_word
from .glosses import Keyword, candidates

PROMPT = (
    "Here are a sequence of words obtained from a sign language recognition model. Take this sequence "
    "of words and output a plausible sentence in natural English that the user could possibly be trying "
    "to communicate: {keywords}"
)
MAX_KEYWORDS = 50  # the most recent ones are used; FLAN-T5 reads 512 tokens at most
MAX_NEW_TOKENS = 40  # a sentence; generation stops earlier at the end-of-sentence token


@dataclass
class Sentence:
    text: str
    composer: str  # which composer made it
    note: str = ""  # anything the user should know (fallback reason, keywords dropped, ...)
    seconds: float = 0.0
    alternatives: list[str] = field(default_factory=list)  # the next best sentences, best first
    reads: list[str] = field(default_factory=list)  # look-alike signs read otherwise: read 'cow' as 'milk'


def clean_keywords(keywords) -> tuple[list[Keyword], str]:
    """Keywords cleaned (see clean_word; empty ones dropped; look-alikes kept), repeats in a row
    merged; at most MAX_KEYWORDS (the latest), and a note saying what was left out."""
    words: list[Keyword] = []
    repeats = 0
    for raw in keywords or []:
        kw = raw if isinstance(raw, Keyword) else Keyword(raw if isinstance(raw, str) else str(raw or ""))
        text = clean_word(kw.word)
        if not text:
            continue
        if words and words[-1].word.lower() == text.lower() and len(text) > 1:  # letters may repeat (a-n-n-a)
            repeats += 1
            continue
        words.append(Keyword(text, kw.alternatives))
    notes = [f"{repeats} repeated keyword(s) in a row read once"] if repeats else []
    if len(words) > MAX_KEYWORDS:
        left = [w.word for w in words[:-MAX_KEYWORDS]]
        notes.append(f"used the last {MAX_KEYWORDS} of {len(words)} keywords; left out: {' '.join(left[:20])}"
                     + (" ..." if len(left) > 20 else ""))  # fmt: skip
        words = words[-MAX_KEYWORDS:]
    return words, "; ".join(notes)


def words_text(words) -> str:
    """Keywords (or plain words) as the prompt reads them: the signs recognised, in order."""
    return " ".join(w.word if isinstance(w, Keyword) else str(w) for w in words)


class RuleComposer:
    """The rules (``glosses``): every reading of the glosses tried, the one that fits best written."""

    name = "rules"

    def compose(self, keywords, n: int = 3) -> Sentence:
        t0 = time.perf_counter()
        words, note = clean_keywords(keywords)
        if not words:
            return Sentence("", self.name, "no keywords to translate yet")
        found = candidates(words, n)
        if not found:
            return Sentence("", self.name, "no words to translate in these keywords")
        return Sentence(found[0].text, self.name, note, time.perf_counter() - t0,
                        [r.text for r in found[1:n]], found[0].notes)  # fmt: skip


class RankedComposer:
    """The rules' candidates, the small language model choosing among them (``ranker``)."""

    CANDIDATES = 6  # the rules' best few; the model reads them in one batch

    def __init__(self, lm) -> None:
        self.lm = lm
        self.name = "rules + language model"

    @classmethod
    def load(cls, path: str | Path | None = None) -> tuple[RankedComposer | None, str]:
        from .ranker import LanguageModel

        lm, why = LanguageModel.load(path)
        return (cls(lm), "") if lm is not None else (None, why)

    def compose(self, keywords, n: int = 3) -> Sentence:
        t0 = time.perf_counter()
        words, note = clean_keywords(keywords)
        if not words:
            return Sentence("", self.name, "no keywords to translate yet")
        found = candidates(words, self.CANDIDATES)
        if not found:
            return Sentence("", self.name, "no words to translate in these keywords")
        scores = self.lm.score([r.text for r in found]) if len(found) > 1 else [0.0]
        ranked = [r for _, r in sorted(zip(scores, found), key=lambda sr: -sr[0])]
        return Sentence(ranked[0].text, self.name, note, time.perf_counter() - t0,
                        [r.text for r in ranked[1:n]], ranked[0].notes)  # fmt: skip


class T5Composer:
    """FLAN-T5 with the seed's prompt and deterministic (greedy) decoding."""

    def __init__(self, model, tokenizer, source: str, device: str) -> None:
        self.model, self.tokenizer, self.source, self.device = model, tokenizer, source, device
        self.name = f"FLAN-T5 ({source})"

    def prompt(self, words) -> str:
        return PROMPT.format(keywords=words_text(words))

    def compose(self, keywords, n: int = 3) -> Sentence:
        """The greedy sentence (as the seed decodes it), then beam search's other best sentences."""
        t0 = time.perf_counter()
        words, note = clean_keywords(keywords)
        if not words:
            return Sentence("", self.name, "no keywords to translate yet")
        texts = self._generate(words, 1, 1)
        if not texts:
            fallback = RuleComposer().compose(words, n)
            return Sentence(fallback.text, self.name + " + rules", "FLAN-T5 returned nothing; rules used",
                            time.perf_counter() - t0, fallback.alternatives)  # fmt: skip
        if n > 1:
            texts += [t for t in self._generate(words, n + 1, n) if t not in texts]
        return Sentence(texts[0], self.name, note, time.perf_counter() - t0, texts[1:n])

    def _generate(self, words: list[Keyword], beams: int, count: int) -> list[str]:
        import torch

        inputs = self.tokenizer(self.prompt(words), return_tensors="pt", truncation=True, max_length=512)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, num_beams=beams,
                                      num_return_sequences=count, do_sample=False)  # fmt: skip
        texts = [self.tokenizer.decode(o, skip_special_tokens=True).strip() for o in out]
        return [t for i, t in enumerate(texts) if t and t not in texts[:i]]


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment at call time."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    return Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"


def find_t5(path: str | Path | None = None, model_id: str | None = None) -> tuple[str | None, str]:
    """Where FLAN-T5 weights are: (folder or model id, '') or (None, why not)."""
    path = path or settings.t5_path()
    if path:
        folder = Path(path)
        if not (folder / "config.json").is_file():
            return None, f"{folder} has no config.json (set SLR_T5_PATH to a saved FLAN-T5 folder)"
        if not any((folder / w).is_file() for w in ("model.safetensors", "pytorch_model.bin")):
            return None, f"{folder} has no weights (model.safetensors)"
        return str(folder), ""
    model_id = model_id or settings.t5_model()
    from huggingface_hub import try_to_load_from_cache

    cache = hf_cache_dir()
    config = try_to_load_from_cache(model_id, "config.json", cache_dir=cache)
    weights = [
        try_to_load_from_cache(model_id, w, cache_dir=cache)
        for w in ("model.safetensors", "pytorch_model.bin")
    ]
    if isinstance(config, str) and any(isinstance(w, str) for w in weights):
        return model_id, ""
    return None, (
        f"no FLAN-T5 weights: SLR_T5_PATH is not set and {model_id} is not in the Hugging Face cache "
        f"({cache}); nothing can be downloaded here"
    )


def load_composer(
    path: str | Path | None = None, model_id: str | None = None, device: str | None = None
) -> tuple[RuleComposer | RankedComposer | T5Composer, str]:
    """FLAN-T5 if its weights are here; else the rules (with the language model choosing among their
    sentences when SLR_LM_PATH names one); and why not FLAN-T5."""
    where, why = find_t5(path, model_id)
    if where is None:
        return _without_t5(why)
    try:
        import torch
        from transformers import AutoTokenizer, T5ForConditionalGeneration

        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        cache = str(hf_cache_dir())
        tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=True, cache_dir=cache)
        model = T5ForConditionalGeneration.from_pretrained(where, local_files_only=True, cache_dir=cache)
        model = model.to(device).eval()  # type: ignore[arg-type]  # transformers' stubs
    except Exception as exc:  # a damaged folder must not take the app down
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return _without_t5(f"FLAN-T5 at {where} could not be loaded ({first[:200]})")
    return T5Composer(model, tokenizer, Path(where).name if os.path.isdir(where) else where, device), ""


def _without_t5(why: str) -> tuple[RuleComposer | RankedComposer, str]:
    """The rules, or the rules and the language model where SLR_LM_PATH asks for it (the reason it
    could not be loaded is added to why)."""
    lm = settings.lm_path()
    if not lm or lm.lower() == "off":
        return RuleComposer(), why
    ranked, lm_why = RankedComposer.load(None if lm.lower() in ("on", "smollm2") else lm)
    if ranked is None:
        return RuleComposer(), f"{why}; {lm_why}; the rules alone are used"
    return ranked, why


def hub_reachable(timeout: float = 3.0) -> tuple[bool, str]:
    """Whether the Hugging Face hub answers from here (a download could work), and if not, why."""
    import urllib.request

    from huggingface_hub import constants

    try:
        urllib.request.urlopen(constants.ENDPOINT + "/api/models?limit=1", timeout=timeout).close()
    except Exception as exc:  # offline, blocked, refused, a proxy that says no: all read the same
        return (
            False,
            f"the Hugging Face hub ({constants.ENDPOINT}) cannot be reached from this machine ({type(exc).__name__})",
        )
    return True, ""


def download_t5(model_id: str | None = None, progress=None) -> tuple[str | None, str]:
    """Download a FLAN-T5 into the Hugging Face cache (the app then finds it): (model id, '') or
    (None, why not). `progress(done, total)` is called with bytes as files arrive."""
    model_id = model_id or settings.t5_model()
    try:
        from huggingface_hub import snapshot_download
        from tqdm.auto import tqdm

        class _Report(tqdm):  # huggingface_hub reports through a tqdm class
            def update(self, n=1):
                out = super().update(n)
                if progress is not None and self.total:
                    progress(int(self.n), int(self.total))
                return out

        snapshot_download(
            model_id,
            cache_dir=str(hf_cache_dir()),
            allow_patterns=["*.json", "*.safetensors", "spiece.model", "*.txt"],
            etag_timeout=10,
            tqdm_class=_Report,
        )
    except Exception as exc:  # offline, blocked, unknown model, disk full: all end the same way
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            None,
            f"could not download {model_id} from the Hugging Face hub ({type(exc).__name__}: {first[:200]})",
        )
    return model_id, ""
