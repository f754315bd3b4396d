"""Evaluation figures on hand-made predictions with known answers, and `slr eval` end to end."""

import json

import numpy as np
import pytest

from slr_core.cli import main as slr
from slr_core.datasets.data import UNKNOWN_LABEL
from slr_core.models.build import build_model
from slr_core.models.checkpoint import describe, save_model
from slr_core.models.config import PRESETS, ModelConfig
from slr_core.recognition.predict import accept
from slr_core.training.evaluate import (
    choose_threshold,
    classification_report,
    evaluate_arrays,
    open_set_figures,
    save_confusion_image,
)

from .conftest import FULL_FIXTURE, SIGN_MAP, needs_shared

LABELS = ["a", "b", "c", UNKNOWN_LABEL]


def onehot(pred, p=0.9):
    probs = np.full((len(pred), len(LABELS)), (1 - p) / (len(LABELS) - 1))
    probs[np.arange(len(pred)), pred] = p
    return probs


def test_classification_report_known_answers():
    y = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    rep = classification_report(y, onehot(pred), LABELS)
    assert rep.top1 == pytest.approx(4 / 6) and rep.top5 == 1.0
    assert rep.per_class["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert rep.per_class["b"]["precision"] == pytest.approx(2 / 3) and rep.per_class["b"]["recall"] == 1.0
    assert rep.macro_f1 == pytest.approx(np.mean([0.5, 0.8, 2 / 3]))
    assert rep.confusion.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_open_set_and_threshold():
    y = np.array([0, 1, 2, 3, 3, 3])
    probs = onehot(np.array([0, 1, 2, 0, 1, 3]), p=0.9)
    probs[3] = [0.4, 0.3, 0.2, 0.1]  # an out-of-vocabulary clip the model is unsure about
    probs[4] = [0.1, 0.5, 0.2, 0.2]
    best, p, ok = accept(probs, LABELS, 0.6)
    assert best.tolist() == [0, 1, 2, 0, 1, 0] and ok.tolist() == [True, True, True, False, False, False]
    f = open_set_figures(y, probs, LABELS, 0.6)
    assert f["in_vocab_accepted_correct"] == 1.0 and f["oov_rejected"] == 1.0 and f["n_oov"] == 3
    assert open_set_figures(y, probs, LABELS, 0.0)["oov_rejected"] == pytest.approx(1 / 3)
    t = choose_threshold(y, probs, LABELS)
    assert 0.5 < t <= 0.9
    rep = evaluate_arrays(y, probs, LABELS, t)
    assert "out-of-vocabulary rejected 1.000" in rep.headline()


def test_confusion_image(tmp_path):
    y = np.arange(60) % 50
    rep = classification_report(y, np.eye(60)[:, :60][y][:, :60], [f"s{i}" for i in range(60)])
    path = save_confusion_image(rep, tmp_path / "c.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


@needs_shared
def test_slr_eval_prints_the_headline_last(tmp_path, capsys):
    labels = list(json.loads(SIGN_MAP.read_text()))
    model = build_model(ModelConfig(**PRESETS["tiny"], num_classes=len(labels)))
    save_model(tmp_path / "m", model, describe(model.config, labels, 0.0, name="random"))
    out_json = tmp_path / "r.json"
    code = slr(["eval", "--model", str(tmp_path / "m"), "--data", str(FULL_FIXTURE), "--json", str(out_json),
                "--report-dir", str(tmp_path / "rep"), "--cache-dir", str(tmp_path / "c"), "--quiet"])  # fmt: skip
    printed = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and printed[-1].startswith("top-1 ") and "(n=12)" in printed[-1]
    report = json.loads(out_json.read_text())
    assert report["n"] == 12 and set(report["per_class"]) >= {"hello", "thankyou"}
    assert (tmp_path / "rep" / "confusion.png").exists()


@needs_shared
def test_slr_eval_refuses_a_mismatched_checkpoint(tmp_path, capsys):
    model = build_model(ModelConfig(**PRESETS["tiny"], num_classes=3))
    save_model(tmp_path / "m", model, describe(model.config, ["x", "y", "z"]))
    code = slr(["eval", "--model", str(tmp_path / "m"), "--data", str(FULL_FIXTURE), "--cache-dir",
                str(tmp_path / "c")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "signs the model does not know" in err and "Traceback" not in err


@needs_shared
def test_evaluation_in_chunks_gives_the_same_figures(tmp_path, monkeypatch):
    """evaluate_dataset preprocesses a chunk of sequences at a time (the full Kaggle set's features
    do not fit in memory at once): chunks of 5 over the 12 real sequences give the same figures."""
    from slr_core.models.checkpoint import load_model
    from slr_core.training import evaluate

    labels = list(json.loads(SIGN_MAP.read_text()))
    model = build_model(ModelConfig(**PRESETS["tiny"], num_classes=len(labels)))
    save_model(tmp_path / "m", model, describe(model.config, labels, 0.0, name="random"))
    loaded = load_model(tmp_path / "m")
    seen = []
    real = evaluate.evaluate_arrays
    monkeypatch.setattr(evaluate, "evaluate_arrays", lambda y, p, *a: seen.append((y, p)) or real(y, p, *a))
    whole = evaluate.evaluate_dataset(loaded, FULL_FIXTURE, cache_dir=tmp_path / "c", progress=False)
    monkeypatch.setattr(evaluate, "EVAL_CHUNK", 5)
    chunked = evaluate.evaluate_dataset(loaded, FULL_FIXTURE, cache_dir=tmp_path / "c", progress=False)
    assert whole.n == chunked.n == 12 and seen[0][1].shape == (12, len(labels))
    assert np.array_equal(seen[0][0], seen[1][0]) and np.allclose(seen[0][1], seen[1][1], atol=1e-6)
    assert whole.top1 == chunked.top1 and whole.top5 == chunked.top5
