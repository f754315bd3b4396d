"""The sentence stage: recognised keywords in, one English sentence out.

Two composers share one interface (``compose(keywords) -> Sentence``):

* FLAN-T5 (``T5ForConditionalGeneration`` and its tokenizer) with the seed report's prompt and
  deterministic decoding, on the GPU when there is one;
* a rule-based composer, used when no FLAN-T5 weights are available.

Weights come from a local folder (``SLR_T5_PATH`` or a path given by the caller) or else from the
Hugging Face cache for ``SLR_T5_MODEL`` (default ``google/flan-t5-small``). Nothing is ever
downloaded (``local_files_only``), so loading cannot hang on a missing network; when the weights are
absent the reason is kept and shown, and the rule-based composer takes over.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..base import settings
from ..base.text import clean_word
from .glosses import compose as compose_glosses

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


def clean_keywords(keywords) -> tuple[list[str], str]:
    """Cleaned words (see clean_word; empty ones dropped), repeats in a row merged; at most
    MAX_KEYWORDS (the latest)."""
    words: list[str] = []
    for raw in keywords or []:
        text = clean_word(raw)
        if text and (not words or words[-1].lower() != text.lower()):
            words.append(text)
    note = ""
    if len(words) > MAX_KEYWORDS:
        note = f"used the last {MAX_KEYWORDS} of {len(words)} keywords"
        words = words[-MAX_KEYWORDS:]
    return words, note


class RuleComposer:
    """Rules for the common patterns of sign glosses (``glosses.compose``): articles, verb agreement,
    tense from time words, questions, negation, pronouns and compound glosses."""

    name = "rule-based"

    def compose(self, keywords) -> Sentence:
        t0 = time.perf_counter()
        words, note = clean_keywords(keywords)
        if not words:
            return Sentence("", self.name, "no keywords to translate yet")
        return Sentence(compose_glosses(words), self.name, note, time.perf_counter() - t0)


class T5Composer:
    """FLAN-T5 with the seed's prompt and deterministic (greedy) decoding."""

    def __init__(self, model, tokenizer, source: str, device: str) -> None:
        self.model, self.tokenizer, self.source, self.device = model, tokenizer, source, device
        self.name = f"FLAN-T5 ({source})"

    def prompt(self, words: list[str]) -> str:
        return PROMPT.format(keywords=" ".join(words))

    def compose(self, keywords) -> Sentence:
        import torch

        t0 = time.perf_counter()
        words, note = clean_keywords(keywords)
        if not words:
            return Sentence("", self.name, "no keywords to translate yet")
        inputs = self.tokenizer(self.prompt(words), return_tensors="pt", truncation=True, max_length=512)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, num_beams=1, do_sample=False)
        text = self.tokenizer.decode(out[0], skip_special_tokens=True).strip()
        if not text:
            fallback = RuleComposer().compose(words)
            return Sentence(fallback.text, self.name + " + rules", "FLAN-T5 returned nothing; rules used",
                            time.perf_counter() - t0)  # fmt: skip
        return Sentence(text, self.name, note, time.perf_counter() - t0)


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
) -> tuple[RuleComposer | T5Composer, str]:
    """The FLAN-T5 composer if its weights are here, else the rule-based one; and why."""
    where, why = find_t5(path, model_id)
    if where is None:
        return RuleComposer(), why
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
        return RuleComposer(), f"FLAN-T5 at {where} could not be loaded ({first[:200]})"
    return T5Composer(model, tokenizer, Path(where).name if os.path.isdir(where) else where, device), ""


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
