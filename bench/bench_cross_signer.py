"""Signs from people a model never saw: protocol A, protocol B, the floor, the clip path, and the
studio clips as clips (slr_core.protocols holds the protocols; this script trains and prints).

* A (one example per sign): the default recipe on the PopSign studio clips alone (plus its words
  outside the vocabulary as `_unknown`), tested on all 518 asl-signs-subset sequences (14 signers,
  hello and thankyou), ranks over the 250 signs, per signer. The signers are reported in two
  halves: design choices were made looking at the first half ("dev": 7 signers) only; the second
  half ("test": the other 7) was looked at once, at the end.
* B (the default recipe): the 5 participant-disjoint folds of asl-signs-subset, studio clips always
  in training: hello/thankyou top-1 on each fold's held-out signers, and at the model's threshold
  the held-out words outside the vocabulary rejected and the in-vocabulary clips accepted.
* The floor: nearest neighbour over the same training clips, no training, on the same sequences.
  Protocol A also prints the classifier and the floor together (rank fusion, equal weights).
* The clip path: every sequence through the streaming recogniser (what `slr predict` and the
  Upload page run), against the classifier on the whole sequence.
* The studio clips as clips (default model): each alone, three joined, and made to look like a
  phone recording (a portrait picture around the upper body, selfie-mirrored, 15 and 60 fps, no
  elbows).
* compare: the conv net and the hierarchical transformer on the same signer-independent inputs
  (--networks conv,invariant), the same recipe otherwise, each with --seeds: protocol A (all, dev
  half, test half) and protocol B's fold 0 (top-1, accepted and right, unknown words rejected, the
  clip path's agreement), the mean and spread over seeds. About 20-60 minutes a run on 2 cores.
* ablation: the transformer on the invariant inputs with a part taken away (--ablation: no-local,
  no-global, no-blocks (neither), no-aux (no auxiliary losses)), at the first of --seeds, on
  protocol A (250 signs: the protocol that separates the networks); bench/bench_ablation.py gives
  what each part costs in time and size.
* compare-b: protocol B on --folds for each of --networks at the first of --seeds (all five folds
  side by side; fold 0's spread over seeds is compare's), with the floor on each fold (parts b and
  compare-b both print it).

Models are trained into --out (and reused from there when a run finished before). Usage:
    python bench/bench_cross_signer.py [--parts a,b,floor,clips,compare,compare-b,ablation] [--folds 0,1,2,3,4] [--epochs N]
        [--networks conv,invariant] [--seeds 0,1,2]
"""

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from common import DATA, REPO, require_shared

parser = argparse.ArgumentParser()
parser.add_argument("--recipe", default=str(REPO / "models" / "asl250-webcam" / "train.yaml"))
parser.add_argument("--model", default=str(REPO / "models" / "asl250-webcam"), help="default model")
parser.add_argument("--popsign-kp", default=str(REPO / "data" / "popsign-kp"),
                    help="keypoints of popsign-reference made by slr extract")  # fmt: skip
parser.add_argument("--out", default=str(REPO / "runs" / "cross-signer"))
parser.add_argument("--parts", default="floor,a,b,clips,transformer,keys")
parser.add_argument("--folds", default="0,1,2,3,4")
parser.add_argument("--epochs", type=int, help="override the recipe's epochs (quicker, less accurate)")
parser.add_argument("--json", help="write every figure here")
parser.add_argument(
    "--networks", default="conv,invariant", help="compare part: the presets measured side by side"
)
parser.add_argument("--seeds", default="0,1,2", help="compare part: the seeds of each network's runs")
parser.add_argument("--before", default=str(REPO / "models" / "asl250-popsign-kaggle2"),
                    help="part c: the model the app had before webcam-signs, measured beside (skipped when absent)")  # fmt: skip
parser.add_argument("--ablation", default="no-local,no-global,no-blocks,no-aux",
                    help="ablation part: the transformer's variants (no-local, no-global, no-blocks, no-aux)")  # fmt: skip
args = parser.parse_args()
require_shared()

from slr_core.datasets.data import UNKNOWN_LABEL, load_dataset, participant_folds  # noqa: E402
from slr_core.models.checkpoint import load_model  # noqa: E402
from slr_core.recognition.predict import Classifier, accept  # noqa: E402
from slr_core.recognition.streaming import recognize  # noqa: E402
from slr_core.training.config import load_config  # noqa: E402
from slr_core.training.loop import train  # noqa: E402
from slr_core.training.protocols import (  # noqa: E402
    clip_path,
    fused_scores,
    held_out_word,
    live_events,
    load_sequences,
    model_probabilities,
    nearest_neighbour_scores,
    open_set,
    sign_ranks,
)
from slr_core.training.runs import CONFIG, RESUME, RunState  # noqa: E402

SUBSET = DATA / "asl-signs-subset"
subset = load_sequences(SUBSET)
studio = load_sequences(args.popsign_kp)
studio_signs = [q for q in studio if q.sign != UNKNOWN_LABEL]
labels = list(load_dataset(SUBSET).sign_map)
parts = np.array([q.participant for q in subset])
dev = participant_folds(parts, 2) == 0  # the half looked at while making design choices
figures: dict = {"subset": {"sequences": len(subset), "signers": len(set(parts.tolist()))}}
print(f"asl-signs-subset: {len(subset)} sequences, {len(set(parts.tolist()))} signers "
      f"(dev half {sorted(set(parts[dev].tolist()))}); studio clips: {len(studio_signs)} signs, "
      f"{len(studio) - len(studio_signs)} words outside the vocabulary")  # fmt: skip


def line(name: str, report, where=None) -> str:
    if where is None:
        return f"{name}: top-1 {report.top(1):.3f}  top-5 {report.top(5):.3f}  (n={len(report.ranks)})"
    return (f"{name}: top-1 {report.top(1):.3f} top-5 {report.top(5):.3f} (all {len(report.ranks)}) | "
            f"dev half {report.top(1, where):.3f} / {report.top(5, where):.3f} | test half "
            f"{report.top(1, ~where):.3f} / {report.top(5, ~where):.3f}")  # fmt: skip


def per_signer(report) -> None:
    cells = [f"{p}: {v['top1']:.2f}/{v['top5']:.2f}" for p, v in report.per("participant").items()]
    print("    per signer (top-1/top-5): " + ", ".join(cells))
    cells = [f"{s}: {v['top1']:.2f}/{v['top5']:.2f} (n={v['n']})" for s, v in report.per("sign").items()]
    print("    per sign: " + ", ".join(cells))


DONE = (RunState.FINISHED, RunState.EARLY_STOPPED)  # a run with its final model
# Protocol A trains on the studio clips alone; its bank (measured, never shipped: the studio clips may not
# be redistributed) holds the same clips.
A_DATA = {"data": [args.popsign_kp], "fold_data": [], "bank_data": [args.popsign_kp]}


def trained(name: str, overrides: dict) -> Path:
    """A model of the recipe with overrides, trained into --out/name unless it finished before; a run
    of the same config that was interrupted goes on from its last checkpoint."""
    out = Path(args.out) / name
    status = out / "status.json"
    if status.exists() and json.loads(status.read_text()).get("state") in DONE:
        print(f"  (reusing {out})")
        return out / "model"
    epochs = {"epochs": args.epochs} if args.epochs else {}
    cfg = load_config(args.recipe, dict(overrides, out=str(out), name=name, **epochs))
    resume = same_run(out, cfg)
    if out.exists() and not resume:
        import shutil

        shutil.rmtree(out)
    if resume:
        print(f"  (going on with the interrupted run in {out})")
        cfg = load_config(args.recipe, dict(overrides, out=str(out), name=name, resume=True, **epochs))
    t0 = time.time()
    result = train(cfg, progress=False)
    if result.state not in DONE:  # asked to stop: no figures from a half-trained model
        sys.exit(f"{name} stopped at epoch {result.epochs_done}; run the bench again to go on from there")
    print(f"  trained {name} in {time.time() - t0:.0f} s")
    return out / "model"


def same_run(out: Path, cfg) -> bool:
    """Whether out holds an interrupted run of this config (its resume state and the same settings)."""
    import yaml

    if not (out / RESUME).exists() or not (out / CONFIG).exists():
        return False
    try:
        saved = yaml.safe_load((out / CONFIG).read_text()) or {}
    except yaml.YAMLError:
        return False
    saved_model = saved.get("model") or {}
    if not isinstance(saved_model, dict) or "num_classes" not in saved_model:
        return False
    model = cfg.model_config(saved_model["num_classes"]).to_dict()
    resolved = dict(asdict(cfg), model=model, augment=cfg.augment_config().to_dict())
    mine = yaml.safe_load(yaml.safe_dump(resolved, sort_keys=False))
    return all(saved.get(k) == v for k, v in mine.items() if k not in ("out", "resume"))  # out: where it is


def clip_line(c) -> str:
    return (f"clip path: one event, the right sign {c.single_right:.3f}; no event {c.none:.3f}; several "
            f"{c.several:.3f}; one wrong {c.wrong:.3f} | agreement with the whole-sequence classifier where "
            f"it accepts ({c.accepted} of {c.n}): {c.agreement:.3f}")  # fmt: skip


parts_wanted = set(args.parts.split(","))
if "floor" in parts_wanted:
    print("\nThe floor: nearest neighbour over the studio clips (dominant hand, no training), 250 signs")
    rep = sign_ranks(nearest_neighbour_scores(studio_signs, labels, subset), labels, subset)
    print("  " + line("protocol A data", rep, dev))
    per_signer(rep)
    figures["floor"] = rep.to_dict()

if "a" in parts_wanted:
    print("\nProtocol A: the recipe on the studio clips alone, tested on asl-signs-subset, 250 signs")
    loaded = load_model(trained("protocol-a", A_DATA))
    pred = model_probabilities(loaded, subset)
    rep = sign_ranks(pred.probs, loaded.labels, subset)
    print("  " + line("classifier (slr eval)", rep, dev))
    per_signer(rep)
    fused = sign_ranks(
        fused_scores(pred.probs, nearest_neighbour_scores(studio_signs, loaded.labels, subset)),
        loaded.labels,
        subset,
    )
    print("  " + line("classifier + floor (rank fusion, equal weights)", fused, dev))
    per_signer(fused)
    app = Classifier(loaded)
    if app.bank is not None:  # its bank: the studio clips it trained on (measured; never shipped)
        banked = sign_ranks(model_probabilities(loaded, subset, bank=app.bank).probs, loaded.labels, subset)
        print("  " + line("classifier with a bank of the studio clips", banked, dev))
        per_signer(banked)
    c = clip_path(Classifier(loaded), subset, pred.probs)
    print("  " + clip_line(c))
    figures["protocol_a"] = {
        "classifier": rep.to_dict(),
        "with_bank": banked.to_dict() if app.bank is not None else None,
        "fused_with_floor": fused.to_dict(),
        "clip_path": c.to_dict(),
    }


def fold_row(loaded, k: int, held: list, oov: list) -> dict:
    """Protocol B on fold k's held-out signers: top-1, at the threshold accepted and rejected, the network
    alone and with its bank of examples; the clip path as the app runs it (with the bank)."""
    o = open_set(loaded, held, oov)
    app = Classifier(loaded)
    ob = open_set(loaded, held, oov, app.threshold, bank=app.bank) if app.bank is not None else o
    c = clip_path(app, held, model_probabilities(loaded, held, bank=app.bank).probs)
    signers = sorted({q.participant for q in held})
    for name, x in (("network", o), ("with the bank", ob)):
        print(f"  fold {k} (signers {signers}, {len(held)} sequences; {len(oov)} held-out words), {name}: "
              f"top-1 {x['in_vocab_top1']:.3f}; at threshold {x['threshold']:.2f}: in-vocabulary accepted "
              f"{x['in_vocab_accepted']:.3f} (and right {x['in_vocab_accepted_right']:.3f}), outside the "
              f"vocabulary rejected {x['oov_rejected']:.3f}")  # fmt: skip
    print("    " + clip_line(c))
    return dict(o, fold=k, signers=signers, clip_path=c.to_dict(), bank=ob)


def fold_mean(rows: list[dict]) -> dict:
    keys = ("in_vocab_top1", "in_vocab_accepted", "in_vocab_accepted_right", "oov_rejected")
    mean = {key: float(np.mean([r[key] for r in rows])) for key in keys}
    mean.update({f"bank {key}": float(np.mean([r["bank"][key] for r in rows])) for key in keys})
    mean["clip_single_right"] = float(np.mean([r["clip_path"]["single_right"] for r in rows]))
    mean["clip_agreement"] = float(np.mean([r["clip_path"]["agreement"] for r in rows]))
    print(
        f"  mean over folds {[r['fold'] for r in rows]}: "
        + ", ".join(f"{k} {v:.3f}" for k, v in mean.items())
    )
    return mean


def run_tag(network: str, seed: int) -> str:
    """The run's name after protocol-a / protocol-b-foldK: none for the recipe's own runs (conv, seed 0)."""
    return "" if network == "conv" and seed == 0 else f"-{network}-seed{seed}"


if "b" in parts_wanted or "compare-b" in parts_wanted:
    cfg = load_config(args.recipe)
    folds = participant_folds(parts, cfg.folds)
    oov = [q for q in studio if q.sign == UNKNOWN_LABEL and held_out_word(q.word, cfg.unknown_val_fraction)]
    runs = [("conv", 0, {})] if "b" in parts_wanted else []  # part b: the recipe as it is
    seed = int(args.seeds.split(",")[0])
    if "compare-b" in parts_wanted:
        runs += [(n, seed, {"preset": n, "seed": seed}) for n in args.networks.split(",")]
    print(
        "\nProtocol B, the floor: nearest neighbour over the fold's training clips (the studio clips and the"
    )
    print("other folds' signers), no training, 250 signs")
    floor_rows = []
    for k in (int(f) for f in args.folds.split(",")):
        held = [q for q, f in zip(subset, folds) if f == k]
        refs = studio_signs + [q for q, f in zip(subset, folds) if f != k]
        rep = sign_ranks(nearest_neighbour_scores(refs, labels, held), labels, held)
        floor_rows.append({"fold": k, "top1": rep.top(1), "top5": rep.top(5)})
        print(f"  fold {k}: top-1 {rep.top(1):.3f}, top-5 {rep.top(5):.3f}")
    print(f"  mean over folds: top-1 {np.mean([r['top1'] for r in floor_rows]):.3f}")
    figures["protocol_b_floor"] = floor_rows
    for network, seed, overrides in runs:
        print(
            f"\nProtocol B, {network} (seed {seed}): participant folds of asl-signs-subset (studio clips always in)"
        )
        rows = []
        for k in (int(f) for f in args.folds.split(",")):
            name = f"protocol-b-fold{k}{run_tag(network, seed)}"
            loaded = load_model(trained(name, dict(overrides, fold=k)))
            rows.append(fold_row(loaded, k, [q for q, f in zip(subset, folds) if f == k], oov))
        mean = fold_mean(rows)
        key = f"protocol_b_{network}_seed{seed}" if overrides else "protocol_b"
        figures[key] = {"folds": rows, "mean": mean}

WEBCAM_SIGNS_MIN_PEOPLE = 3  # protocol C reports per sign for the signs of at least this many people
GOAL_SIGNS = ("hello", "thankyou", "no", "yes", "please")


def protocol_c_rows(loaded, held: list, oov: list, refs: list, before) -> list[dict]:
    """Each held-out webcam sequence: what the model answers (without and with its bank), the floor,
    the model from before, and the signs the clip path and the live replay give (with the bank: the app)."""
    plain = model_probabilities(loaded, held).probs
    bank = Classifier(loaded).bank
    banked = model_probabilities(loaded, held, bank=bank).probs if bank is not None else plain
    floor = nearest_neighbour_scores(refs, loaded.labels, held)
    old = model_probabilities(before, held).probs if before is not None else None
    app = Classifier(loaded)
    best, _, ok = accept(banked, loaded.labels, app.threshold)
    rows = []
    for n, q in enumerate(held):
        rows.append({
            "sign": q.sign, "person": q.participant,
            "network": loaded.labels[int(plain[n].argmax())],
            "bank": loaded.labels[int(banked[n].argmax())],
            "accepted": loaded.labels[int(best[n])] if ok[n] else None,
            "floor": loaded.labels[int(floor[n].argmax())],
            "before": before.labels[int(old[n].argmax())] if old is not None else None,
            "clip": [e.label for e in recognize((q.data, q.times), app)],
            "live": live_events(app, q),
        })  # fmt: skip
    return rows


def c_summary(rows: list[dict], signs: list[str]) -> dict:
    """Per sign: top-1 of each answer, one event and right through the clip path and live, and the
    live replay's agreement with the whole-sequence answer where that is accepted."""
    out = {}
    for sign in signs:
        mine = [r for r in rows if r["sign"] == sign]
        if not mine:
            continue
        acc = [r for r in mine if r["accepted"] is not None]
        out[sign] = {
            "people": len({r["person"] for r in mine}), "n": len(mine),
            **{k: float(np.mean([r[k] == sign for r in mine])) for k in ("before", "floor", "network", "bank")},
            "accepted_right": float(np.mean([r["accepted"] == sign for r in mine])),
            "clip_one_right": float(np.mean([r["clip"] == [sign] for r in mine])),
            "live_one_right": float(np.mean([r["live"] == [sign] for r in mine])),
            "live_agreement": float(np.mean([r["live"] == [r["accepted"]] for r in acc])) if acc else float("nan"),
        }  # fmt: skip
    return out


C_COLUMNS = ("before", "floor", "network", "bank", "accepted_right", "clip_one_right", "live_one_right",
             "live_agreement")  # fmt: skip


def c_table(summary: dict, title: str) -> None:
    print(f"  {title}")
    print("    sign (people, sequences): " + " / ".join(C_COLUMNS))
    for sign, v in summary.items():
        print(f"    {sign} ({v['people']}, {v['n']}): " + " / ".join(f"{v[k]:.3f}" for k in C_COLUMNS))
    goal = [summary[s] for s in GOAL_SIGNS if s in summary]
    if goal:
        print(
            f"    mean over {', '.join(s for s in GOAL_SIGNS if s in summary)}: "
            + " / ".join(f"{np.nanmean([v[k] for v in goal]):.3f}" for k in C_COLUMNS)
        )
        print("    lowest of them: " + " / ".join(f"{min(v[k] for v in goal):.3f}" for k in C_COLUMNS))


if "c" in parts_wanted:
    WEBCAM = DATA / "webcam-signs"
    webcam = load_sequences(WEBCAM)
    w_parts = np.array([q.participant for q in webcam])
    w_folds = participant_folds(w_parts, 5, signs=np.array([q.sign for q in webcam]))
    cfg = load_config(args.recipe)
    oov = [q for q in studio if q.sign == UNKNOWN_LABEL and held_out_word(q.word, cfg.unknown_val_fraction)]
    before = load_model(args.before) if Path(args.before).is_dir() else None
    seed = int(args.seeds.split(",")[0])
    print(f"\nProtocol C: new webcam users. webcam-signs ({len(webcam)} sequences, "
          f"{len(set(w_parts.tolist()))} people) in 5 folds of people spread by sign; asl-signs-subset "
          f"and the studio clips always in training; seed {seed}")  # fmt: skip
    for network in args.networks.split(","):
        over = {"fold_data": [str(WEBCAM)], "preset": network, "seed": seed}
        rows, opens = [], []
        for k in (int(f) for f in args.folds.split(",")):
            held = [q for q, f in zip(webcam, w_folds) if f == k]
            refs = studio_signs + subset + [q for q, f in zip(webcam, w_folds) if f != k]
            loaded = load_model(trained(f"protocol-c-fold{k}{run_tag(network, seed)}", dict(over, fold=k)))
            fold_rows = protocol_c_rows(loaded, held, oov, refs, before)
            rows += fold_rows
            app = Classifier(loaded)
            o = open_set(loaded, held, oov)
            ob = open_set(loaded, held, oov, app.threshold, bank=app.bank)
            opens.append({"fold": k, "network": o, "bank": ob})
            people = sorted({q.participant for q in held})
            print(f"  fold {k} (people {people}, {len(held)} sequences): top-1 network "
                  f"{np.mean([r['network'] == r['sign'] for r in fold_rows]):.3f}, with the bank "
                  f"{np.mean([r['bank'] == r['sign'] for r in fold_rows]):.3f}, floor "
                  f"{np.mean([r['floor'] == r['sign'] for r in fold_rows]):.3f}"
                  + (f", before {np.mean([r['before'] == r['sign'] for r in fold_rows]):.3f}" if before else "")
                  + f" | at the threshold (network {o['threshold']:.2f} / bank {ob['threshold']:.2f}): accepted "
                  f"{o['in_vocab_accepted']:.3f} / {ob['in_vocab_accepted']:.3f}, unknown words rejected "
                  f"{o.get('oov_rejected', np.nan):.3f} / {ob.get('oov_rejected', np.nan):.3f}")  # fmt: skip
        signs = sorted({r["sign"] for r in rows})
        people = {s: len({r["person"] for r in rows if r["sign"] == s}) for s in signs}
        summary = c_summary(rows, signs)
        print(f"\n  {network}: pooled over the folds (each person held out once); before = {args.before}")
        c_table(
            {s: v for s, v in summary.items() if people[s] >= WEBCAM_SIGNS_MIN_PEOPLE},
            f"signs of at least {WEBCAM_SIGNS_MIN_PEOPLE} people",
        )
        c_table(
            {s: v for s, v in summary.items() if people[s] < WEBCAM_SIGNS_MIN_PEOPLE},
            "signs of fewer people (1-2: held out, their sign has no other webcam user to learn from)",
        )
        all_rows = {
            k: float(np.mean([r[k] == r["sign"] for r in rows]))
            for k in ("before", "floor", "network", "bank")
        }
        mean_open = {w: {key: float(np.mean([x[w].get(key, np.nan) for x in opens])) for key in ("in_vocab_accepted", "in_vocab_accepted_right", "oov_rejected")}
                     for w in ("network", "bank")}  # fmt: skip
        print(
            f"  every held-out sequence ({len(rows)}): top-1 "
            + ", ".join(f"{k} {v:.3f}" for k, v in all_rows.items())
        )
        for w in ("network", "bank"):
            m = mean_open[w]
            print(f"  at the threshold, {w}: in-vocabulary accepted {m['in_vocab_accepted']:.3f} (and right "
                  f"{m['in_vocab_accepted_right']:.3f}), {len(oov)} held-out words outside the vocabulary rejected "
                  f"{m['oov_rejected']:.3f} (mean over folds)")  # fmt: skip
        figures[f"protocol_c_{network}_seed{seed}"] = {"per_sign": summary, "all": all_rows, "open_set": opens,
                                                       "mean_open_set": mean_open}  # fmt: skip

if "transformer" in parts_wanted:
    print("\nProtocol A with the transformer that reads every point (small preset, same recipe otherwise)")
    t_over = dict(A_DATA, preset="small", model={"drop": 0.1})
    tf = load_model(trained("protocol-a-transformer", t_over))
    pred = model_probabilities(tf, subset)
    rep = sign_ranks(pred.probs, tf.labels, subset)
    print("  " + line("transformer (slr eval)", rep, dev))
    per_signer(rep)
    figures["protocol_a_transformer"] = rep.to_dict()

if "keys" in parts_wanted:
    from slr_core.training.protocols import input_reliance

    print(
        "\nWhat the models key on: the share of first answers that change when a part of the input is taken away"
    )
    for name in ("protocol-a", "protocol-a-transformer"):
        folder = Path(args.out) / name / "model"
        if not folder.exists():
            continue
        m = load_model(folder)
        new = input_reliance(m, subset)
        own = input_reliance(m, [q for q in studio_signs])
        print(f"  {name}: new signers " + ", ".join(f"{k} {v:.2f}" for k, v in new.items())
              + " | its own studio clips " + ", ".join(f"{k} {v:.2f}" for k, v in own.items()))  # fmt: skip
        figures.setdefault("keys", {})[name] = {"new_signers": new, "studio_clips": own}

if "clips" in parts_wanted:
    from slr_core.training.protocols import studio_clip_checks

    print(f"\nThe studio clips as clips, default model {args.model}")
    loaded = load_model(args.model)
    checks = studio_clip_checks(Classifier(loaded), studio_signs, np.random.default_rng(0))
    for name, value in checks.items():
        print(f"  {name}: {value}")
    figures["studio_clips"] = checks


# The transformer with a part taken away (the ablation part): its overrides of the recipe.
ABLATIONS = {
    "no-local": {"model": {"local_blocks": 0}},
    "no-global": {"model": {"global_blocks": 0}},
    "no-blocks": {"model": {"local_blocks": 0, "global_blocks": 0}},
    "no-aux": {"aux_weight": 0.0},
}


def compared(network: str, seed: int, oov: list, held: list, variant: str = "", fold0: bool = True) -> dict:
    """One network and seed (and ablation variant): protocol A on every subset sequence, and unless
    fold0 is False protocol B's fold 0."""
    tag = run_tag(network, seed) + (f"-{variant}" if variant else "")
    extra = dict(ABLATIONS[variant]) if variant else {}
    if "model" in extra:  # on top of the recipe's model settings, not instead of them
        extra["model"] = {**load_config(args.recipe).model, **extra["model"]}
    over = dict(extra, preset=network, seed=seed)
    a = load_model(trained(f"protocol-a{tag}", dict(over, **A_DATA)))
    rep = sign_ranks(model_probabilities(a, subset).probs, a.labels, subset)
    row = {"network": network + (f" {variant}" if variant else ""), "seed": seed, "A top-1": rep.top(1),
           "A top-5": rep.top(5), "A dev top-1": rep.top(1, dev), "A test top-1": rep.top(1, ~dev)}  # fmt: skip
    if not fold0:
        return row
    b = load_model(trained(f"protocol-b-fold0{tag}", dict(over, fold=0)))
    o = open_set(b, held, oov)
    c = clip_path(Classifier(b), held, model_probabilities(b, held).probs)
    return dict(row, **{"B0 top-1": o["in_vocab_top1"], "B0 accepted right": o["in_vocab_accepted_right"],
                        "B0 unknown rejected": o["oov_rejected"], "B0 clip agreement": c.agreement,
                        "B0 clip one right": c.single_right})  # fmt: skip


def row_line(row: dict) -> str:
    return ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())


if "compare" in parts_wanted or "ablation" in parts_wanted:
    cfg = load_config(args.recipe)
    oov = [q for q in studio if q.sign == UNKNOWN_LABEL and held_out_word(q.word, cfg.unknown_val_fraction)]
    held = [q for q, f in zip(subset, participant_folds(parts, cfg.folds)) if f == 0]

if "compare" in parts_wanted:
    print(f"\nThe conv net and the transformer on the same inputs ({args.networks}), seeds {args.seeds}")
    rows = []
    for network in args.networks.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            rows.append(compared(network, seed, oov, held))
            print("  " + row_line(rows[-1]))
    for network in args.networks.split(","):
        mine = [r for r in rows if r["network"] == network]
        cells = [f"{k} {np.mean([r[k] for r in mine]):.3f} ± {np.ptp([r[k] for r in mine]) / 2:.3f}"
                 for k in mine[0] if k not in ("network", "seed")]  # fmt: skip
        print(f"  {network}, mean ± half the range over {len(mine)} seed(s): " + ", ".join(cells))
    figures["compare"] = rows

if "ablation" in parts_wanted:
    seed = int(args.seeds.split(",")[0])
    print(f"\nThe transformer (invariant) with a part taken away, seed {seed}, protocol A: {args.ablation}")
    rows = [compared("invariant", seed, oov, held, v, fold0=False) for v in args.ablation.split(",")]
    for row in rows:
        print("  " + row_line(row))
    figures["ablation"] = rows

if args.json:
    Path(args.json).write_text(json.dumps(figures, indent=1, default=str))
    print(f"\nfigures written to {args.json}")
