"""Evaluation: predictions over a dataset, metrics, the open-set figure, reports.

Metrics: top-1, top-5, macro F1 over the classes present, per-class precision/recall/F1, a
confusion matrix. Open set: a clip is *accepted* by the rule in ``predict.accept`` (the best sign,
not ``_unknown``, with probability at least the threshold); we report how many in-vocabulary clips
are accepted with the right sign and how many out-of-vocabulary clips are rejected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..datasets.data import unknown_index
from ..recognition.predict import accept, model_bank, predict_features

EVAL_CHUNK = 2048  # sequences preprocessed at once by evaluate_dataset


@dataclass
class Report:
    n: int
    top1: float
    top5: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]
    confusion: np.ndarray  # (k, k) over `confusion_labels`
    confusion_labels: list[str]
    open_set: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)  # (file, why) of sequences left out
    bank: int = 0  # examples in the bank of examples used (0: the network alone)

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "top1": self.top1,
            "top5": self.top5,
            "macro_f1": self.macro_f1,
            "per_class": self.per_class,
            "confusion_labels": self.confusion_labels,
            "confusion": self.confusion.tolist(),
            "open_set": self.open_set,
        }

    def headline(self) -> str:
        line = f"top-1 {self.top1:.3f}  top-5 {self.top5:.3f}  macro F1 {self.macro_f1:.3f}  (n={self.n})"
        o = self.open_set
        if o.get("n_oov"):
            line += (
                f"\nopen set at threshold {o['threshold']:.2f}: in-vocabulary accepted and right "
                f"{o['in_vocab_accepted_correct']:.3f} (n={o['n_in_vocab']}), out-of-vocabulary rejected "
                f"{o['oov_rejected']:.3f} (n={o['n_oov']})"
            )
        return line


def classification_report(y: np.ndarray, probs: np.ndarray, labels: list[str]) -> Report:
    """Closed-set metrics over all rows (the `_unknown` class counts like any other)."""
    n = len(y)
    if n == 0:
        return Report(0, float("nan"), float("nan"), float("nan"), {}, np.zeros((0, 0), int), [])
    pred = probs.argmax(1)
    top5 = np.argsort(-probs, axis=1)[:, :5]
    present = np.unique(np.concatenate([y, pred]))
    per_class, f1s = {}, []
    for c in present:
        tp = int(((pred == c) & (y == c)).sum())
        fp = int(((pred == c) & (y != c)).sum())
        fn = int(((pred != c) & (y == c)).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        support = int((y == c).sum())
        per_class[labels[c]] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
        if support:
            f1s.append(f1)
    index = {c: i for i, c in enumerate(present)}
    confusion = np.zeros((len(present), len(present)), np.int64)
    for t, p in zip(y, pred):
        confusion[index[t], index[p]] += 1
    return Report(
        n,
        float((pred == y).mean()),
        float((top5 == y[:, None]).any(1).mean()),
        float(np.mean(f1s)),
        per_class,
        confusion,
        [labels[c] for c in present],
    )


def open_set_figures(y: np.ndarray, probs: np.ndarray, labels: list[str], threshold: float) -> dict:
    unknown = unknown_index(labels)
    oov = y == (-1 if unknown is None else unknown)
    best, _, ok = accept(probs, labels, threshold)
    in_vocab = ~oov
    return {
        "threshold": float(threshold),
        "in_vocab_top1": float((probs.argmax(1) == y)[in_vocab].mean()) if in_vocab.any() else float("nan"),
        "n_in_vocab": int(in_vocab.sum()),
        "n_oov": int(oov.sum()),
        "in_vocab_accepted": float(ok[in_vocab].mean()) if in_vocab.any() else float("nan"),
        "in_vocab_accepted_correct": float((ok & (best == y))[in_vocab].mean())
        if in_vocab.any()
        else float("nan"),
        "oov_rejected": float((~ok[oov]).mean()) if oov.any() else float("nan"),
    }


def choose_threshold(y: np.ndarray, probs: np.ndarray, labels: list[str]) -> float:
    """The threshold that maximises the mean of (in-vocabulary accepted and right) and (OOV
    rejected) on validation data; with no OOV clips, the lowest threshold that keeps 95% of the
    correct in-vocabulary answers."""
    _, p, _ = accept(probs, labels, 0.0)
    candidates = np.unique(np.concatenate([[0.0], np.round(p, 4)]))
    unknown = unknown_index(labels)
    if unknown is None or not (y == unknown).any():
        best, p, ok = accept(probs, labels, 0.0)
        right = p[(best == y) & ok]
        return float(np.quantile(right, 0.05)) if len(right) else 0.0
    scores = []
    for t in candidates:
        f = open_set_figures(y, probs, labels, t)
        scores.append((f["in_vocab_accepted_correct"] + f["oov_rejected"]) / 2)
    return float(candidates[int(np.argmax(scores))])


def evaluate_arrays(y: np.ndarray, probs: np.ndarray, labels: list[str], threshold: float) -> Report:
    report = classification_report(y, probs, labels)
    report.open_set = open_set_figures(y, probs, labels, threshold)
    return report


def save_confusion_image(report: Report, path: str | Path, max_classes: int = 40) -> Path:
    """A confusion matrix image over the (at most `max_classes` most frequent) classes seen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm, names = report.confusion, report.confusion_labels
    if len(names) > max_classes:
        keep = np.argsort(-(cm.sum(0) + cm.sum(1)))[:max_classes]
        keep.sort()
        cm, names = cm[np.ix_(keep, keep)], [names[i] for i in keep]
    size = max(4.0, 0.28 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(names) <= 20:
        for i in range(len(names)):
            for j in range(len(names)):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                            color="white" if norm[i, j] > 0.5 else "black")  # fmt: skip
    ax.set_title(f"confusion (top-1 {report.top1:.3f}, n={report.n})")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(report: Report, folder: str | Path, extra: dict | None = None) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(dict(report.to_dict(), **(extra or {})), indent=1))
    save_confusion_image(report, folder / "confusion.png")
    return folder


def evaluate_dataset(
    loaded,
    dataset_dir: str | Path,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    threshold: float | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    use_bank: bool = True,
) -> Report:
    """Every sequence of a Kaggle-layout dataset through a loaded model (see checkpoint.load_model),
    with the model's bank of examples as the app recognises (unless `use_bank` is False; the
    threshold is then the bank's own)."""
    from ..datasets.cache import load_or_build_cache
    from ..datasets.data import DatasetError, load_dataset
    from ..features.preprocess import preprocess, stack

    ds = load_dataset(dataset_dir, fallback_labels=loaded.labels)
    missing = sorted(set(ds.table["sign"]) - set(loaded.labels))
    if missing:
        raise DatasetError(f"{dataset_dir}: signs the model does not know: {missing[:10]}")
    cache = load_or_build_cache(ds, cache_dir, progress=progress)
    y = ds.targets(loaded.labels)[cache.keep]
    bank = model_bank(loaded)[0] if use_bank else None
    own = bank.threshold if bank is not None and bank.threshold is not None else loaded.threshold
    length = loaded.config.length
    parts = []  # preprocessed a chunk at a time: the full Kaggle set's features would not fit in RAM
    for start in tqdm(range(0, len(cache), EVAL_CHUNK), desc="eval", unit="chunk", disable=not progress):
        rows = range(start, min(start + EVAL_CHUNK, len(cache)))
        feats = stack([preprocess(*cache.get(i), length=length) for i in rows], length)
        parts.append(predict_features(loaded.model, feats, batch_size, device, bank=bank).probs)
    probs = np.concatenate(parts) if parts else np.zeros((0, len(loaded.labels)), np.float32)
    report = evaluate_arrays(y, probs, loaded.labels, own if threshold is None else threshold)
    report.bank = len(bank) if bank is not None else 0
    report.skipped = list(cache.skipped)
    return report
