"""The network a ModelConfig describes: the hierarchical transformer or the invariant conv net."""

from __future__ import annotations

from torch import nn

from .config import PRESETS, ModelConfig
from .convnet import InvariantConvNet
from .transformer import SignTransformer


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build_model(config: ModelConfig) -> nn.Module:
    """The network a config describes: the transformer, or the invariant conv net."""
    if config.arch == "conv":
        return InvariantConvNet(config)
    return SignTransformer(config)


def preset_size(preset: str, num_classes: int = 251) -> str:
    """A preset's size in parameters, e.g. '0.58M parameters' (`slr train --preset list`, the Train page)."""
    return f"{count_parameters(build_model(ModelConfig(**{**PRESETS[preset], 'num_classes': num_classes}))) / 1e6:.2f}M parameters"
