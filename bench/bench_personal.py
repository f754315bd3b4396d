"""Personal signs: what a few of one's own examples buy, and what they cost.

On asl-signs-subset (14 signers, 15-21 repetitions each of hello and thankyou), signer by signer:

* existing signs: k = 1, 3, 5 of the signer's own repetitions of each sign go into a library; the
  signer's other repetitions are recognised by the base model plus the library (250 signs + the
  library's words), against the base model alone. The base is the protocol-A model (studio clips
  only: every one of these signers is new to it) unless --model is given;
* new words: a base model that never saw hello or thankyou (trained here on the studio clips
  without them), the two enrolled as new words from k of one signer's clips; tested on that
  signer's other clips and on every other signer's;
* the cost: how often a library (k = 3, both words) takes over studio clips of the 245 other signs
  and words outside the vocabulary, and the time to add an example and to recognise a window;
  and, closer to home, how often a library of one word (k = 3 of hello, or of thankyou) takes the
  same signer's other sign, which looks much like it (a flat hand moving away from the face);
* false takes (--parts falsetake): a word of its own name taught from k webcam users' clips of one
  sign (webcam-signs: hello, thankyou, no, yes, please; k = 1, 3, one clip per person, as a person
  teaching "coffee" from clips of other people), tried on every clip of every other sign (webcam-signs,
  asl-signs-subset, the studio clips): how often the word takes them, with the rule that a personal
  match gives way to a sign the model is sure of (70%) for every match, and with the older rule (near
  misses only); and how often the word takes the same people's other clips of its sign (the person's
  own word);
* fine-tuning (--parts finetune): the base model fine-tuned to each signer's library (k = 3) with the
  studio clips as replay (`slr signs finetune`), for existing signs and new words, the library on
  top as in the app; tested on the signer's other clips and on every other signer's. The words
  outside the vocabulary that the protocol-A model held out are kept out of the replay too, so what
  they say of the cost is measured on clips no model trained on.

Every library figure comes with the same library's figure without the movement check (the arms'
paths, `trajectory`; `PersonalClassifier(movement=False)`), on the same clips.

Usage: python bench/bench_personal.py [--model DIR] [--k 1,3,5] [--seed 0] [--parts existing,new,cost,finetune,falsetake]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from common import DATA, REPO, require_shared

parser = argparse.ArgumentParser()
parser.add_argument("--model", help="base model (default: the protocol-A model of bench_cross_signer.py)")
parser.add_argument("--popsign-kp", default=str(REPO / "data" / "popsign-kp"))
parser.add_argument("--runs", default=str(REPO / "runs" / "cross-signer"), help="where bench models live")
parser.add_argument("--k", default="1,3,5")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--parts", default="existing,new,cost,finetune")
parser.add_argument("--finetune-k", type=int, default=3)
parser.add_argument("--write", help="write the figures the Home page shows to this JSON file, beside the model "
                    "whose recipe they measure (models/asl250-popsign-kaggle2/personal.json); figures of parts not "
                    "run are kept")  # fmt: skip
parser.add_argument("--model-sure", type=float, default=None,
                    help="existing part: the library's near misses give way to the model from this probability "
                    "(default: matcher.MODEL_SURE)")  # fmt: skip
parser.add_argument(
    "--override-every", type=int, default=5, help="override part: every n-th studio sign is taught"
)
args = parser.parse_args()
require_shared()

from slr_core.datasets.data import UNKNOWN_LABEL  # noqa: E402
from slr_core.models.checkpoint import load_model  # noqa: E402
from slr_core.recognition.library import Library  # noqa: E402
from slr_core.recognition.matcher import PersonalClassifier  # noqa: E402
from slr_core.recognition.predict import Classifier  # noqa: E402
from slr_core.training.config import load_config  # noqa: E402
from slr_core.training.finetune import finetune, replay_sequences  # noqa: E402
from slr_core.training.loop import train  # noqa: E402
from slr_core.training.protocols import load_sequences  # noqa: E402
from slr_core.training.trainset import _hash_fraction  # noqa: E402

SIGNS = ("hello", "thankyou")
shown: dict = {}  # figures for --write
FULL = 15  # frames with a hand
subset = load_sequences(DATA / "asl-signs-subset")
studio = load_sequences(args.popsign_kp)
signers = sorted({q.participant for q in subset})
ks = [int(k) for k in args.k.split(",")]
rng = np.random.default_rng(args.seed)
order = {p: {s: rng.permutation([i for i, q in enumerate(subset) if q.participant == p and q.sign == s])
             for s in SIGNS} for p in signers}  # fmt: skip


def test_clips(p: int, words=SIGNS) -> list:
    """Signer p's repetitions of the words from the (max k + 1)-th on: the same test clips for every k."""
    return [subset[i] for s in words for i in order[p][s][max(ks) :]]


def library_of(folder: Path, p: int, k: int, words=SIGNS, prefix: str = "") -> Library:
    """Signer p's first k repetitions of each sign, under the sign's name (after `prefix`). Each example's
    id (from which its altered copies are drawn) is named after the sequence, so runs repeat."""
    lib = Library.open(folder)
    for s in words:
        for i in order[p][s][:k]:
            lib.add(prefix + s, subset[i].data, subset[i].times, source=f"{p}").id = f"{p}-{i}"
    lib.save()
    return lib


NEW = "my-"  # the names the fine-tuning bench gives new words, so that the model has no output for them


def right(classifier, seqs) -> float:
    hits = [
        (g := classifier.guess(q.data, q.times)) is not None
        and g.accepted
        and g.label.removeprefix(NEW) == q.sign
        for q in seqs
    ]
    return float(np.mean(hits)) if hits else float("nan")


def base_model(name: str, data_dir: str) -> Path:
    out = Path(args.runs) / name
    if (out / "model" / "model.safetensors").exists() and (out / "status.json").read_text().count("finished"):
        return out / "model"
    recipe = REPO / "models" / "asl250-popsign-kaggle2" / "train.yaml"
    cfg = load_config(recipe, {"data": [data_dir], "out": str(out), "name": name, "resume": False})
    train(cfg, progress=False)
    return out / "model"


def studio_without(signs, held_out_words: bool = False) -> Path:
    """A dataset of the studio clips without some signs (and, if asked, without the words outside the
    vocabulary that training holds out): a train.csv pointing at the same keypoint files."""
    import pandas as pd

    src = Path(args.popsign_kp)
    table = pd.read_csv(src / "train.csv")
    drop = table["sign"].isin(signs)
    if held_out_words:
        drop |= (table["sign"] == UNKNOWN_LABEL) & np.array(
            [_hash_fraction(str(w)) < 0.5 for w in table["word"]]
        )
    folder = Path(args.runs) / (
        "popsign-kp-without-" + "-".join([*signs, *["held-out-words"][:held_out_words]])
    )
    folder.mkdir(parents=True, exist_ok=True)
    kept = table[~drop].assign(path=lambda t: [str((src / x).resolve()) for x in t["path"]])
    kept.to_csv(folder / "train.csv", index=False)
    (folder / "sign_to_prediction_index_map.json").write_text(
        (src / "sign_to_prediction_index_map.json").read_text()
    )
    return folder


parts = set(args.parts.split(","))
model_path = Path(args.model) if args.model else base_model("protocol-a", args.popsign_kp)
loaded = load_model(model_path)
base = Classifier(loaded)
print(f"base model {loaded.name} ({model_path}); {len(signers)} signers")

if "existing" in parts:
    print("\nExisting signs: k of a signer's own repetitions enrolled, tested on the signer's other ones")
    rows = {k: [] for k in ks}
    held = {k: [] for k in ks}  # test clips with a hand in at least FULL frames
    still = {k: [] for k in ks}  # without the movement check (the embedding alone)
    never_yield = {k: [] for k in ks}  # a near miss confirmed by its movement never gives way to the model
    alone, n_full = [], 0
    for p in signers:
        test = test_clips(p)
        full = [q for q in test if q.hand_frames >= FULL]
        n_full += len(full)
        for k in ks:
            with tempfile.TemporaryDirectory() as tmp:
                lib = library_of(Path(tmp), p, k)
                pc = PersonalClassifier(
                    loaded, lib, **({"model_sure": args.model_sure} if args.model_sure else {})
                )
                rows[k].append(right(pc, test))
                held[k].append(right(pc, full))
                still[k].append(right(PersonalClassifier(loaded, lib, movement=False), test))
                never_yield[k].append(right(PersonalClassifier(loaded, lib, model_sure=None), test))
        alone.append(right(base, test))
    print(f"  base model alone: {np.mean(alone):.3f} (worst signer {np.min(alone):.3f})")
    for k, name in ((3, "library"), (1, "one_example")):
        if k in rows:
            shown[name] = float(np.mean(rows[k]))
    for k in ks:
        r = np.array(rows[k])
        print(f"  k={k}: {r.mean():.3f} (worst signer {r.min():.3f}); per signer "
              + ", ".join(f"{p}: {v:.2f}" for p, v in zip(signers, r))
              + f"; without the movement check {np.mean(still[k]):.3f} (worst {np.min(still[k]):.3f}); "
              f"near misses never giving way to the model {np.mean(never_yield[k]):.3f} (worst {np.min(never_yield[k]):.3f})")  # fmt: skip
    print(f"  only the test clips with a hand in {FULL}+ frames (a one-second sign on a camera at 15+ fps; "
          f"{n_full} of them): " + ", ".join(f"k={k} {np.nanmean(held[k]):.3f} (worst {np.nanmin(held[k]):.3f})" for k in ks))  # fmt: skip

if "new" in parts:
    print("\nNew words: a base model that never saw hello or thankyou; the two enrolled from one signer")
    unseen = load_model(base_model("never-saw-hello-thankyou", str(studio_without(SIGNS))))
    for k in ks:
        same, others, still_same = [], [], []
        for p in signers:
            with tempfile.TemporaryDirectory() as tmp:
                lib = library_of(Path(tmp), p, k)
                pc = PersonalClassifier(unseen, lib)
                test = test_clips(p)
                same.append(right(pc, test))
                others.append(right(pc, [q for q in subset if q.participant != p]))
                still_same.append(right(PersonalClassifier(unseen, lib, movement=False), test))
        print(f"  k={k}: the signer's other clips {np.mean(same):.3f} (worst {np.min(same):.3f}); other signers' "
              f"clips {np.mean(others):.3f}; without the movement check {np.mean(still_same):.3f} "
              f"(worst {np.min(still_same):.3f})")  # fmt: skip


def timed(classifier, clips, ms: list) -> list:
    """Each clip's guess, in order; the time of each (ms) appended to `ms`."""
    out = []
    for q in clips:
        t0 = time.perf_counter()
        out.append(classifier.guess(q.data, q.times))
        ms.append((time.perf_counter() - t0) * 1000)
    return out


def personal_share(guesses) -> float:
    """The share of guesses that are a word of the library."""
    return float(np.mean([g is not None and g.personal for g in guesses]))


def one_word(p: int, word: str, movement: bool) -> tuple[float, float, float]:
    """Signer p's library of one word (k = 3): the share of the signer's other repetitions of it
    recognised, of the other sign's answered with it, and of the other sign's still right."""
    other = next(s for s in SIGNS if s != word)
    with tempfile.TemporaryDirectory() as tmp:
        pc = PersonalClassifier(loaded, library_of(Path(tmp), p, 3, words=(word,)), movement=movement)
        own = right(pc, test_clips(p, (word,)))
        guesses = [pc.guess(q.data, q.times) for q in test_clips(p, (other,))]
    kept = np.mean([g is not None and g.accepted and g.label == other for g in guesses])
    return own, personal_share(guesses), float(kept)


if "cost" in parts:
    print("\nThe cost of a library (k=3 of both words, each signer's own)")
    in_vocab = [q for q in studio if q.sign not in (*SIGNS, UNKNOWN_LABEL)]
    oov = [q for q in studio if q.sign == UNKNOWN_LABEL]
    before = [base.guess(q.data, q.times) for q in in_vocab]
    before_oov = [base.guess(q.data, q.times) for q in oov]
    stolen, oov_taken, add_ms, guess_ms, still_ms = [], [], [], [], []
    stolen_still, oov_still = [], []  # without the movement check
    for p in signers:
        with tempfile.TemporaryDirectory() as tmp:
            lib = Library.open(Path(tmp))
            pc = PersonalClassifier(loaded, lib)
            for s in SIGNS:
                for i in order[p][s][:3]:
                    t0 = time.perf_counter()
                    lib.add(s, subset[i].data, subset[i].times).id = f"{p}-{i}"  # as library_of
                    pc.refresh()
                    add_ms.append((time.perf_counter() - t0) * 1000)
            for movement, ms, stolen_by, oov_by in ((True, guess_ms, stolen, oov_taken),
                                                    (False, still_ms, stolen_still, oov_still)):  # fmt: skip
                pc.movement = movement  # the same windows, with and without the movement check
                stolen_by.append(personal_share(timed(pc, in_vocab, ms)))
                oov_by.append(personal_share([pc.guess(q.data, q.times) for q in oov]))
    base_right = np.mean(
        [b is not None and b.accepted and b.label == q.sign for b, q in zip(before, in_vocab)]
    )
    base_oov_rejected = np.mean([b is None or not b.accepted for b in before_oov])
    similar = {m: np.array([one_word(p, w, m) for p in signers for w in SIGNS]) for m in (True, False)}
    base_kept = np.mean([right(base, test_clips(p)) for p in signers])
    print(f"  studio clips of the other {len(in_vocab)} signs answered with a library word: {np.mean(stolen):.3f} "
          f"(worst signer's library {np.max(stolen):.3f}; without the movement check {np.mean(stolen_still):.3f}); "
          f"the base model gets {base_right:.3f} of them right")  # fmt: skip
    print(f"  words outside the vocabulary ({len(oov)}) taken for a library word: {np.mean(oov_taken):.3f} "
          f"(without the movement check {np.mean(oov_still):.3f}; the base model rejects {base_oov_rejected:.3f} of them)")  # fmt: skip
    for m, name in ((True, "with the movement check"), (False, "without it")):
        own, taken, kept = similar[m].mean(0)
        print(f"  a library of one word (k=3 of hello, or of thankyou), {name}: the signer's other repetitions "
              f"of it {own:.3f}; the signer's other sign answered with it {taken:.3f} (worst signer and word "
              f"{similar[m][:, 1].max():.3f}), still right {kept:.3f} (base model alone {base_kept:.3f})")  # fmt: skip
    t_base: list[float] = []
    timed(base, in_vocab, t_base)  # the same windows as with the library
    print(f"  adding an example (after its keypoints): median {np.median(add_ms):.1f} ms; recognising a window: "
          f"median {np.median(guess_ms):.2f} ms with a library of 6 examples ({np.median(still_ms):.2f} ms without "
          f"the movement check), {np.median(t_base):.2f} ms without a library; 90th percentile "
          f"{np.percentile(guess_ms, 90):.2f} / {np.percentile(still_ms, 90):.2f} / {np.percentile(t_base, 90):.2f} ms")  # fmt: skip


if "override" in parts:
    print(
        '\nA word taught from one studio clip (as a person teaching "fruit" from an apple clip): how often it'
    )
    print(
        "takes the studio clips of other signs that the model alone gets right, by how sure the model must be"
    )
    in_vocab = [q for q in studio if q.sign not in (*SIGNS, UNKNOWN_LABEL)]
    model_says = [base.guess(q.data, q.times) for q in in_vocab]
    right_alone = [
        (q, g) for q, g in zip(in_vocab, model_says) if g is not None and g.accepted and g.label == q.sign
    ]
    taught = in_vocab[:: args.override_every]
    for sure in (None, 0.9, 0.7, 0.5, 0.3):
        taken, sure_taken = [], []
        for w in taught:
            with tempfile.TemporaryDirectory() as tmp:
                lib = Library.open(Path(tmp))
                lib.add(NEW + w.sign, w.data, w.times, source="studio").id = f"studio-{w.sign}"
                pc = PersonalClassifier(loaded, lib, model_sure=sure)
                guesses = [(pc.guess(q.data, q.times), g) for q, g in right_alone if q is not w]
            taken.append(np.mean([x is not None and x.personal for x, _ in guesses]))
            sure_taken.append(
                np.mean([x is not None and x.personal for x, g in guesses if g.probability >= 0.9])
            )
        name = "never" if sure is None else f"at {sure:.0%} or more"
        print(f"  the model's answer wins over a near miss {name}: {np.mean(taken):.4f} of the {len(right_alone)} clips "
              f"the model gets right taken (the model 90%+ sure: {np.nanmean(sure_taken):.4f}; worst word "
              f"{np.max(taken):.3f}; {len(taught)} words taught)")  # fmt: skip


class NearMissesOnly(PersonalClassifier):
    """The older rule: only a near miss confirmed by its movement gives way to a sign the model is sure of."""

    def gives_way(self, m, model) -> bool:
        return bool(m.movement and m.similarity < m.threshold and super().gives_way(m, model))


if "falsetake" in parts:
    webcam = load_sequences(DATA / "webcam-signs")
    studio_signs = [q for q in studio if q.sign != UNKNOWN_LABEL]
    print(f"\nFalse takes: a word taught from k webcam users' clips of one sign, tried on every clip of every other "
          f"sign (webcam-signs {len(webcam)}, asl-signs-subset {len(subset)}, studio clips {len(studio_signs)}); "
          f"base {loaded.name}")  # fmt: skip
    pool = webcam + subset + studio_signs
    alone = {id(q): base.guess(q.data, q.times) for q in pool}
    sure = {id(q) for q in pool if (g := alone[id(q)]) is not None and g.accepted and g.probability >= 0.7}
    table = []
    for sign in ("hello", "thankyou", "no", "yes", "please"):
        people = sorted({q.participant for q in webcam if q.sign == sign})
        clips = {p: [q for q in webcam if q.sign == sign and q.participant == p] for p in people}
        for k in (1, 3):
            taught = [people[i] for i in np.random.default_rng(args.seed).permutation(len(people))[:k]]
            others = [q for q in pool if q.sign != sign]
            own = [q for p in taught for q in clips[p][1:]]  # the same people's other clips of the sign
            row = {"sign": sign, "k": k, "people": taught, "tried": len(others)}
            with tempfile.TemporaryDirectory() as tmp:
                lib = Library.open(Path(tmp))
                for p in taught:
                    q = clips[p][0]
                    lib.add(NEW + sign, q.data, q.times, source=str(p)).id = f"{p}-{sign}"
                for name, cls in (
                    ("every match gives way", PersonalClassifier),
                    ("near misses only", NearMissesOnly),
                ):
                    pc = cls(loaded, lib)
                    got = [pc.guess(q.data, q.times) for q in others]
                    taken = [g is not None and g.personal for g in got]
                    row[name] = float(np.mean(taken))
                    row[name + ", model sure"] = float(
                        np.mean([t for t, q in zip(taken, others) if id(q) in sure])
                    )
                    row[name + ", own"] = right(pc, own) if own else float("nan")
            table.append(row)
            print(f"  {sign}, k={k} (people {taught}): other signs' clips taken {row['every match gives way']:.4f} "
                  f"(older rule {row['near misses only']:.4f}); of those the model is 70%+ sure of "
                  f"{row['every match gives way, model sure']:.4f} (older {row['near misses only, model sure']:.4f}); "
                  f"the same people's other clips of the sign recognised {row['every match gives way, own']:.3f} "
                  f"(older {row['near misses only, own']:.3f}; {len(own)} clips)")  # fmt: skip
    for k in (1, 3):
        mine = [r for r in table if r["k"] == k]
        print(f"  k={k}, all five signs: taken {np.mean([r['every match gives way'] for r in mine]):.4f} (worst word "
              f"{np.max([r['every match gives way'] for r in mine]):.4f}; older rule "
              f"{np.mean([r['near misses only'] for r in mine]):.4f}); own clips "
              f"{np.nanmean([r['every match gives way, own'] for r in mine]):.3f} (older "
              f"{np.nanmean([r['near misses only, own'] for r in mine]):.3f})")  # fmt: skip


def judged(pc, p: int, oov_held, in_vocab) -> dict:
    """What a classifier (base + a signer's library) gets on the signer's clips and what it costs."""
    test = test_clips(p)
    after = [pc.guess(q.data, q.times) for q in in_vocab]
    mine = [pc.guess(q.data, q.times) for q in oov_held]
    return {
        "same": right(pc, test),
        "full": right(pc, [q for q in test if q.hand_frames >= FULL]),
        "others": right(pc, [q for q in subset if q.participant != p]),
        "stolen": np.mean(
            [g is not None and g.accepted and g.label.removeprefix(NEW) in SIGNS for g in after]
        ),
        "kept": np.mean(
            [g is not None and g.accepted and g.label == q.sign for g, q in zip(after, in_vocab)]
        ),
        "oov": np.mean([g is not None and g.accepted and g.label.removeprefix(NEW) in SIGNS for g in mine]),
        "oov_any": np.mean([g is not None and g.accepted and g.label != UNKNOWN_LABEL for g in mine]),
    }


if "finetune" in parts:
    k = args.finetune_k
    print(
        f"\nFine-tuned to the library (k={k} of both words, each signer's own; studio clips as replay, "
        "the held-out words outside the vocabulary kept out of it), against the same library without it"
    )
    oov_held = [q for q in studio if q.sign == UNKNOWN_LABEL and _hash_fraction(q.word) < 0.5]
    in_vocab = [q for q in studio if q.sign not in (*SIGNS, UNKNOWN_LABEL)]
    for kind, model, words_out in (("existing signs", loaded, ()), ("new words", None, SIGNS)):
        if model is None:
            model = load_model(base_model("never-saw-hello-thankyou", str(studio_without(SIGNS))))
        replay = replay_sequences([studio_without(words_out, held_out_words=True)], model.labels)
        rows: dict[str, list] = {"base alone": [], "library": [], "fine-tuned": [], "library, embedding only": [],
                                 "fine-tuned, embedding only": []}  # fmt: skip
        secs = []
        for p in signers:
            with tempfile.TemporaryDirectory() as tmp:
                lib = library_of(Path(tmp), p, k, prefix=NEW if words_out else "")
                rows["base alone"].append(judged(Classifier(model), p, oov_held, in_vocab))
                rows["library"].append(judged(PersonalClassifier(model, lib), p, oov_held, in_vocab))
                res = finetune(model, lib, replay, seed=int(p))
                secs.append(res.seconds)
                rows["fine-tuned"].append(judged(PersonalClassifier(res.loaded, lib), p, oov_held, in_vocab))
                for name, m in (("library", model), ("fine-tuned", res.loaded)):  # without the movement check
                    still = PersonalClassifier(m, lib, movement=False)
                    rows[f"{name}, embedding only"].append(judged(still, p, oov_held, in_vocab))
        print(
            f"  {kind} ({len(replay)} replay clips; fine-tuning median {np.median(secs):.0f} s, longest {np.max(secs):.0f} s):"
        )
        if kind == "existing signs" and k == 3:
            shown["finetuned"] = float(np.mean([x["same"] for x in rows["fine-tuned"]]))
        for name, r in rows.items():
            col = {key: np.array([x[key] for x in r]) for key in r[0]}
            print(f"    {name}: the signer's other repetitions {col['same'].mean():.3f} (worst {col['same'].min():.3f}); "
                  f"hand in {FULL}+ frames {np.nanmean(col['full']):.3f} (worst {np.nanmin(col['full']):.3f})"
                  + f"; other signers' clips {col['others'].mean():.3f} (worst {col['others'].min():.3f})")  # fmt: skip
            print(f"               studio clips of the other {len(in_vocab)} signs answered hello/thankyou "
                  f"{col['stolen'].mean():.3f}, right {col['kept'].mean():.3f}; {len(oov_held)} held-out words outside "
                  f"the vocabulary taken for hello/thankyou {col['oov'].mean():.3f}, for any sign "
                  f"{col['oov_any'].mean():.3f}")  # fmt: skip
            print(
                "               per signer "
                + ", ".join(f"{p}: {v:.2f}" for p, v in zip(signers, col["same"]))
            )


if args.write and shown:
    import json

    out = Path(args.write)
    figures = json.loads(out.read_text()) if out.is_file() else {}
    figures.update(shown, examples=3, signers=len(signers), measured_by="python bench/bench_personal.py",
                   what="each signer's own repetitions of hello and thankyou (asl-signs-subset), with a base model "
                   "of this recipe that never saw them")  # fmt: skip
    out.write_text(json.dumps(figures, indent=1) + "\n")
    print(f"\nfigures for the app written to {out}: " + ", ".join(f"{k} {v:.3f}" for k, v in shown.items()))
