"""Inference, in one place: features -> tensors -> the model -> probabilities and embeddings, and the
open-set rule that accepts or rejects a guess.

``Classifier`` is the wrapper the recogniser, the pages and the command line use: one window of
landmarks in, a ``Guess`` (best sign, probability, accepted?, top-5) out, or the model's raw outputs
with the embedding (the pooled features the head reads) for nearest-neighbour and prototype methods.
``predict_features`` and ``predict_loader`` do the same for batches (evaluation, training's
validation, a personal example and its altered copies).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..datasets.data import UNKNOWN_LABEL, unknown_index
from ..features.preprocess import Features, preprocess
from .bank import Bank, load_bank


def to_tensors(
    feats: Features, sl=slice(None), device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, ...]:
    """The model's inputs (Features.model_inputs) of the rows `sl` of stacked Features
    (``np.newaxis`` makes a batch of one)."""
    return tuple(torch.as_tensor(a[sl], device=device) for a in feats.model_inputs())


def probabilities(out: dict[str, torch.Tensor]) -> torch.Tensor:
    """Class probabilities from the model's output (softmax over the logits, in fp32)."""
    return torch.softmax(out["logits"].float(), -1)


@dataclass
class Predictions:
    """Per-row results of a batch: probabilities (N, C), confidence estimates (N,), and the
    embeddings (N, D) when asked for."""

    probs: np.ndarray
    confidence: np.ndarray
    embedding: np.ndarray | None = None


@torch.no_grad()
def predict_features(
    model: nn.Module,
    feats: Features,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    embed: bool = False,
    bank: Bank | None = None,
) -> Predictions:
    """The model over a stacked batch of Features, `batch_size` rows at a time; with a bank of
    examples, its votes blended into the probabilities (``bank``)."""
    if bank is not None:
        out = predict_features(model, feats, batch_size, device, embed=True)
        assert out.embedding is not None
        blended = bank.blend(out.probs, out.embedding) if len(out.probs) else out.probs
        return Predictions(blended, out.confidence, out.embedding if embed else None)
    model.eval()
    probs, conf, emb = [], [], []
    for i in range(0, len(feats.x), batch_size):
        out = model(*to_tensors(feats, slice(i, i + batch_size), device))
        probs.append(probabilities(out).cpu().numpy())
        conf.append(out["confidence"].float().cpu().numpy())
        if embed:
            emb.append(out["embedding"].float().cpu().numpy())
    if not probs:
        n_classes = int(model.config.num_classes)  # type: ignore[union-attr, arg-type]
        return Predictions(np.zeros((0, n_classes), np.float32), np.zeros(0, np.float32),
                           np.zeros((0, 0), np.float32) if embed else None)  # fmt: skip
    return Predictions(np.concatenate(probs), np.concatenate(conf), np.concatenate(emb) if embed else None)


@torch.no_grad()
def predict_loader(model: torch.nn.Module, loader, device, autocast=contextlib.nullcontext):
    """Targets (N,) and class probabilities (N, C) over a loader of (*model inputs, y) batches."""
    model.eval()
    ys, probs = [], []
    for *inputs, y in loader:
        with autocast():
            out = model(*(a.to(device) for a in inputs))
        probs.append(probabilities(out).cpu().numpy())
        ys.append(y.numpy())
    y = np.concatenate(ys) if ys else np.zeros(0, np.int64)
    p = np.concatenate(probs) if probs else np.zeros((0, 0), np.float32)
    return y, p


def accept(
    probs: np.ndarray, labels: list[str], threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The open-set rule, per row: (best sign index, its probability, accepted?).

    `_unknown` is never a sign: the best sign is the most probable other class, and a row is
    accepted when that sign's probability is at least `threshold` and `_unknown` is not the
    model's first choice.
    """
    sign_probs = probs.copy()
    unknown = unknown_index(labels)
    if unknown is not None:
        sign_probs[:, unknown] = -1.0
    best = sign_probs.argmax(1)
    p = sign_probs[np.arange(len(best)), best]
    ok = p >= threshold
    if unknown is not None:
        ok &= probs.argmax(1) != unknown
    return best, p, ok


def top_signs(probs: np.ndarray, labels: list[str], k: int = 5) -> list[tuple[str, float]]:
    """The k most probable signs (never `_unknown`) of one row of probabilities."""
    order = [i for i in np.argsort(-probs) if labels[i] != UNKNOWN_LABEL][:k]
    return [(labels[i], float(probs[i])) for i in order]


@dataclass
class Guess:
    """The classifier's answer for one window of landmarks."""

    index: int
    label: str
    probability: float
    accepted: bool
    top5: list[tuple[str, float]] = field(default_factory=list)
    personal: bool = False  # a word of the person's own library (matcher.PersonalClassifier)
    unknown: float = 0.0  # the probability of `_unknown` (a movement outside the vocabulary)


def model_bank(loaded) -> tuple[Bank | None, str | None]:
    """The bank of examples beside a loaded model (read once per model and kept on it), and why it
    cannot be used when it cannot."""
    if not hasattr(loaded, "_bank"):
        loaded._bank = load_bank(loaded.path, loaded.labels) if Path(loaded.path).is_dir() else (None, None)
    return loaded._bank


class Classifier:
    """One window of landmarks -> the model's guess (or its raw outputs). Thread-safe for inference:
    it holds no state between calls, so the live sessions and the pages share one.

    With the model's bank of many people's examples (``bank``; on unless `use_bank` is False), the
    probabilities are the network's and the bank's together, and the threshold is the one chosen
    with the bank in use."""

    def __init__(self, loaded, threshold: float | None = None, device: str | torch.device = "cpu",
                 use_bank: bool = True) -> None:  # fmt: skip
        self.loaded = loaded
        self.model = loaded.model.to(device).eval()
        self.device = device
        self.labels = loaded.labels
        self.bank, self.bank_problem = model_bank(loaded) if use_bank else (None, None)
        own = self.bank.threshold if self.bank is not None else None
        self.threshold = (own if own is not None else loaded.threshold) if threshold is None else threshold
        self.length = loaded.config.length

    def probabilities_of(self, out: dict[str, torch.Tensor]) -> np.ndarray:
        """Class probabilities (C,) from the model's raw outputs for one window (with the bank's votes)."""
        probs = probabilities(out)[0].cpu().numpy()
        if self.bank is None:
            return probs
        return self.bank.blend(probs[None], out["embedding"].float().cpu().numpy())[0]

    @torch.inference_mode()
    def outputs(self, data: np.ndarray, times: np.ndarray) -> dict[str, torch.Tensor] | None:
        """The model's raw outputs for one window (None when no frame has a hand)."""
        f = preprocess(data, times, self.length)
        if f.empty:
            return None
        return self.model(*to_tensors(f, np.newaxis, self.device))

    def probabilities(self, data: np.ndarray, times: np.ndarray) -> np.ndarray | None:
        """Class probabilities (C,) of one window, None without hands."""
        out = self.outputs(data, times)
        return None if out is None else self.probabilities_of(out)

    def decide(self, probs: np.ndarray, threshold: float | None = None) -> Guess:
        """The open-set decision for one row of probabilities."""
        best, p, ok = accept(probs[None], self.labels, self.threshold if threshold is None else threshold)
        i, u = int(best[0]), unknown_index(self.labels)
        unknown = 0.0 if u is None else float(probs[u])
        return Guess(
            i, self.labels[i], float(p[0]), bool(ok[0]), top_signs(probs, self.labels), unknown=unknown
        )

    def guess(self, data: np.ndarray, times: np.ndarray, threshold: float | None = None) -> Guess | None:
        """The best sign for a window (None without hands); accepted when at least the threshold
        (the given one, else the model's own)."""
        probs = self.probabilities(data, times)
        return None if probs is None else self.decide(probs, threshold)
