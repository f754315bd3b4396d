"""Fine-tuning a model to a personal library (slr_core.finetune, `slr signs finetune`, the My signs
page): on the bundled model, real signers' keypoints and real studio clips as replay."""

import threading

import numpy as np
import pytest
import torch

from slr_core.app.state import vocabulary
from slr_core.base import settings
from slr_core.cli import main as slr
from slr_core.datasets.data import load_dataset
from slr_core.features.preprocess import preprocess, stack
from slr_core.models.checkpoint import load_model
from slr_core.recognition.library import Library
from slr_core.recognition.predict import predict_features
from slr_core.training.finetune import (
    FinetuneError,
    _replay_classes,
    base_of,
    default_folder,
    finetune,
    replay_sequences,
    save_finetuned,
    signs_listed,
    with_words,
)

from .conftest import FULL_FIXTURE, REPLAY_SIGNS, SUBSET, needs_shared

pytestmark = needs_shared


@pytest.fixture(scope="module")
def bundled():
    return load_model(settings.default_model())


@pytest.fixture(scope="module")
def thankyous():
    """One real signer's thankyou sequences (they become a new word here)."""
    ds = load_dataset(SUBSET)
    t = ds.table
    pid = t["participant_id"].value_counts().index[0]
    rows = np.flatnonzero((t["participant_id"] == pid) & (t["sign"] == "thankyou"))
    return [ds.keypoints(int(i)) for i in rows[:3]]


@pytest.fixture(scope="module")
def missed(bundled):
    """Three real thankyou sequences of a signer the bundled model never saw (29302, its validation
    split) that it takes for something else."""
    ds = load_dataset(SUBSET)
    t = ds.table
    rows = np.flatnonzero((t["participant_id"] == 29302) & (t["sign"] == "thankyou"))
    kps = [ds.keypoints(int(i)) for i in rows]
    wrong = [k for k, c in zip(kps, first_choice(bundled, kps)) if c != "thankyou"]
    assert len(wrong) >= 3
    return wrong[:3]


def library_with(folder, examples, word="wave") -> Library:
    lib = Library.open(folder)
    for kp in examples:
        lib.add(word, kp.data, kp.times, source="test")
    return lib


def first_choice(loaded, examples) -> list[str]:
    """The model's own first choice (no library) for each example."""
    length = loaded.config.length
    probs = predict_features(
        loaded.model, stack([preprocess(k.data, k.times, length) for k in examples], length)
    ).probs
    return [loaded.labels[i] for i in probs.argmax(1)]


def test_a_new_word_gets_its_own_output_started_from_its_examples(tmp_path, bundled, thankyous):
    lib = library_with(tmp_path / "lib", thankyous)
    grown, new = with_words(bundled, lib)
    n = bundled.config.num_classes
    assert new == ["wave"] and grown.labels == [*bundled.labels, "wave"] and grown.config.num_classes == n + 1
    w_old, w_new = bundled.model.state_dict()["out.weight"], grown.model.state_dict()["out.weight"]
    assert torch.equal(w_new[:n], w_old)  # the model's own signs are untouched
    emb = predict_features(bundled.model, stack([preprocess(k.data, k.times) for k in thankyous]), embed=True)
    direction = emb.embedding.mean(0) / np.linalg.norm(emb.embedding.mean(0))
    assert np.dot(w_new[n].numpy() / w_new[n].norm().item(), direction) > 0.999  # imprinted
    same, none = with_words(bundled, library_with(tmp_path / "known", thankyous, word="thankyou"))
    assert none == [] and same.labels == bundled.labels


def test_finetuning_learns_a_signers_way_and_leaves_the_base_alone(tmp_path, bundled, missed, replay_dataset):
    before = {k: v.clone() for k, v in bundled.model.state_dict().items()}
    lib = library_with(tmp_path / "lib", missed, word="thankyou")
    replay = replay_sequences([replay_dataset], bundled.labels)
    assert sorted({q.sign for q in replay}) == sorted(REPLAY_SIGNS)
    seen = []
    result = finetune(bundled, lib, replay, steps=40, progress=lambda i, n: seen.append((i, n)))
    assert seen[-1] == (40, 40) and result.new_words == [] and result.examples == 3
    assert all(torch.equal(v, before[k]) for k, v in bundled.model.state_dict().items())
    assert "thankyou" not in first_choice(bundled, missed)
    assert first_choice(result.loaded, missed).count("thankyou") >= 2  # the fine-tuned model learned them


def test_a_finetuned_model_is_saved_as_what_it_is(tmp_path, bundled, thankyous, replay_dataset):
    lib = library_with(tmp_path / "lib", thankyous)
    result = finetune(bundled, lib, replay_sequences([replay_dataset], bundled.labels), steps=2)
    assert result.new_words == ["wave"] and result.loaded.labels[-1] == "wave"
    folder = save_finetuned(result, bundled, tmp_path / "run" / "model", lib, [replay_dataset])
    again = load_model(folder)
    assert again.labels[-1] == "wave" and again.threshold == bundled.threshold
    training = again.meta["training"]
    assert training["personal_words"] == {"wave": 3} and training["finetune_steps"] == 2
    assert training["signers_per_sign"]["wave"] == 1 and again.name == f"{bundled.name} + personal signs"
    how = {r["sign"]: r["learned from"] for r in vocabulary(again.meta)}
    before = {r["sign"]: r["learned from"] for r in vocabulary(bundled.meta)}
    assert how["wave"] == "your own examples (fine-tuned)" and how["thankyou"] == before["thankyou"]
    assert base_of(again) == settings.default_model().resolve()  # fine-tuning again starts from the base
    assert base_of(bundled) == bundled.path
    assert default_folder(bundled).parts[-2:] == (f"{bundled.name}-personal", "model")


def test_replay_takes_a_few_clips_of_each_sign_the_same_every_time(replay_dataset, bundled):
    both = [replay_dataset, SUBSET]  # 6 signs of one clip each, and 2 signs of about 260 clips each
    replay = replay_sequences(both, bundled.labels, per_sign=4)
    counts = {s: sum(q.sign == s for q in replay) for s in {q.sign for q in replay}}
    assert counts == {**dict.fromkeys(REPLAY_SIGNS, 1), "hello": 4, "thankyou": 4}
    assert signs_listed(SUBSET, bundled.labels) == {"hello", "thankyou"}
    assert signs_listed(replay_dataset, bundled.labels) == set(REPLAY_SIGNS)
    assert signs_listed(replay_dataset.parent, bundled.labels) == set()  # no train.csv there
    again = replay_sequences(both, bundled.labels, per_sign=4)
    assert [q.participant for q in again] == [q.participant for q in replay]
    assert all(np.array_equal(a.data, b.data, equal_nan=True) for a, b in zip(again, replay))


def test_finetuning_refuses_what_cannot_work(tmp_path, bundled, thankyous, replay_dataset):
    replay = replay_sequences([replay_dataset], bundled.labels)
    with pytest.raises(FinetuneError, match="empty"):
        finetune(bundled, Library.open(tmp_path / "empty"), replay, steps=1)
    with pytest.raises(FinetuneError, match="holds 2 of the model's signs"):
        replay_sequences([SUBSET], bundled.labels)  # hello and thankyou only: too few to keep the others
    stop = threading.Event()
    stop.set()
    with pytest.raises(FinetuneError, match="stopped"):
        finetune(bundled, library_with(tmp_path / "lib", thankyous), replay, steps=5, stop=stop)


def test_slr_signs_finetune(tmp_path, capsys, thankyous, replay_dataset):
    lib = tmp_path / "lib"
    library_with(lib, thankyous, word="thankyou")
    code = slr(["signs", "finetune", "--library", str(lib), "--data", str(replay_dataset), "--steps", "3",
                "--out", str(tmp_path / "run")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "done in" in out and str(tmp_path / "run" / "model") in out
    tuned = load_model(tmp_path / "run" / "model")
    assert tuned.labels == load_model(settings.default_model()).labels
    how = {r["sign"]: r["learned from"] for r in vocabulary(tuned.meta)}
    assert (
        how["thankyou"]
        == "12 Kaggle signers + 12 webcam users + 1 studio clip + your own examples (fine-tuned)"
    )
    assert how["hello"] == "13 webcam users + 12 Kaggle signers + 1 studio clip"
    code = slr(["eval", "--model", str(tmp_path / "run" / "model"), "--data", str(FULL_FIXTURE)])
    assert code == 0 and "top-1" in capsys.readouterr().out
    code = slr(
        ["signs", "finetune", "--library", str(lib), "--data", str(SUBSET), "--out", str(tmp_path / "x")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "at least 5 signs" in err and "Traceback" not in err
    code = slr(["signs", "finetune", "--library", str(tmp_path / "none"), "--data", str(replay_dataset)])
    assert code == 2 and "library is empty" in capsys.readouterr().err


@pytest.mark.parametrize("preset,head", [("tiny", "linear"), ("tiny", "cosine"), ("conv", "cosine")])
def test_new_words_grow_every_kind_of_model(tmp_path, preset, head):
    """The transformer (with its auxiliary heads) and the cosine output layers grow an output too."""
    from slr_core.models.build import build_model
    from slr_core.models.checkpoint import LoadedModel
    from slr_core.models.config import PRESETS, ModelConfig
    from slr_core.training.protocols import load_sequences

    labels = ["hello", "thankyou", "_unknown"]
    model = build_model(ModelConfig(**{**PRESETS[preset], "num_classes": len(labels), "head": head})).eval()
    small = LoadedModel(model, labels, {"threshold": 0.5}, tmp_path)
    seqs = load_sequences(FULL_FIXTURE)
    lib = Library.open(tmp_path / "lib")
    for q in seqs[:2]:
        lib.add("wave", q.data, q.times)
    result = finetune(small, lib, seqs, steps=2)
    assert result.loaded.labels == [*labels, "wave"] and result.loaded.config.num_classes == 4
    probs = predict_features(
        result.loaded.model, stack([preprocess(q.data, q.times) for q in seqs[:2]])
    ).probs
    assert probs.shape == (2, 4) and np.isfinite(probs).all()


def test_contrastive_classes_keep_words_outside_the_vocabulary_apart():
    labels = ["hello", "thankyou", "_unknown", "wave"]
    kinds = _replay_classes([1, 2, 2, 1], labels)
    assert kinds[0] == kinds[3] == 1  # a sign is its output's class, as a library example of it is
    assert len({kinds[1], kinds[2]}) == 2 and not {kinds[1], kinds[2]} & {0, 1, 2, 3}  # each word its own
