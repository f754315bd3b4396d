"""Checkpoints: safetensors + JSON round trip, and every way a checkpoint can fail to match."""

import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from slr_core.features.preprocess import PREPROCESS_VERSION
from slr_core.models.build import build_model
from slr_core.models.checkpoint import CheckpointError, describe, load_model, read_description, save_model

from .test_model import batch, tiny

LABELS = [f"sign{i}" for i in range(7)]


@pytest.fixture
def saved(tmp_path):
    model = build_model(tiny()).eval()
    folder = save_model(tmp_path / "m", model, describe(model.config, LABELS, 0.42, {"top1": 0.5}, name="t"))
    return model, folder


def test_round_trip_gives_identical_outputs(saved):
    model, folder = saved
    loaded = load_model(folder)
    assert loaded.labels == LABELS and loaded.threshold == pytest.approx(0.42) and loaded.name == "t"
    assert loaded.config == model.config
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.model(*batch())["logits"], model(*batch())["logits"], rtol=0, atol=0
        )
    desc = json.loads((folder / "model.json").read_text())
    assert desc == read_description(folder)
    assert desc["preprocess_version"] == PREPROCESS_VERSION and desc["metrics"]["top1"] == 0.5
    assert load_model(folder / "model.safetensors").labels == LABELS  # the file itself works too


def test_labels_that_do_not_match(saved):
    _, folder = saved
    with pytest.raises(CheckpointError, match="labels differ"):
        load_model(folder, expect_labels=LABELS[::-1])


def test_config_that_does_not_match_the_weights(saved, tmp_path):
    model, folder = saved
    meta = describe(tiny(dim=96), LABELS)  # says dim 96, weights are dim 64
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp_path / "x.safetensors"), {"slr": json.dumps(meta)})
    with pytest.raises(CheckpointError, match="weights do not match its model config"):
        load_model(tmp_path / "x.safetensors")
    meta = describe(model.config, LABELS[:5])  # 5 labels for 7 outputs
    save_file(state, str(tmp_path / "y.safetensors"), {"slr": json.dumps(meta)})
    with pytest.raises(CheckpointError, match="5 labels for a model with 7 outputs"):
        load_model(tmp_path / "y.safetensors")


def test_other_preprocessing_version(saved, tmp_path):
    model, _ = saved
    meta = dict(describe(model.config, LABELS), preprocess_version=PREPROCESS_VERSION + 1)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "v.safetensors"),
              {"slr": json.dumps(meta)})  # fmt: skip
    with pytest.raises(CheckpointError, match="preprocessing version"):
        load_model(tmp_path / "v.safetensors")


def test_truncated_and_foreign_files(saved, tmp_path):
    _, folder = saved
    data = (folder / "model.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="damaged or truncated"):
        load_model(tmp_path / "cut.safetensors")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(CheckpointError, match="but not a checkpoint"):
        load_model(tmp_path / "plain.safetensors")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_model(tmp_path / "nowhere")


class _Boom:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('x')",))


def test_a_pickle_is_never_unpickled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.safetensors").write_bytes(pickle.dumps({"state": _Boom()}))
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "evil.safetensors")
    assert not (tmp_path / "PWNED").exists()


def test_a_broken_model_never_replaces_a_good_checkpoint(saved):
    model, folder = saved
    before = (folder / "model.safetensors").read_bytes()
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    with pytest.raises(CheckpointError, match="non-finite"):
        save_model(folder, model, describe(model.config, LABELS))
    assert (folder / "model.safetensors").read_bytes() == before
    assert load_model(folder).labels == LABELS
