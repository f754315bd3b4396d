"""Building a model's bank of examples (``recognition.bank``) from its own training split.

Only the datasets named in the run's ``bank_data`` go in (those whose licence lets examples derived
from them travel with the model: the Kaggle asl-signs subset and webcam-signs do, the PopSign studio
clips do not), and only their training sequences, never the validation people: the bank's
rejection threshold is then chosen on the run's validation split with the bank in use, as the
model's own is without it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets.data import DatasetError
from ..features.preprocess import preprocess, stack
from ..recognition.bank import Bank, save_bank, unit
from ..recognition.predict import predict_features
from .evaluate import choose_threshold, open_set_figures
from .trainset import Split, TrainingData

CHUNK = 512


def embed_items(loaded, data: TrainingData, split: Split, device="cpu") -> tuple[np.ndarray, np.ndarray]:
    """Embeddings (N, D) and probabilities (N, C) of a split's sequences (no augmentation)."""
    length = loaded.config.length
    embs, probs = [], []
    for start in range(0, len(split), CHUNK):
        items = split.items[start : start + CHUNK]
        feats = stack([preprocess(*data.caches[c].get(s), length=length) for c, s in items], length)
        out = predict_features(loaded.model, feats, device=device, embed=True)
        assert out.embedding is not None
        embs.append(out.embedding)
        probs.append(out.probs)
    if not embs:
        return np.zeros((0, 1), np.float32), np.zeros((0, len(loaded.labels)), np.float32)
    return np.concatenate(embs), np.concatenate(probs)


def bank_split(data: TrainingData, bank_data: list[str]) -> Split:
    """The training sequences of the datasets named in bank_data."""
    wanted = {Path(p).resolve() for p in bank_data}
    known = {Path(r).resolve() for r in data.roots}
    if wanted - known:
        raise DatasetError(
            f"bank_data names {sorted(map(str, wanted - known))[0]}, which is not among the training data"
        )
    keep = [n for n, (c, _) in enumerate(data.train.items) if Path(data.roots[c]).resolve() in wanted]
    return Split([data.train.items[n] for n in keep], [data.train.targets[n] for n in keep])


def build_bank(loaded, data: TrainingData, bank_data: list[str], device="cpu") -> tuple[Bank, dict]:
    """The bank of a trained model from its training split (bank_data's datasets), with the rejection
    threshold chosen on the validation split with the bank in use; and the validation figures with
    and without it."""
    split = bank_split(data, bank_data)
    vectors, _ = embed_items(loaded, data, split, device)
    people = np.array([int(data.people[c][s]) for c, s in split.items], np.int64)
    # people of different datasets never share a number in the bank
    source = np.array([c for c, _ in split.items], np.int64)
    people = people + source * 10**9 if len(set(source.tolist())) > 1 else people
    bank = Bank(
        unit(vectors.astype(np.float32)), np.array(split.targets, np.int64), list(loaded.labels), people
    )
    val_emb, val_probs = embed_items(loaded, data, data.val, device)
    y = np.array(data.val.targets, np.int64)
    blended = bank.blend(val_probs, val_emb) if len(y) else val_probs
    threshold = choose_threshold(y, blended, loaded.labels) if len(y) else loaded.threshold
    figures = {
        "without_bank": open_set_figures(y, val_probs, loaded.labels, loaded.threshold),
        "with_bank": open_set_figures(y, blended, loaded.labels, threshold),
        "top1_without_bank": float((val_probs.argmax(1) == y).mean()) if len(y) else float("nan"),
        "top1_with_bank": float((blended.argmax(1) == y).mean()) if len(y) else float("nan"),
    }
    bank.meta = {
        "threshold": float(threshold),
        "datasets": sorted({Path(data.roots[c]).resolve().name for c, _ in split.items}),
        "people_per_sign": bank.signs(),
        "validation": figures,
    }
    return bank, figures


def write_bank(loaded, data: TrainingData, bank_data: list[str], model_dir: Path, device="cpu") -> dict:
    """Build and save the bank beside the model; returns its validation figures."""
    bank, figures = build_bank(loaded, data, bank_data, device)
    save_bank(bank, model_dir)
    return figures
