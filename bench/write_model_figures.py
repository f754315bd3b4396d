"""Write what the benches measured into a bundled model's description, where the app reads it (the Home
page's "What a new signer can expect", the list of signs' people per sign).

* metrics.new_signers: protocol C (new webcam users: top-1 per sign, mean over hello, thankyou, no,
  yes, please, with the bank, as the app recognises), protocol B (hello and thankyou of new Kaggle
  signers, mean over 5 folds, with the bank), protocol A (signs learned from one studio clip; the
  network: the bank shipped holds none of the studio clips) and the words outside the vocabulary
  turned away (protocol B, at each fold's threshold with the bank); each with how it was measured.
* training.people_per_sign: per sign, how many people of which data folder it was learned from (the
  recipe's own training split), for a model trained before the training loop stored it.

Only the description changes: the weights, and so the bank that belongs to them, stay as they are.

Usage: python bench/write_model_figures.py --model models/asl250-webcam --a A.json --b B.json [--b ...] --c C.json
  (the --json files of bench_cross_signer.py --parts a / b / c)
"""

import argparse
import json
from pathlib import Path

import numpy as np
from common import REPO

parser = argparse.ArgumentParser()
parser.add_argument("--model", default=str(REPO / "models" / "asl250-webcam"))
parser.add_argument("--recipe", default=None, help="the model's train.yaml (default: the one in --model)")
parser.add_argument("--a", help="bench_cross_signer --parts a --json file")
parser.add_argument("--b", action="append", default=[], help="--parts b --json file(s), all folds together")
parser.add_argument("--c", help="--parts c --json file")
parser.add_argument("--network", default="conv")
parser.add_argument(
    "--name", help="the model's name as the app shows it (a bench run copied as the bundled model)"
)
args = parser.parse_args()

from slr_core.models.checkpoint import load_model, save_model  # noqa: E402
from slr_core.training.config import load_config  # noqa: E402
from slr_core.training.trainset import prepare_data  # noqa: E402

GOAL_SIGNS = ("hello", "thankyou", "no", "yes", "please")
model_dir = Path(args.model)
loaded = load_model(model_dir)
meta = json.loads(json.dumps(loaded.meta))
new = meta.setdefault("metrics", {}).setdefault("new_signers", {})

if args.c:
    c = json.loads(Path(args.c).read_text())
    key = next(k for k in c if k.startswith(f"protocol_c_{args.network}"))
    per = c[key]["per_sign"]
    signs = [s for s in GOAL_SIGNS if s in per]
    new["webcam_top1"] = float(np.mean([per[s]["bank"] for s in signs]))
    new["webcam_signs"] = ", ".join(f"{s} {per[s]['bank']:.0%} ({per[s]['people']} people)" for s in signs)
    new["webcam_how"] = (
        "Protocol C: webcam-signs' 15 webcam users in 5 folds of 3 people (each person held out once, by a model "
        "of this recipe trained on the other 12, asl-signs-subset and the studio clips), top-1 per sign with the "
        f"bank of examples, mean over {', '.join(signs)} (bench/bench_cross_signer.py --parts c)."
    )
b_rows = []
for path in args.b:
    b = json.loads(Path(path).read_text())
    b_rows += b.get("protocol_b", {}).get("folds", [])
if b_rows:
    with_bank = [r.get("bank", r) for r in b_rows]
    new["many_signers_top1"] = float(np.mean([r["in_vocab_top1"] for r in with_bank]))
    over = (f"mean over {len(b_rows)} participant folds of this recipe (each trained on the other signers, the "
            "studio clips and webcam-signs)" if len(b_rows) > 1 else
            "participant fold 0 of 5 only (this model: trained on the other 12 signers, the studio clips and "
            "webcam-signs)")  # fmt: skip
    new["many_signers_how"] = (
        f"Protocol B: hello and thankyou on the held-out signers of asl-signs-subset, {over}, 251 classes, with "
        "the bank of examples (bench/bench_cross_signer.py --parts b)."
    )
    new["oov_rejected"] = float(np.mean([r["oov_rejected"] for r in with_bank]))
    new["oov_how"] = (
        "Protocol B: 98 held-out clips of words outside the vocabulary rejected at the threshold chosen with the "
        + (f"bank, mean over {len(b_rows)} folds." if len(b_rows) > 1 else "bank, fold 0 (this model).")
    )
if args.a:
    a = json.loads(Path(args.a).read_text())["protocol_a"]["classifier"]
    new["one_clip_top1"], new["one_clip_top5"] = float(a["top1"]), float(a["top5"])
    new["one_clip_how"] = (
        f"Protocol A: this recipe trained on one studio clip per sign, tested on {a['n']} sequences of hello and "
        "thankyou by 14 signers it never saw, ranked over 250 signs, the network alone (the bank shipped holds none "
        "of the studio clips) (bench/bench_cross_signer.py --parts a)."
    )
training = meta.setdefault("training", {})
if "people_per_sign" not in training:
    cfg = load_config(args.recipe or model_dir / "train.yaml")
    data = prepare_data(cfg.data, cfg.val_data, cfg.folds, cfg.fold, cfg.unknown_val_fraction, cfg.sign_map,
                        cfg.cache_dir, 1, False, cfg.fold_data)  # fmt: skip
    training["people_per_sign"] = data.by_source
    assert training.get("signers_per_sign", data.signers) == data.signers, (
        "the recipe's split is not the model's"
    )
if args.name:
    meta["name"] = args.name
save_model(model_dir, loaded.model, meta)
print(json.dumps(new, indent=1))
