"""The hierarchical transformer, on every point and on the signer-independent inputs: shapes,
gradients, masking, presets, config checks."""

import pytest
import torch

from slr_core.features.handshape import N_HAND_FEATURES
from slr_core.models.build import build_model, count_parameters
from slr_core.models.config import PRESETS, ModelConfig

FRONTS = pytest.mark.parametrize("inputs", ["points", "invariant"])


def tiny(**kw) -> ModelConfig:
    return ModelConfig(**{**PRESETS["tiny"], "num_classes": 7, "drop": 0.0, "drop_path": 0.0, **kw})


def batch(b=3, t=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, t, 87, 2, generator=g)
    hands = torch.randn(b, t, 2, N_HAND_FEATURES, generator=g)
    mask = torch.ones(b, t, dtype=torch.bool)
    mask[1, 40:] = False
    mask[2, 9:] = False
    groups = torch.rand(b, t, 4, generator=g) > 0.2
    pos = torch.arange(t, dtype=torch.float32).expand(b, t).clone()
    return x, hands, mask, groups, pos


@FRONTS
def test_output_shapes(inputs):
    model = build_model(tiny(inputs=inputs)).eval()
    out = model(*batch())
    assert out["logits"].shape == (3, 7)
    assert len(out["aux_logits"]) == 2 and all(a.shape == (3, 7) for a in out["aux_logits"])
    assert out["confidence"].shape == (3,) and ((out["confidence"] > 0) & (out["confidence"] < 1)).all()


@FRONTS
def test_backward_reaches_every_parameter(inputs):
    model = build_model(tiny(inputs=inputs)).train()
    out = model(*batch())
    loss = (
        out["logits"].logsumexp(-1).mean()
        + sum(a.mean() for a in out["aux_logits"])
        + out["confidence"].mean()
    )
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing


@FRONTS
def test_padding_never_changes_the_output(inputs):
    model = build_model(tiny(inputs=inputs)).eval()
    x, hands, mask, groups, pos = batch()
    with torch.no_grad():
        ref = model(x, hands, mask, groups, pos)
        x2, h2, g2, p2 = x.clone(), hands.clone(), groups.clone(), pos.clone()
        x2[~mask] = torch.randn_like(x2[~mask]) * 100  # garbage in the padding
        h2[~mask] = torch.randn_like(h2[~mask]) * 100
        g2[~mask] = ~g2[~mask]
        p2[~mask] = 1e4
        out = model(x2, h2, mask, g2, p2)
    for key in ("logits", "confidence"):
        torch.testing.assert_close(out[key], ref[key], rtol=0, atol=1e-5)
    for a, b in zip(out["aux_logits"], ref["aux_logits"]):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


@FRONTS
def test_samples_do_not_influence_each_other(inputs):
    model = build_model(tiny(inputs=inputs)).eval()
    x, hands, mask, groups, pos = batch()
    with torch.no_grad():
        together = model(x, hands, mask, groups, pos)["logits"]
        alone = torch.cat([model(x[i : i + 1], hands[i : i + 1], mask[i : i + 1], groups[i : i + 1], pos[i : i + 1])["logits"]
                           for i in range(3)])  # fmt: skip
    torch.testing.assert_close(together, alone, rtol=0, atol=1e-5)


@FRONTS
def test_an_empty_sample_gives_finite_output(inputs):
    model = build_model(tiny(inputs=inputs)).eval()
    x, hands, mask, groups, pos = batch()
    mask[0] = False
    with torch.no_grad():
        out = model(x, hands, mask, groups, pos)
    assert torch.isfinite(out["logits"]).all()


def test_default_config_is_a_few_million_parameters():
    n = count_parameters(build_model(ModelConfig()))
    assert 2e6 < n < 5e6
    sizes = [
        count_parameters(build_model(ModelConfig(**PRESETS[p]))) for p in ("tiny", "small", "base", "large")
    ]
    assert sizes == sorted(sizes)


def test_config_checks_and_round_trip():
    cfg = tiny(pool_scales=[1, 2])
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="multiple of patch"):
        ModelConfig(length=63)
    with pytest.raises(ValueError, match="at least 2 classes"):
        ModelConfig(num_classes=1)
    with pytest.raises(ValueError, match="unknown model config"):
        ModelConfig.from_dict({"dimm": 3})


def test_the_invariant_front_reads_only_what_carries_between_people():
    """Wrists, hand shapes and which hands are seen change the answer; the lips, the arms and the
    other points of the hands do not (they differ with the person and the camera)."""
    from slr_core.capture.landmarks import MODEL_GROUPS
    from slr_core.models.common import WRIST_POINTS

    model = build_model(tiny(inputs="invariant")).eval()
    x, hands, mask, groups, pos = batch()
    with torch.no_grad():
        ref = model(x, hands, mask, groups, pos)["logits"]
        other = x.clone()
        other[:, :, MODEL_GROUPS["lips"]] += 5.0
        other[:, :, MODEL_GROUPS["pose"]] -= 3.0
        for hand in ("left_hand", "right_hand"):
            other[:, :, MODEL_GROUPS[hand].start + 1 : MODEL_GROUPS[hand].stop] *= -2.0
        torch.testing.assert_close(model(other, hands, mask, groups, pos)["logits"], ref, rtol=0, atol=1e-5)
        moved = x.clone()
        moved[:, :, WRIST_POINTS] += 1.0
        assert not torch.allclose(model(moved, hands, mask, groups, pos)["logits"], ref)
        assert not torch.allclose(model(x, hands * 2, mask, groups, pos)["logits"], ref)


def test_a_hand_not_seen_is_nothing_to_the_invariant_inputs():
    """A hand the frame does not show is all zeros, whatever its slots hold: missing hands cannot
    leak garbage into either network."""
    from slr_core.models.common import HAND_GROUP_INDEX, IN_FEATURES, invariant_inputs

    x, hands, mask, groups, _ = batch()
    feats = invariant_inputs(x, hands, mask, groups)
    assert feats.shape == (3, 64, IN_FEATURES)
    assert (feats[~mask] == 0).all()
    gone = groups.clone()
    gone[..., HAND_GROUP_INDEX[0]] = False  # no left hand anywhere
    x2, h2 = x.clone(), hands.clone()
    x2[..., :, :] += 7.0
    h2[:, :, 0] = 99.0
    a, b = invariant_inputs(x, hands, mask, gone), invariant_inputs(x2, h2, mask, gone)
    left = [0, 1, *range(4, 4 + N_HAND_FEATURES)]  # the left wrist and the left hand's shape
    assert (a[..., left] == 0).all() and (b[..., left] == 0).all()
    model = build_model(tiny(inputs="invariant")).eval()
    with torch.no_grad():
        out = model(x, hands * 0, mask, groups & False, torch.arange(64.0).expand(3, 64))
    assert torch.isfinite(out["logits"]).all()  # no hands at all: a finite answer


def test_both_networks_read_one_definition_of_the_invariant_inputs():
    import inspect

    from slr_core.models import convnet, transformer

    assert "invariant_inputs(" in inspect.getsource(convnet.InvariantConvNet.forward)
    assert "invariant_inputs(" in inspect.getsource(transformer.InvariantFront.forward)
    with pytest.raises(ValueError, match="inputs must be points or invariant"):
        ModelConfig(inputs="pixels")
