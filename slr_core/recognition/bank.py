"""Many people's examples as evidence beside the network: the bank of examples shipped with a model.

Where many people's examples of a sign exist, matching a new person's signing against them beats
what a network learns from them alone (protocol B: nearest neighbour with no training 0.924 top-1
against the networks' 0.865-0.877). A bank holds, for every training example of the datasets whose
licence allows it to travel with the model, the model's own embedding of it (the pooled features
its head reads) and its sign; a window's embedding is compared with all of them by cosine
similarity, and its K nearest examples vote:

    q(c) = sum over the K nearest examples of sign c of exp((similarity - 1) / TAU) / K
    m    = sum of q over the signs          (between 0 and 1: how close the nearest examples are)
    p'   = (1 - WEIGHT * m) * p + WEIGHT * q

so close examples move the answer towards their sign and distant ones leave the network's answer
as it is (a word outside the vocabulary rarely comes close to any example). A bank stores
embeddings only, never keypoints: it is tied to the model that made them (the weights' digest is
checked) and is rebuilt, not re-embedded, for a new model. It carries its own rejection threshold,
chosen on the run's validation split with the bank in use.

A person's own signs are a different mechanism (``library``/``matcher``): they store keypoints, so a
new model re-embeds them, and a word of theirs wins outright when it matches, checked by its arm
movement, while the bank only adds evidence for signs the model already has. The bank cannot store
keypoints: the data it is built from may be shipped only as a model trained on it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..base import safefile
from ..base.errors import SLRError

FORMAT = "slr-bank/1"
FILE = "bank.safetensors"
# The vote, chosen on the models of the bundled recipe that hold out protocol B's fold 0 and protocol C's
# folds 0 and 2 (top-1; in-vocabulary accepted-and-right and held-out unknown words rejected at the
# threshold chosen with the bank), and on the 247 studio clips of signs the bank has no example of
# (it must not take them): K 5/10/20, TAU 0.05-1.0, WEIGHT 0.5-1.0. A sharp vote (TAU 0.05-0.1) barely
# moved the answer (B0 top-1 0.636 -> 0.66-0.81); TAU 0.4-0.6 gave B0 0.961 but took the studio clips
# (0.943 right without the bank, 0.879 at 0.4, 0.611 at 0.6: many people's hello is a little like
# anything); TAU 0.2, WEIGHT 0.9, K 10: B0 0.935, C0 (five everyday signs) 0.787, C2 0.757 against the
# network's 0.636, 0.779, 0.706, studio clips 0.951, unknown words rejected 0.765 / 0.918 / 0.898 at
# the thresholds chosen (the network 0.857 / 0.888 / 0.878). Letting the bank speak only where the
# network's first answer is a sign of the bank or unsure gave the same within a point or two.
K = 10
TAU = 0.2
WEIGHT = 0.9


class BankError(SLRError, ValueError):
    """A bank file that cannot be used; the message says which and why."""


def weights_digest(model_dir: str | Path) -> str:
    """A short digest of a model folder's weights (the tensors, not the description beside them, which
    may gain figures later): a bank belongs to exactly these weights."""
    from safetensors import safe_open

    h = hashlib.sha256()
    try:
        with safe_open(str(Path(model_dir) / "model.safetensors"), framework="pt", device="cpu") as f:
            for key in sorted(f.keys()):
                h.update(key.encode())
                h.update(f.get_tensor(key).contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    except Exception as exc:  # a damaged weights file: the model itself will say so when it loads
        raise BankError(f"{model_dir}: its weights cannot be read ({exc})") from None
    return h.hexdigest()[:16]


def unit(v: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (cosine similarity is then a dot product)."""
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


@dataclass
class Bank:
    """Unit embeddings (N, D) of examples, their class index among `labels` and their person."""

    vectors: np.ndarray
    classes: np.ndarray
    labels: list[str]
    people: np.ndarray
    meta: dict = field(default_factory=dict)
    k: int = K
    tau: float = TAU
    weight: float = WEIGHT

    def __len__(self) -> int:
        return len(self.classes)

    @property
    def threshold(self) -> float | None:
        """The rejection threshold chosen with the bank in use (None: use the model's)."""
        t = self.meta.get("threshold")
        return None if t is None else float(t)

    def votes(self, embeddings: np.ndarray) -> np.ndarray:
        """q (N, C): each row's K nearest examples' votes per class (see the module's docstring)."""
        e = unit(np.atleast_2d(np.asarray(embeddings, np.float32)))
        out = np.zeros((len(e), len(self.labels)), np.float32)
        if not len(self) or not len(e):
            return out
        k = min(self.k, len(self))
        for start in range(0, len(e), 512):  # bounded memory for large evaluations
            sims = e[start : start + 512] @ self.vectors.T
            near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            s = np.take_along_axis(sims, near, 1)
            w = np.exp((np.minimum(s, 1.0) - 1.0) / self.tau) / k
            rows = np.repeat(np.arange(len(near)), k)
            np.add.at(out[start : start + 512], (rows, self.classes[near].ravel()), w.ravel())
        return out

    def blend(self, probs: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """The network's probabilities (N, C) with the bank's votes mixed in (rows still sum to 1)."""
        q = self.votes(embeddings)
        m = q.sum(1, keepdims=True)
        return ((1.0 - self.weight * m) * np.atleast_2d(probs) + self.weight * q).astype(np.float32)

    def signs(self) -> dict[str, int]:
        """How many people's examples the bank holds per sign."""
        out: dict[str, set] = {}
        for c, p in zip(self.classes.tolist(), self.people.tolist()):
            out.setdefault(self.labels[c], set()).add(p)
        return {s: len(v) for s, v in sorted(out.items())}


def save_bank(bank: Bank, model_dir: str | Path) -> Path:
    """Write the bank beside the model it was made with (atomically)."""
    path = Path(model_dir) / FILE
    meta = dict(bank.meta, format=FORMAT, labels=list(bank.labels), model=weights_digest(model_dir),
                k=bank.k, tau=bank.tau, weight=bank.weight, examples=len(bank))  # fmt: skip
    tensors = {
        "vectors": torch.from_numpy(np.ascontiguousarray(bank.vectors, np.float16)),
        "classes": torch.from_numpy(np.ascontiguousarray(bank.classes, np.int64)),
        "people": torch.from_numpy(np.ascontiguousarray(bank.people, np.int64)),
    }
    safefile.write(path, tensors, meta, key="slr_bank")
    bank.meta = meta
    return path


def load_bank(model_dir: str | Path, labels: list[str]) -> tuple[Bank | None, str | None]:
    """The bank beside a model: (bank, None); (None, None) when there is none; (None, why) when it
    cannot be used (damaged, another format, made with other weights or classes): the model then
    answers alone, and the reason is said to the person."""
    path = Path(model_dir) / FILE
    if not path.is_file():
        return None, None
    try:
        meta, tensors = safefile.read(path, BankError, "bank of examples", FORMAT, key="slr_bank")
        if meta.get("labels") != list(labels):
            raise BankError(f"{path}: made for other classes than the model's; rebuild it (slr bank)")
        if meta.get("model") != weights_digest(model_dir):
            raise BankError(f"{path}: made with other weights than this model's; rebuild it (slr bank)")
        vectors = tensors["vectors"].float().numpy()
        classes = tensors["classes"].numpy().astype(np.int64)
        people = tensors["people"].numpy().astype(np.int64)
        if vectors.ndim != 2 or len(vectors) != len(classes) or len(people) != len(classes):
            raise BankError(f"{path}: its tensors do not fit together")
        if len(classes) and (classes.min() < 0 or classes.max() >= len(labels)):
            raise BankError(f"{path}: a class index outside the model's {len(labels)} classes")
        if not np.isfinite(vectors).all():
            raise BankError(f"{path}: holds NaN or infinite values")
    except BankError as exc:
        return None, f"{exc}; the model answers without its bank of examples"
    except KeyError as exc:
        return None, f"{path}: incomplete ({exc} missing); the model answers without its bank of examples"
    return (
        Bank(unit(vectors), classes, list(labels), people, meta, int(meta.get("k", K)),
             float(meta.get("tau", TAU)), float(meta.get("weight", WEIGHT))),
        None,
    )  # fmt: skip
