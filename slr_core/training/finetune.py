"""Fine-tuning a model to a person's library of signs, in about a minute on a laptop's CPU.

The library's examples (each time a little altered, as in training) are trained on together with
clips of other people's signs from a dataset ("replay"): without those, the model soon learns that
everything is one of the library's words. A word of the library that the model lacks gets a new
output (started from the direction of its examples' embeddings); a word it has keeps its output and
learns the person's way of signing it. Next to the classification loss, a contrastive term pulls a
word's examples together in the embedding the library is matched in and away from other people's
signs (CONTRAST). The result is an ordinary model folder (``RUN/model``) that
every page and command can use; the library still works on top of it as before.

``bench/bench_personal.py --parts finetune`` measures what it buys and costs.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..base import settings
from ..base.errors import SLRError
from ..base.text import slug
from ..datasets.cache import load_or_build_cache
from ..datasets.data import UNKNOWN_LABEL, load_dataset
from ..features.augment import AugmentConfig, augment
from ..features.preprocess import Features, preprocess, stack
from ..models.build import build_model
from ..models.checkpoint import WEIGHTS, LoadedModel, describe, load_model, save_model
from ..recognition.library import Example, Library
from ..recognition.predict import predict_features, to_tensors
from .optim import supcon_loss
from .protocols import Sequence, sequence_at
from .runs import MODEL_DIR

STEPS = 150  # measured with bench_personal: about 45 s on 2 cores
LEARNING_RATE = 3e-4
LIBRARY_BATCH = 16  # library examples per step
REPLAY_BATCH = 48  # other people's clips per step
MIN_REPLAY_SIGNS = 5  # a dataset that holds fewer of the model's signs cannot keep the others in place
REPLAY_PER_SIGN = 20  # clips per sign at most (the studio set has 1; the Kaggle set about 380)
REPLAY_UNKNOWN = 150  # clips of words outside the vocabulary at most (each another word)
AUGMENT = AugmentConfig()
# The supervised contrastive term on the embedding the library is matched in (train.supcon_loss): a
# word's examples pulled together, away from other people's signs, each word outside the vocabulary
# its own class. Measured on the 7 dev-half signers (bench_personal's protocol): 2.0 raised existing
# signs 0.929 -> 0.933 (worst signer 0.741 -> 0.815) and new words 0.847 -> 0.874 (worst 0.593 ->
# 0.704), other signs taken 0.6% -> 0.2% and 1.6% -> 0.8%, held-out unknown words 2.3% / 2.6-2.8%.
# Weight 4: new words 0.868 (worst 0.630) at more cost. On all 14 signers (docs/accuracy.md): existing signs as
# before (0.921), new words 0.842 -> 0.864.
CONTRAST = 2.0
CONTRAST_TEMPERATURE = 0.1


class FinetuneError(SLRError, ValueError):
    """Fine-tuning cannot start (no examples, no usable replay data); the message says why."""


@dataclass
class FinetuneResult:
    loaded: LoadedModel
    new_words: list[str]  # words given a new output
    examples: int  # library examples trained on
    replay: int  # other people's clips trained on
    steps: int
    seconds: float


def replay_sequences(folders: list, labels: list[str], per_sign: int = REPLAY_PER_SIGN) -> list[Sequence]:
    """Up to `per_sign` clips of each sign the model knows (and up to REPLAY_UNKNOWN of words outside
    its vocabulary, when it has `_unknown`) from the datasets, drawn at random but the same every time
    (a full-size dataset is not read whole); FinetuneError when they hold too few of the model's signs."""
    out: list[Sequence] = []
    rng = np.random.default_rng(0)
    for folder in folders:
        ds = load_dataset(folder)
        cache = load_or_build_cache(ds, progress=False)
        signs = ds.table["sign"].to_numpy()[cache.keep]
        picked = []
        for sign in sorted(set(signs) & set(labels)):
            rows = np.flatnonzero(signs == sign)
            n = REPLAY_UNKNOWN if sign == UNKNOWN_LABEL else per_sign
            picked += rng.permutation(rows)[:n].tolist()
        out += [sequence_at(ds, cache, i) for i in sorted(picked)]  # in the dataset's order
    found = {q.sign for q in out if q.sign != UNKNOWN_LABEL}
    if len(found) < MIN_REPLAY_SIGNS:
        raise FinetuneError(
            f"the replay data ({', '.join(str(f) for f in folders) or 'none given'}) holds {len(found)} "
            f"of the model's signs; fine-tuning needs clips of at least {MIN_REPLAY_SIGNS} signs by other "
            "people (a Kaggle-layout dataset, e.g. one made by `slr extract`)"
        )
    return out


def signs_listed(folder: str | Path, labels: list[str]) -> set[str]:
    """The model's signs (not `_unknown`) that a dataset's train.csv lists; empty when unreadable.
    Cheap: the table only, no keypoints (the My signs page says what a choice of data holds)."""
    import pandas as pd

    try:
        signs = pd.read_csv(Path(folder) / "train.csv", usecols=["sign"], dtype=str)["sign"]
    except (OSError, ValueError):
        return set()
    return (set(signs.dropna()) & set(labels)) - {UNKNOWN_LABEL}


def with_words(loaded: LoadedModel, library: Library) -> tuple[LoadedModel, list[str]]:
    """A copy of the model with one more output for each library word it does not know, started
    from the direction of the word's examples in its embedding (imprinting)."""
    examples = library.words()
    words = [w for w in examples if w not in loaded.labels]
    model = copy.deepcopy(loaded.model)
    if not words:
        return replace(loaded, model=model), []
    n = loaded.config.num_classes
    config = replace(loaded.config, num_classes=n + len(words))
    state = model.state_dict()
    emb = _word_directions(loaded, [examples[w] for w in words])
    for key, t in state.items():
        if t.ndim and t.shape[0] == n and key.endswith(("weight", "bias")):
            rows = t.mean(0, keepdim=True).expand(len(words), *t.shape[1:]).clone()
            if t.ndim == 2 and t.shape[1] == emb.shape[1]:  # reads the embedding: imprint
                rows = torch.as_tensor(emb) * t.norm(dim=1).mean()
            state[key] = torch.cat([t, rows.to(t.dtype)])
    grown = build_model(config)
    grown.load_state_dict(state, strict=True)
    return replace(loaded, model=grown, labels=[*loaded.labels, *words]), words


def _word_directions(loaded: LoadedModel, per_word: list[list[Example]]) -> np.ndarray:
    """The unit mean embedding of each word's examples."""
    length = loaded.config.length
    out = []
    for examples in per_word:
        feats = [f for e in examples if not (f := preprocess(e.data, e.times, length)).empty]
        if not feats:
            raise FinetuneError(f"no example of {examples[0].word!r} shows a hand")
        emb = predict_features(loaded.model, stack(feats, length), embed=True).embedding
        assert emb is not None
        v = emb.mean(0)
        out.append(v / max(float(np.linalg.norm(v)), 1e-9))
    return np.stack(out).astype(np.float32)


def _batch(seqs: list[tuple[np.ndarray, np.ndarray]], rng: np.random.Generator, length: int) -> Features:
    out = []
    for data, times in seqs:
        f = preprocess(*augment(data, times, rng, AUGMENT), length)
        out.append(f if not f.empty else preprocess(data, times, length))
    return stack(out, length)


def _replay_classes(replay: list[int], labels: list[str]) -> list[int]:
    """The replay clips' classes for the contrastive term (a library example's is its output): the
    output index, except that each clip of a word outside the vocabulary is a class of its own (other
    words are not alike)."""
    unknown = labels.index(UNKNOWN_LABEL) if UNKNOWN_LABEL in labels else -1
    return [y if y != unknown else len(labels) + n for n, y in enumerate(replay)]


def finetune(
    loaded: LoadedModel,
    library: Library,
    replay: list[Sequence],
    steps: int = STEPS,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> FinetuneResult:
    """Train a copy of the model on the library's examples and the replay clips; the given model is
    left as it was. `stop` set: FinetuneError (nothing is kept)."""
    start = time.perf_counter()
    grown, new_words = with_words(loaded, library)
    labels, length = grown.labels, grown.config.length
    mine = [(e.data, e.times, labels.index(e.word)) for e in library.examples]
    if not mine:
        raise FinetuneError("the library is empty: add examples of your signs first")
    if not replay:
        raise FinetuneError("fine-tuning needs clips of other people's signs to keep the model's other signs")
    others = [(q.data, q.times, labels.index(q.sign)) for q in replay]
    replay_classes = _replay_classes([y for _, _, y in others], labels)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model = grown.model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.0)
    for step in range(steps):
        if stop is not None and stop.is_set():
            raise FinetuneError("fine-tuning stopped; the model was left as it was")
        li = rng.integers(0, len(mine), LIBRARY_BATCH)
        ri = rng.integers(0, len(others), REPLAY_BATCH)
        picked = [mine[i] for i in li] + [others[i] for i in ri]
        out = model(*to_tensors(_batch([(d, t) for d, t, _ in picked], rng, length)))
        target = torch.tensor([y for _, _, y in picked])
        loss = torch.nn.functional.cross_entropy(out["logits"].float(), target, label_smoothing=0.1)
        classes = torch.cat([target[: len(li)], torch.tensor([replay_classes[i] for i in ri])])
        loss = loss + CONTRAST * supcon_loss(out["embedding"], classes, CONTRAST_TEMPERATURE)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if progress is not None:
            progress(step + 1, steps)
    model.eval()
    seconds = time.perf_counter() - start
    return FinetuneResult(grown, new_words, len(mine), len(others), steps, seconds)


def base_model(loaded: LoadedModel) -> LoadedModel:
    """The model itself, or the base it was fine-tuned from (base_of), loaded."""
    path = base_of(loaded)
    return loaded if path == Path(loaded.path) else load_model(path)


def base_of(loaded: LoadedModel) -> Path:
    """The model to fine-tune from: a fine-tuned model's own base while it is still there (fine-tuning
    again, after adding examples, starts from the base, not from the last fine-tuning), else itself."""
    base = loaded.meta.get("training", {}).get("finetuned_from_path")
    if base and (Path(base) / WEIGHTS).is_file():
        return Path(base)
    return Path(loaded.path)


def default_folder(base: LoadedModel) -> Path:
    """Where a fine-tuned model goes unless told: runs/<base model>-personal/model (so the app lists it)."""
    return settings.runs_dir() / f"{slug(base.name)}-personal" / MODEL_DIR


def save_finetuned(result: FinetuneResult, base: LoadedModel, folder: str | Path,
                   library: Library, data: list) -> Path:  # fmt: skip
    """Write the fine-tuned model as a model folder, described as what it is and where it came from."""
    loaded = result.loaded
    training = dict(base.meta.get("training", {}))
    signers = dict(training.get("signers_per_sign") or {})
    signers.update({w: 1 for w in result.new_words})  # one signer: you
    training.update(
        finetuned_from=base.name,
        finetuned_from_path=str(Path(base.path).resolve()),
        personal_words={w: len(v) for w, v in library.words().items()},
        new_words=result.new_words,
        replay_data=[str(d) for d in data],
        finetune_steps=result.steps,
        finetune_seconds=round(result.seconds, 1),
        signers_per_sign=signers,
    )
    # The base's measured figures are not this model's: none are carried over.
    meta = describe(loaded.config, loaded.labels, loaded.threshold, {}, training,
                    name=f"{base.name} + personal signs")  # fmt: skip
    return save_model(Path(folder), loaded.model, meta)
