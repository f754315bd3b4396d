"""Learning from many people: webcam-signs (real webcam users' keypoints), folds that spread each
sign's people, data whose licence text is missing, the bank of examples shipped with a model, and
the live replay of a sequence."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from slr_core.cli import main as slr
from slr_core.datasets.data import load_dataset, participant_folds
from slr_core.models.checkpoint import load_model
from slr_core.recognition.bank import FILE as BANK_FILE
from slr_core.recognition.bank import Bank, load_bank, save_bank, unit
from slr_core.recognition.predict import Classifier
from slr_core.training.config import TrainConfig
from slr_core.training.loop import train
from slr_core.training.protocols import live_events, load_sequences, model_probabilities, top1_per_sign

from .conftest import DATA, REPO, SIGN_MAP, SUBSET, needs_shared

pytestmark = needs_shared
WEBCAM = DATA / "webcam-signs"
MODEL = REPO / "models" / "asl250-webcam"


def copy_webcam(root, people: dict[int, int], licences: bool = True):
    """A small copy of webcam-signs: `people` {participant: sequences per sign}, with sources.csv and
    (unless `licences` is off) the licence texts."""
    table = pd.read_csv(WEBCAM / "train.csv")
    parts = []
    for person, n in people.items():
        parts.append(table[table["participant_id"] == person].groupby("sign").head(n))
    table = pd.concat(parts)
    for p in table["path"]:
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(WEBCAM / p, root / p)
    table.to_csv(root / "train.csv", index=False)
    shutil.copy(SIGN_MAP, root / SIGN_MAP.name)
    sources = pd.read_csv(WEBCAM / "sources.csv")
    sources[sources["participant_id"].isin(list(people))].to_csv(root / "sources.csv", index=False)
    if licences:
        shutil.copytree(WEBCAM / "LICENSES", root / "LICENSES")
    return root


@pytest.fixture(scope="module")
def small_webcam(tmp_path_factory):
    """5 real webcam users, 4 sequences of each of their signs (no, please, yes among them)."""
    return copy_webcam(
        tmp_path_factory.mktemp("webcam"), {900008: 4, 900009: 4, 900019: 4, 900038: 4, 900050: 4}
    )


def test_folds_spread_each_signs_people():
    table = pd.read_csv(WEBCAM / "train.csv")
    parts, signs = table["participant_id"].to_numpy(), table["sign"].to_numpy()
    folds = participant_folds(parts, 5, signs=signs)
    people_fold = dict(zip(parts, folds))
    assert len(people_fold) == 15 and sorted(np.bincount(list(people_fold.values()))) == [3, 3, 3, 3, 3]
    for sign in ("no", "yes", "please", "thankyou"):
        mine = {p for p, s in zip(parts, signs) if s == sign}
        in_folds = [people_fold[p] for p in mine]
        # a sign of up to 5 people: each person in a fold of their own, so the others always train
        assert len(set(in_folds)) == min(len(mine), 5), (sign, in_folds)
    # the Kaggle subset (every person signs both signs): the same folds as without signs
    sub = pd.read_csv(SUBSET / "train.csv")
    p = sub["participant_id"].to_numpy()
    assert (participant_folds(p, 5) == participant_folds(p, 5, signs=sub["sign"].to_numpy())).all()


def test_a_missing_licence_text_leaves_that_person_out(tmp_path):
    root = copy_webcam(tmp_path / "w", {900008: 2, 900038: 2})
    assert len(load_dataset(root)) == 12 and not load_dataset(root).notes
    (root / "LICENSES" / "Neat11+realtime-SignLanguage.txt").unlink()  # 900038's
    ds = load_dataset(root)
    assert set(ds.table["participant_id"]) == {900008} and len(ds) == 6
    assert "6 sequence(s) of 1 participant(s) skipped" in ds.notes[0]
    assert "900038 (LICENSES/Neat11+realtime-SignLanguage.txt is missing)" in ds.notes[0]


def test_bad_sequences_are_trained_on_or_skipped_and_counted(tmp_path, capsys):
    """No lips (most webcam sources), a hand cut at the frame's edge, 5 frames: trained on; no hand in any
    frame: skipped, and the count is printed."""
    root = copy_webcam(tmp_path / "w", {900008: 3, 900009: 3, 900019: 3})
    table = pd.read_csv(root / "train.csv")
    frames = pd.read_parquet(root / table["path"].iat[0])
    hands = frames["type"].isin(["left_hand", "right_hand"])
    no_hands = frames.copy()
    no_hands.loc[hands, ["x", "y", "z"]] = np.nan
    no_hands.to_parquet(root / table["path"].iat[0])
    short = pd.read_parquet(root / table["path"].iat[1])
    short[short["frame"] < short["frame"].min() + 5].to_parquet(root / table["path"].iat[1])
    cut = pd.read_parquet(root / table["path"].iat[2])
    edge = cut["type"].eq("right_hand") & (cut["x"] > cut.loc[cut["type"].eq("right_hand"), "x"].median())
    cut.loc[edge, ["x", "y", "z"]] = np.nan  # the half of the hand beyond the frame's edge
    cut.to_parquet(root / table["path"].iat[2])
    out = tmp_path / "run"
    cfg = TrainConfig(data=[str(root)], out=str(out), preset="tiny", epochs=1, batch_size=8, samples_per_epoch=16,
                      folds=3, warmup_steps=1, workers=0, cache_dir=str(tmp_path / "cache"))  # fmt: skip
    assert train(cfg, progress=False).state == "finished"
    said = capsys.readouterr().out
    assert "1 sequence(s) skipped" in said and "no hand in any frame" in said
    loaded = load_model(out / "model")
    assert (
        loaded.meta["training"]["train_sequences"] + loaded.meta["training"]["val_sequences"]
        == len(table) - 1
    )


def test_a_tiny_real_run_over_webcam_signs_with_its_bank(small_webcam, tmp_path, capsys):
    """fold_data splits only webcam-signs (the Kaggle copy all trains); bank_data puts the training
    sequences' embeddings beside the model; the Classifier then blends them in."""
    sub = tmp_path / "sub"
    table = pd.read_csv(SUBSET / "train.csv")
    table = table[table["participant_id"].isin(sorted(table["participant_id"].unique())[:3])]
    table = table.groupby(["participant_id", "sign"]).head(3)
    for p in table["path"]:
        (sub / p).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SUBSET / p, sub / p)
    table.to_csv(sub / "train.csv", index=False)
    shutil.copy(SIGN_MAP, sub / SIGN_MAP.name)
    out = tmp_path / "run"
    cfg = TrainConfig(data=[str(sub), str(small_webcam)], fold_data=[str(small_webcam)],
                      bank_data=[str(sub), str(small_webcam)], out=str(out), preset="conv", epochs=2, batch_size=16,
                      samples_per_epoch=64, folds=5, warmup_steps=2, workers=0, mixup_prob=0.0,
                      cache_dir=str(tmp_path / "cache"))  # fmt: skip
    assert train(cfg, progress=False).state == "finished"
    said = capsys.readouterr().out
    assert (
        f"{sub}: not among the datasets split into folds" in said
        and "bank of examples: validation top-1" in said
    )
    loaded = load_model(out / "model")
    bank, problem = load_bank(out / "model", loaded.labels)
    assert problem is None and bank is not None
    webcam_table = pd.read_csv(small_webcam / "train.csv")
    folds = participant_folds(
        webcam_table["participant_id"].to_numpy(), 5, signs=webcam_table["sign"].to_numpy()
    )
    held = set(webcam_table["participant_id"][folds == 0])
    assert len(bank) == len(table) + int((folds != 0).sum())  # the training sequences only
    assert not held & {int(p) % 10**9 for p in bank.people}  # no validation person in the bank
    assert bank.signs()["hello"] >= 3 and bank.threshold is not None
    # the app's classifier uses it, and its threshold; without it, the network alone
    seqs = load_sequences(small_webcam)
    with_bank, alone = Classifier(loaded), Classifier(loaded, use_bank=False)
    assert with_bank.bank is not None and with_bank.threshold == bank.threshold and alone.bank is None
    p1, p0 = (
        with_bank.probabilities(seqs[0].data, seqs[0].times),
        alone.probabilities(seqs[0].data, seqs[0].times),
    )
    assert np.isclose(p1.sum(), 1.0, atol=1e-4) and not np.allclose(p1, p0)
    # slr bank rebuilds it from the run's own config; slr eval uses it unless --no-bank
    (out / "model" / BANK_FILE).unlink()
    assert slr(["bank", str(out), "--quiet"]) == 0
    assert "people per sign:" in capsys.readouterr().out
    assert slr(["eval", "--model", str(out / "model"), "--data", str(small_webcam), "--quiet"]) == 0
    assert f"with its bank of {len(bank)} examples" in capsys.readouterr().out
    assert (
        slr(["eval", "--model", str(out / "model"), "--data", str(small_webcam), "--quiet", "--no-bank"]) == 0
    )
    assert "with its bank" not in capsys.readouterr().out


def test_the_bank_votes_for_close_examples_only():
    rng = np.random.default_rng(0)
    labels = ["hello", "thankyou", "no", "_unknown"]
    vectors = unit(rng.normal(size=(6, 16)).astype(np.float32))
    bank = Bank(vectors, np.array([0, 0, 0, 1, 1, 2]), labels, np.arange(6), k=3)
    probs = np.full((1, 4), 0.25, np.float32)
    near = bank.blend(probs, vectors[:1] * 5.0)  # the length does not matter: cosine
    assert near.argmax() == 0 and np.isclose(near.sum(), 1.0)
    far = bank.blend(probs, -vectors[:1])  # nothing like any example: the network's answer stays
    assert np.allclose(far, probs, atol=0.01)
    q = bank.votes(vectors[3:4])
    assert q[0, 1] > q[0, 0] and q[0, 3] == 0.0  # never a vote for a class without examples


def test_a_bank_that_does_not_fit_its_model_is_refused_with_a_reason(tmp_path):
    model = tmp_path / "m"
    shutil.copytree(MODEL, model)
    loaded = load_model(model)
    bank, problem = load_bank(model, loaded.labels)
    assert problem is None and bank is not None and Classifier(loaded).bank is not None
    assert load_bank(model, loaded.labels[:-1] + ["other"])[1].endswith(
        "the model answers without its bank of examples"
    )
    weights = model / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # the same model, other weights: the bank no longer belongs to it
    weights.write_bytes(bytes(data))
    assert "made with other weights" in load_bank(model, loaded.labels)[1]
    (model / BANK_FILE).write_bytes(b"not safetensors")
    assert "not a readable bank of examples" in load_bank(model, loaded.labels)[1]
    (model / BANK_FILE).unlink()
    assert load_bank(model, loaded.labels) == (None, None)
    save_bank(Bank(unit(np.ones((2, 4), np.float32)), np.array([0, 1]), loaded.labels, np.arange(2)), model)
    again, problem = load_bank(model, loaded.labels)
    assert problem is None and len(again) == 2 and json.loads(json.dumps(again.meta))["examples"] == 2


def test_a_webcam_sequence_replayed_live_gives_its_sign_once():
    """A real webcam user's hello, frame by frame through the live recogniser with the bundled model and
    its bank: one event, the same sign as the whole sequence."""
    loaded = load_model(MODEL)
    hellos = [q for q in load_sequences(WEBCAM) if q.sign == "hello"]
    seqs = [q for q in hellos if q.participant == hellos[0].participant][:40:8]
    classifier = Classifier(loaded)
    probs = model_probabilities(loaded, seqs, bank=classifier.bank).probs
    table = top1_per_sign(probs, loaded.labels, seqs)
    assert len(seqs) >= 3 and table["hello"]["n"] == len(seqs) and table["hello"]["people"] == 1
    for q, p in zip(seqs, probs):
        events = live_events(classifier, q)
        assert len(events) <= 1
        if p.max() >= classifier.threshold and events:
            assert events == [loaded.labels[int(p.argmax())]]
