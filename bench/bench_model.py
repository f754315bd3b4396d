"""Model speed: inference latency of one window (batch 1, 64 frames) and training throughput.

Inference: the bundled model, torch on 1 and on 2 threads, median of many calls, repeated over
several runs. Training: forward + backward + AdamW step on random batches at the default config
and batch size (64), samples per second; on CUDA as well when a GPU is present.
Usage: python bench/bench_model.py [--model DIR] [--runs 5]
"""

import argparse
import statistics
import time

from common import REPO, call_ms, window_inputs, window_ms

parser = argparse.ArgumentParser()
parser.add_argument("--model", default=str(REPO / "models" / "asl250-webcam"))
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--calls", type=int, default=100)
parser.add_argument("--train-steps", type=int, default=8)
args = parser.parse_args()

import torch  # noqa: E402

from slr_core.models.build import build_model, count_parameters  # noqa: E402
from slr_core.models.checkpoint import load_model  # noqa: E402
from slr_core.models.config import ModelConfig  # noqa: E402
from slr_core.training.config import TrainConfig  # noqa: E402
from slr_core.training.optim import make_optimizer, training_loss  # noqa: E402

loaded = load_model(args.model)
model = loaded.model.eval()
size_mb = (loaded.path / "model.safetensors").stat().st_size / 1e6
print(f"model {loaded.name}: {count_parameters(model) / 1e6:.2f}M parameters, file {size_mb:.1f} MB")


def inputs(b, device="cpu"):
    return window_inputs(model.config, b, device)


for threads in (1, 2):
    medians = window_ms(model, threads, args.runs, args.calls)
    print(f"inference, batch 1 x 64 frames, {threads} thread(s): median {statistics.median(medians):.2f} ms "
          f"(runs: {', '.join(f'{m:.2f}' for m in medians)})")  # fmt: skip

from slr_core.recognition.predict import model_bank  # noqa: E402

bank, _ = model_bank(loaded)
if bank is not None:  # the bank's vote on top of a window (the app's Classifier does both)
    import numpy as np

    size = (loaded.path / "bank.safetensors").stat().st_size / 1e6
    emb = np.random.default_rng(0).normal(size=(1, bank.vectors.shape[1])).astype(np.float32)
    probs = np.full((1, len(loaded.labels)), 1 / len(loaded.labels), np.float32)
    medians = call_ms(lambda: bank.blend(probs, emb), args.runs, args.calls)
    print(f"the bank of {len(bank)} examples ({size:.1f} MB; with the model {size + size_mb:.1f} MB): its vote on one "
          f"window {statistics.median(medians):.2f} ms (runs: {', '.join(f'{m:.2f}' for m in medians)})")  # fmt: skip


def throughput(device: str, batch_size: int) -> list[float]:
    cfg = TrainConfig()
    net = build_model(ModelConfig(num_classes=251)).to(device).train()
    opt = make_optimizer(net, cfg)
    x, hands, mask, groups, pos = inputs(batch_size, device)
    y = torch.nn.functional.one_hot(torch.randint(0, 251, (batch_size,), device=device), 251).float()
    use_amp = device == "cuda"
    rates = []
    for run in range(args.runs):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(args.train_steps):
            with torch.autocast(device, dtype=torch.bfloat16, enabled=use_amp):
                out = net(x, hands, mask, groups, pos)
            loss, _ = training_loss(out, y, cfg)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if device == "cuda":
            torch.cuda.synchronize()
        if run:  # the first run warms up
            rates.append(batch_size * args.train_steps / (time.perf_counter() - t0))
    return rates


torch.set_num_threads(2)
rates = throughput("cpu", 64)
print(f"training, default config, batch 64, CPU (2 threads): median {statistics.median(rates):.0f} samples/s")
if torch.cuda.is_available():
    for bs in (64, 256):
        rates = throughput("cuda", bs)
        print(f"training, default config, batch {bs}, {torch.cuda.get_device_name(0)} (bf16 autocast): "
              f"median {statistics.median(rates):.0f} samples/s")  # fmt: skip
else:
    print("training on CUDA: no GPU here")
