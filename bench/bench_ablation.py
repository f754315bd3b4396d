"""What each part of the hierarchical transformer costs: parameters, file size and one window's time.

The transformer on the signer-independent inputs (`--preset invariant`) with one part taken away at a
time, next to the conv net (the bundled default's network) and the transformer that reads every point
(`--preset base`, with and without its cross-modal attention, which only that front has). Each
variant is an untrained network of that shape: time and size do not depend on the weights. One window
is 64 frames at batch 1, torch on 1 and on 2 threads, the median of --calls calls, the median over
--runs runs. The auxiliary classifiers only train (their losses); the app's forward pass computes them
too, so "without auxiliary heads at inference" shows what dropping them from inference would save.
What each part is worth in accuracy is not measured here (docs/accuracy.md says why).
Usage: python bench/bench_ablation.py [--runs 5] [--calls 100]
"""

import argparse
import statistics
import tempfile
from pathlib import Path

from common import window_ms

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--calls", type=int, default=100)
args = parser.parse_args()

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from torch import nn  # noqa: E402

from slr_core.models.build import build_model, count_parameters  # noqa: E402
from slr_core.models.config import PRESETS, ModelConfig  # noqa: E402


class PassThrough(nn.Module):
    """Stands where the cross-modal attention was: the streams go on unchanged."""

    def forward(self, streams, attn_mask, rot):
        return streams


def variant(preset: str, change: str | None = None, **overrides) -> nn.Module:
    model = build_model(ModelConfig(**{**PRESETS[preset], **overrides, "num_classes": 251})).eval()
    if change == "no-aux":
        model.classifier.aux = nn.ModuleList()
    elif change == "no-cross":
        model.cross = PassThrough()
    return model


VARIANTS = [
    ("conv net (the bundled default's network)", lambda: variant("conv")),
    ("transformer, invariant inputs: all of it", lambda: variant("invariant")),
    ("  without the local blocks (2)", lambda: variant("invariant", local_blocks=0)),
    ("  without the global blocks (2)", lambda: variant("invariant", global_blocks=0)),
    ("  without local and global blocks", lambda: variant("invariant", local_blocks=0, global_blocks=0)),
    ("  multi-scale pooling at one scale", lambda: variant("invariant", pool_scales=(1,))),
    ("  without auxiliary heads at inference", lambda: variant("invariant", "no-aux")),
    ("transformer, every point (base): all of it", lambda: variant("base")),
    ("  without the cross-modal attention", lambda: variant("base", "no-cross")),
]


def file_mb(model: nn.Module) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.safetensors"
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
        return path.stat().st_size / 1e6


torch.manual_seed(0)
print(f"one window (batch 1, 64 frames), median of {args.calls} calls, median over {args.runs} runs")
print(f"{'network':46s} {'parameters':>10s} {'file MB':>8s} {'1 thread':>9s} {'2 threads':>9s}")
for name, make in VARIANTS:
    model = make()
    one, two = (statistics.median(window_ms(model, t, args.runs, args.calls)) for t in (1, 2))
    print(f"{name:46s} {count_parameters(model) / 1e6:9.2f}M {file_mb(model):8.1f} {one:7.2f}ms {two:7.2f}ms")
