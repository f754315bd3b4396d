"""Sentence stage latency: the real flan-t5-small configuration (random weights: nothing can be
downloaded here, and speed does not depend on the values) with the real tokenizer, the real prompt
and decoding settings, for a 5-word input; median over several runs. The rule-based composer too.
Usage: python bench/bench_t5.py [--runs 7]
"""

import argparse
import statistics
import tempfile
import time

from common import SHARED

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=7)
args = parser.parse_args()
tokenizer_dir = SHARED / "models" / "flan-t5-small-tokenizer"
if not tokenizer_dir.is_dir():
    raise SystemExit(f"needs the FLAN-T5 tokenizer and config in {tokenizer_dir}")

import torch  # noqa: E402
from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration  # noqa: E402

from slr_core.language.sentence import RuleComposer, load_composer  # noqa: E402

torch.manual_seed(0)
words = ["hello", "mom", "want", "drink", "water"]
with tempfile.TemporaryDirectory() as tmp:
    T5ForConditionalGeneration(T5Config.from_pretrained(tokenizer_dir)).save_pretrained(tmp)
    AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(tmp)
    composer, why = load_composer(tmp, device="cpu")
    assert not why, why
    params = sum(p.numel() for p in composer.model.parameters())
    composer.compose(words)  # warm-up
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        composer.compose(words)
        times.append(time.perf_counter() - t0)
    # Random weights never say "end of sentence", so compose() above always runs to its limit of 40
    # new tokens: the worst case. A real sentence of this kind is about 12 tokens:
    prompt = composer.tokenizer(composer.prompt(words), return_tensors="pt")
    typical = []
    with torch.inference_mode():
        for _ in range(args.runs):
            t0 = time.perf_counter()
            composer.model.generate(
                **prompt, min_new_tokens=12, max_new_tokens=12, num_beams=1, do_sample=False
            )
            typical.append(time.perf_counter() - t0)
threads = torch.get_num_threads()
print(
    f"flan-t5-small config ({params / 1e6:.0f}M parameters, random weights), 5 keywords, CPU {threads} threads"
)
print(f"  a 12-token sentence: median {statistics.median(typical) * 1000:.0f} ms "
      f"(min {min(typical) * 1000:.0f}, max {max(typical) * 1000:.0f})")  # fmt: skip
print(f"  the 40-token limit (worst case): median {statistics.median(times) * 1000:.0f} ms "
      f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})")  # fmt: skip
rule = RuleComposer()
t = []
for _ in range(100):
    t0 = time.perf_counter()
    rule.compose(words)
    t.append(time.perf_counter() - t0)
print(f"rule-based composer: median {statistics.median(t) * 1e6:.0f} us")
