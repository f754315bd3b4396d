"""A battery of bad inputs and faults, each through the real `slr` command in its own process:
damaged and odd videos, malformed keypoint datasets, broken checkpoints, libraries and images, bad
settings and arguments. Every case says what a user should get:

- "error": the command stops with a message naming the problem (exit code not 0, no traceback);
- "note": the command goes on and says what it left out or doubts (a phrase is looked for);
- "ok": the input is unusual but valid, and the command does its job.

Each outcome is counted as: clear error, handled (goes on and says so, or does its job), silent (a
problem passed without a word, or valid input refused), traceback, or hang (no end within --timeout).
Prints one line per case and the counts; the exit code is 1 when anything is silent, a traceback or a
hang.

Usage: python bench/bench_bad_inputs.py [--only video,data,model,library,letters,settings,args]
       [--timeout 300] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from common import DATA, REPO, require_shared

from slr_core.capture.videofile import write_video  # noqa: E402

MODEL = REPO / "models" / "asl250-webcam"
LETTERS = REPO / "models" / "letters-massey-webcam"
CLIPS = DATA / "popsign-reference" / "clips"
SUBSET = DATA / "asl-signs-subset"


@dataclass
class Case:
    group: str
    name: str
    argv: list[str]
    expect: str  # error | note | ok
    phrase: str = ""  # for error and note: a piece of the message (case-insensitive)
    env: dict = field(default_factory=dict)


# ---------------------------------------------------------------- building the inputs


def video_cases(tmp: Path) -> list[Case]:
    from slr_core.capture.extract import iter_frames

    hello = [rgb for _, rgb in iter_frames(CLIPS / "hello.mp4")]
    d = tmp / "video"
    d.mkdir()
    files: dict[str, tuple[bytes | None, str, str]] = {}
    data = (CLIPS / "hello.mp4").read_bytes()
    files["empty.mp4"] = (b"", "error", "empty")
    files["random-bytes.mp4"] = (os.urandom(50_000), "error", "not a video")
    files["text-as-video.mp4"] = (b"hello, this is not a video\n" * 100, "error", "not a video")
    files["head-third.mp4"] = (data[: len(data) // 3], "error", "")
    files["tail-cut-10.mp4"] = (data[: len(data) - 10], "ok", "")
    files["notes.txt"] = (b"not a clip", "error", "not a")
    for name, (content, _, _) in files.items():
        if content is not None:
            (d / name).write_bytes(content)
    avi = write_video(d / "full.avi", hello, codec="mjpeg").read_bytes()
    (d / "avi-cut-early.avi").write_bytes(avi[: len(avi) // 3])
    files["avi-cut-early.avi"] = (None, "error", "damaged or truncated")
    (d / "avi-cut-late.avi").write_bytes(avi[: len(avi) * 3 // 4])
    files["avi-cut-late.avi"] = (None, "note", "truncated")
    write_video(d / "black.mp4", [np.zeros((360, 640, 3), np.uint8)] * 30)
    files["black.mp4"] = (None, "note", "no hand")
    shutil.copy(CLIPS / "yellow.mp4", d / "no-hands-yellow.mp4")  # a signer whose hands MediaPipe misses
    files["no-hands-yellow.mp4"] = (None, "note", "no hand")
    write_video(d / "one-frame.mp4", hello[30:31])
    files["one-frame.mp4"] = (None, "ok", "")
    write_video(d / "tiny-64x36.mp4", [f[::10, ::10].copy() for f in hello])
    files["tiny-64x36.mp4"] = (None, "ok", "")
    write_video(d / "big-2560x1440.mp4", [np.repeat(np.repeat(f, 4, 0), 4, 1) for f in hello[::6]])
    files["big-2560x1440.mp4"] = (None, "ok", "")
    write_video(d / "fps-5.mp4", hello[::6], fps=5)
    files["fps-5.mp4"] = (None, "ok", "")
    write_video(d / "upside-down.mp4", [f[::-1].copy() for f in hello])
    files["upside-down.mp4"] = (None, "ok", "")
    (d / "a-folder.mp4").mkdir()
    files["a-folder.mp4"] = (None, "error", "folder")
    files["missing.mp4"] = (None, "error", "no such file")
    shutil.copy(CLIPS / "hello.mp4", d / "upper-case.MP4")
    files["upper-case.MP4"] = (None, "ok", "")
    shutil.copy(CLIPS / "hello.mp4", d / "name with spaces & ünïcode.mp4")
    files["name with spaces & ünïcode.mp4"] = (None, "ok", "")
    slr = ["predict", "--model", str(MODEL), "--fps", "10"]
    return [
        Case("video", name, [*slr, str(d / name)], expect, phrase)
        for name, (_, expect, phrase) in files.items()
    ]


def _dataset(root: Path, rows: list[tuple[str, object]], sign="hello") -> Path:
    """A Kaggle-layout folder: train.csv and one parquet per (name, table or bytes)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "train_landmark_files" / "1").mkdir(parents=True)
    lines = ["path,participant_id,sequence_id,sign"]
    for k, (name, table) in enumerate(rows):
        rel = f"train_landmark_files/1/{name}.parquet"
        if isinstance(table, bytes):
            (root / rel).write_bytes(table)
        elif isinstance(table, pa.Table):
            pq.write_table(table, root / rel)
        lines.append(f"{rel},1,{k},{sign}")
    (root / "train.csv").write_text("\n".join(lines) + "\n")
    shutil.copy(DATA / "sign_to_prediction_index_map.json", root)
    return root


def data_cases(tmp: Path) -> list[Case]:
    import pickle

    import pyarrow as pa
    import pyarrow.parquet as pq

    good_path = next((SUBSET / "train_landmark_files").glob("*/*.parquet"))
    good = pq.read_table(good_path)

    def with_column(name, values):
        return good.set_column(good.column_names.index(name), name, pa.array(values))

    n = good.num_rows
    xs = good.column("x").to_numpy(zero_copy_only=False)
    bad_tables = {
        "zero-rows": (good.slice(0, 0), "note", "zero rows"),
        "all-nan": (
            with_column("x", np.full(n, np.nan, np.float32))
            .set_column(5, "y", pa.array(np.full(n, np.nan, np.float32)))
            .set_column(6, "z", pa.array(np.full(n, np.nan, np.float32))),
            "note",
            "nan",
        ),  # fmt: skip
        "infinite": (
            with_column("x", np.where(np.arange(n) % 7 == 0, np.inf, xs).astype(np.float32)),
            "note",
            "infinite",
        ),
        "no-x-column": (good.drop(["x"]), "note", "x"),
        "x-as-text": (with_column("x", [str(v) for v in xs]), "note", "x"),
        "unknown-type": (with_column("type", ["elbow"] * n), "note", "unknown landmark type"),
        "index-out-of-range": (with_column("landmark_index", np.full(n, 9999, np.int16)), "note", "outside"),
        "frame-missing": (with_column("frame", pa.array([None] * n, pa.int16())), "note", "missing"),
        "random-bytes": (os.urandom(4000), "note", "not a readable parquet"),
        "a-pickle": (pickle.dumps({"x": [1, 2, 3]}), "note", "not a readable parquet"),
        "empty-file": (b"", "note", "not a readable parquet"),
    }
    cases = []
    for name, (table, expect, phrase) in bad_tables.items():
        root = _dataset(tmp / "data" / name, [(name, table), ("good", good)])
        cases.append(Case("data", f"eval: one good sequence and one {name}", _eval(root), expect, phrase))
    only_bad = _dataset(tmp / "data" / "only-bad", [("a", good.slice(0, 0)), ("b", os.urandom(100))])
    cases.append(Case("data", "eval: nothing usable", _eval(only_bad), "error", "none of"))
    missing = _dataset(tmp / "data" / "missing-file", [("there", good), ("not-there", None)])
    cases.append(Case("data", "eval: train.csv lists a missing file", _eval(missing), "note", "not-there"))
    unknown = _dataset(tmp / "data" / "unknown-sign", [("a", good)], sign="flibbertigibbet")
    cases.append(
        Case("data", "eval: a sign the model does not know", _eval(unknown), "error", "flibbertigibbet")
    )
    for name, text in {
        "empty train.csv": "",
        "header only": "path,participant_id,sequence_id,sign\n",
        "no sign column": "path,participant_id,sequence_id\nx.parquet,1,1\n",
        "binary train.csv": os.urandom(300),
    }.items():
        root = tmp / "data" / name.replace(" ", "-").replace(".", "")
        root.mkdir(parents=True)
        (root / "train.csv").write_bytes(text if isinstance(text, bytes) else text.encode())
        cases.append(Case("data", f"eval: {name}", _eval(root), "error", "train.csv"))
    nocsv = tmp / "data" / "no-train-csv"
    nocsv.mkdir()
    cases.append(Case("data", "eval: folder without train.csv", _eval(nocsv), "error", "train.csv"))
    cases.append(Case("data", "eval: no such folder", _eval(tmp / "data" / "nope"), "error", "nope"))
    cases.append(Case("data", "cache: one good sequence and a damaged one",
                      ["cache", "--data", str(tmp / "data" / "random-bytes"), "--cache-dir", str(tmp / "cache")],
                      "note", "random-bytes"))  # fmt: skip
    changed = _dataset(tmp / "data" / "changed", [("a", good), ("b", good)])
    cases.append(
        Case(
            "data", "train: 2 sequences of one sign", _train(changed, tmp / "runs" / "tiny"), "error", "class"
        )
    )
    return cases


def _eval(root: Path) -> list[str]:
    return [
        "eval",
        "--model",
        str(MODEL),
        "--data",
        str(root),
        "--cache-dir",
        str(root.parent.parent / "cache"),
    ]


def _train(root: Path, out: Path, *more: str) -> list[str]:
    return ["train", "--data", str(root), "--out", str(out), "--epochs", "1", "--preset", "tiny",
            "--cache-dir", str(root.parent.parent / "cache"), "--quiet", *more]  # fmt: skip


def model_cases(tmp: Path) -> list[Case]:
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    def copy(name: str) -> Path:
        d = tmp / "models" / name
        shutil.copytree(MODEL, d)
        return d

    def rewrite(d: Path, tensors=None, meta=None) -> None:
        with safe_open(str(d / "model.safetensors"), "pt") as f:
            old_meta = json.loads(f.metadata()["slr"])
            old = {k: f.get_tensor(k) for k in f.keys()}
        save_file(tensors(old) if tensors else old, str(d / "model.safetensors"),
                  {"slr": json.dumps(meta(old_meta) if meta else old_meta)})  # fmt: skip

    cases = []

    def add(name, expect, phrase=""):
        clip = str(CLIPS / "please.mp4")
        cases.append(Case("model", name, ["predict", clip, "--model", str(tmp / "models" / name), "--fps", "10"],
                          expect, phrase))  # fmt: skip

    rewrite(copy("nan-weights"), tensors=lambda t: {k: v.fill_(float("nan")) if v.is_floating_point() else v
                                                      for k, v in t.items()})  # fmt: skip
    add("nan-weights", "error", "NaN")
    rewrite(copy("num-heads-0"), meta=lambda m: {**m, "model": {**m["model"], "num_heads": 0}})
    add("num-heads-0", "error", "num_heads")
    rewrite(copy("dim-text"), meta=lambda m: {**m, "model": {**m["model"], "dim": "big"}})
    add("dim-text", "error", "dim")
    rewrite(copy("labels-short"), meta=lambda m: {**m, "labels": m["labels"][:10]})
    add("labels-short", "error", "labels")
    rewrite(copy("other-preprocessing"), meta=lambda m: {**m, "preprocess_version": 999})
    add("other-preprocessing", "error", "preprocess")
    rewrite(copy("other-format"), meta=lambda m: {**m, "format": "someone-else/7"})
    add("other-format", "error", "format")
    rewrite(copy("missing-tensor"), tensors=lambda t: dict(list(t.items())[1:]))
    add("missing-tensor", "error", "model.safetensors")
    rewrite(
        copy("wrong-shape"),
        tensors=lambda t: {k: (v[:-1] if i == 3 else v) for i, (k, v) in enumerate(t.items())},
    )
    add("wrong-shape", "error", "model.safetensors")
    d = copy("truncated-weights")
    raw = (d / "model.safetensors").read_bytes()
    (d / "model.safetensors").write_bytes(raw[: len(raw) // 2])
    add("truncated-weights", "error", "not a readable")
    d = copy("pickle-as-safetensors")
    torch.save({"w": torch.zeros(3)}, d / "model.safetensors")
    add("pickle-as-safetensors", "error", "not a readable")
    d = copy("empty-weights")
    (d / "model.safetensors").write_bytes(b"")
    add("empty-weights", "error", "model.safetensors")
    d = copy("no-weights")
    (d / "model.safetensors").unlink()
    add("no-weights", "error", "no such")
    d = copy("edited-model-json")
    meta = json.loads((d / "model.json").read_text())
    meta["threshold"] = 0.99
    (d / "model.json").write_text(json.dumps(meta))
    add("edited-model-json", "note", "model.json")
    d = copy("broken-model-json")
    (d / "model.json").write_text("{not json")
    add("broken-model-json", "ok")  # the copy inside the weights counts
    (tmp / "models" / "not-a-model").mkdir(parents=True)
    add("not-a-model", "error", "not-a-model")
    cases.append(Case("model", "eval --model pointing at a file that is not a model",
                      ["eval", "--model", str(CLIPS / "hello.mp4"), "--data", str(SUBSET)], "error", "hello.mp4"))  # fmt: skip
    return cases


def library_cases(tmp: Path) -> list[Case]:
    import pickle

    d = tmp / "library"
    d.mkdir()
    lib = ["--library", str(d / "lib")]
    (d / "random.slrlib").write_bytes(os.urandom(2000))
    (d / "empty.slrlib").write_bytes(b"")
    (d / "pickle.slrlib").write_bytes(pickle.dumps({"words": ["x"]}))
    (d / "model-as-library.safetensors").write_bytes((MODEL / "model.safetensors").read_bytes())
    parquet = next((SUBSET / "train_landmark_files").glob("*/*.parquet"))
    return [
        Case(
            "library",
            "import random bytes",
            ["signs", "import", str(d / "random.slrlib"), *lib],
            "error",
            "random.slrlib",
        ),
        Case(
            "library",
            "import an empty file",
            ["signs", "import", str(d / "empty.slrlib"), *lib],
            "error",
            "empty.slrlib",
        ),
        Case(
            "library",
            "import a pickle",
            ["signs", "import", str(d / "pickle.slrlib"), *lib],
            "error",
            "pickle.slrlib",
        ),
        Case(
            "library",
            "import a model file",
            ["signs", "import", str(d / "model-as-library.safetensors"), *lib],
            "error",
            "model-as-library",
        ),  # fmt: skip
        Case(
            "library",
            "import a missing file",
            ["signs", "import", str(d / "nope.slrlib"), *lib],
            "error",
            "nope",
        ),
        Case(
            "library",
            "add a word from a clip without hands",
            ["signs", "add", "gramps", str(CLIPS / "yellow.mp4"), *lib],
            "error",
            "yellow.mp4",
        ),  # fmt: skip
        Case(
            "library",
            "add a word from a text file",
            ["signs", "add", "gramps", str(d / "random.slrlib"), *lib],
            "error",
            "random.slrlib",
        ),  # fmt: skip
        Case(
            "library",
            "add a word with an empty name",
            ["signs", "add", "  ", str(parquet), *lib],
            "error",
            "word",
        ),
        Case(
            "library",
            "add a word from a keypoints parquet",
            ["signs", "add", "gramps", str(parquet), *lib],
            "ok",
        ),
        Case(
            "library",
            "remove a word that is not there",
            ["signs", "remove", "nobody", *lib],
            "error",
            "nobody",
        ),
        Case(
            "library",
            "export to a folder that does not exist",
            ["signs", "export", str(d / "no" / "such" / "dir" / "x.slrlib"), *lib],
            "ok",
        ),  # fmt: skip
        Case(
            "library",
            "fine-tune an empty library",
            ["signs", "finetune", "--data", str(SUBSET), "--library", str(d / "empty-lib")],
            "error",
            "empty",
        ),  # fmt: skip
        Case(
            "library",
            "fine-tune with data of 2 signs",
            ["signs", "finetune", "--data", str(SUBSET), *lib],
            "error",
            "at least 5",
        ),  # fmt: skip
        Case(
            "library",
            "fine-tune with a folder that is no dataset",
            ["signs", "finetune", "--data", str(d), *lib],
            "error",
            "train.csv",
        ),  # fmt: skip
        Case(
            "library",
            "fine-tune a model that is a video",
            ["signs", "finetune", "--data", str(SUBSET), "--model", str(CLIPS / "hello.mp4"), *lib],
            "error",
            "hello.mp4",
        ),  # fmt: skip
    ]


def letters_cases(tmp: Path) -> list[Case]:
    import cv2

    d = tmp / "letters"
    d.mkdir()
    cv2.imwrite(str(d / "black.png"), np.zeros((200, 200, 3), np.uint8))
    (d / "text.jpg").write_bytes(b"not an image" * 10)
    (d / "empty.png").write_bytes(b"")
    massey = DATA / "asl-letters-massey"
    first = (massey / "labels.csv").read_text().splitlines()[1].split(",")[0]
    return [
        Case("letters", "spell an image without a hand", ["spell", str(d / "black.png")], "note", "no hand"),
        Case("letters", "spell a text file named .jpg", ["spell", str(d / "text.jpg")], "error", "text.jpg"),
        Case("letters", "spell an empty image file", ["spell", str(d / "empty.png")], "error", "empty.png"),
        Case("letters", "spell a missing file", ["spell", str(d / "nope.png")], "error", "nope.png"),
        Case("letters", "spell a real letter image", ["spell", str(massey / first)], "ok"),
        Case(
            "letters",
            "spell with a letter model that is not one",
            ["spell", str(massey / first), "--model", str(MODEL)],
            "error",
            "letters",
        ),  # fmt: skip
    ]


def formats_cases(tmp: Path) -> list[Case]:
    """ELAN corpora, .pose files, landmark CSVs and webcam-style data: what researchers bring."""
    import pandas as pd

    d = tmp / "formats"
    d.mkdir()
    (d / "bad.pose").write_bytes(b"\x00\x01 not a pose file")
    (d / "empty.pose").write_bytes(b"")
    (d / "corpus").mkdir()
    (d / "corpus" / "broken.eaf").write_text("<ANNOTATION_DOCUMENT><HEADER>")
    (d / "nothing").mkdir()
    rows = pd.read_csv(DATA / "letters-webcam" / "letters.csv").head(20)
    rows.drop(columns=["x3"]).to_csv(d / "missing.csv", index=False)
    rows.assign(y7=["x"] + list(rows["y7"][1:])).to_csv(d / "text.csv", index=False)
    rows.assign(letter=["?"] + list(rows["letter"][1:])).to_csv(d / "letter.csv", index=False)
    rows.to_csv(d / "good.csv", index=False)
    (d / "blank.csv").write_text("")
    web = DATA / "webcam-signs"
    table = pd.read_csv(web / "train.csv")
    keep = (
        table[table["participant_id"].isin([900008, 900038, 900009])]
        .groupby(["participant_id", "sign"])
        .head(3)
    )
    copy = d / "webcam"
    for rel in keep["path"]:
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(web / rel, copy / rel)
    keep.to_csv(copy / "train.csv", index=False)
    shutil.copy(web / "sign_to_prediction_index_map.json", copy)
    shutil.copy(web / "sources.csv", copy)
    shutil.copytree(web / "LICENSES", copy / "LICENSES")
    (copy / "LICENSES" / "Neat11+realtime-SignLanguage.txt").unlink()  # 900038's licence text
    clip = str(SUBSET / pd.read_csv(SUBSET / "train.csv")["path"].iat[0])
    return [
        Case(
            "formats", "predict a damaged .pose file", ["predict", str(d / "bad.pose")], "error", "bad.pose"
        ),
        Case(
            "formats",
            "predict an empty .pose file",
            ["predict", str(d / "empty.pose")],
            "error",
            "empty.pose",
        ),
        Case(
            "formats",
            "predict --format pose without --out",
            ["predict", clip, "--format", "pose"],
            "error",
            "--out",
        ),
        Case("formats", "predict --format eaf of keypoints", ["predict", clip, "--format", "eaf"], "ok"),
        Case(
            "formats",
            "extract --eaf, only a broken .eaf",
            ["extract", "--eaf", str(d / "corpus"), "--out", str(d / "out1")],
            "error",
            "broken.eaf",
        ),  # fmt: skip
        Case(
            "formats",
            "extract --eaf, no .eaf at all",
            ["extract", "--eaf", str(d / "nothing"), "--out", str(d / "out2")],
            "error",
            "no .eaf",
        ),  # fmt: skip
        Case(
            "formats",
            "extract with labels and --eaf",
            ["extract", str(d / "x.csv"), "--eaf", str(d / "corpus"), "--out", str(d / "out3")],
            "error",
            "either",
        ),  # fmt: skip
        Case(
            "formats",
            "spell --landmarks, a column missing",
            ["spell", "--landmarks", str(d / "missing.csv")],
            "error",
            "x3",
        ),  # fmt: skip
        Case(
            "formats",
            "spell --landmarks, text for a number",
            ["spell", "--landmarks", str(d / "text.csv")],
            "error",
            "row 2",
        ),  # fmt: skip
        Case(
            "formats",
            "spell --landmarks, a letter outside a-z",
            ["spell", "--landmarks", str(d / "letter.csv")],
            "error",
            "not one of a-z",
        ),  # fmt: skip
        Case(
            "formats",
            "spell --landmarks, an empty file",
            ["spell", "--landmarks", str(d / "blank.csv")],
            "error",
            "empty",
        ),  # fmt: skip
        Case("formats", "spell --landmarks, good rows", ["spell", "--landmarks", str(d / "good.csv")], "ok"),
        Case(
            "formats",
            "train on webcam data, one licence text missing",
            _train(copy, d / "run", "--set", "folds=2"),
            "note",
            "no licence text",
        ),  # fmt: skip
    ]


def settings_cases(tmp: Path) -> list[Case]:
    clip = str(CLIPS / "please.mp4")
    predict = ["predict", clip, "--model", str(MODEL), "--quiet"]
    return [
        Case("settings", "SLR_CLIP_FPS=abc", predict, "error", "SLR_CLIP_FPS", {"SLR_CLIP_FPS": "abc"}),
        Case("settings", "SLR_CLIP_FPS=-3", predict, "error", "SLR_CLIP_FPS", {"SLR_CLIP_FPS": "-3"}),
        Case(
            "settings",
            "SLR_CLIP_PROCESSES=0",
            predict,
            "error",
            "SLR_CLIP_PROCESSES",
            {"SLR_CLIP_PROCESSES": "0"},
        ),
        Case(
            "settings",
            "SLR_DEFAULT_MODEL pointing nowhere",
            ["predict", clip, "--quiet"],
            "error",
            "nowhere",
            {"SLR_DEFAULT_MODEL": str(tmp / "nowhere")},
        ),  # fmt: skip
        Case(
            "settings",
            "SLR_LIBRARY is a file, not a folder",
            ["signs", "list"],
            "error",
            "library",
            {"SLR_LIBRARY": str(CLIPS / "hello.mp4")},
        ),
        Case(
            "settings",
            "SLR_T5_PATH pointing nowhere",
            ["translate", "mom", "eat", "apple"],
            "note",
            "t5",
            {"SLR_T5_PATH": str(tmp / "no-t5")},
        ),  # fmt: skip
    ]


def args_cases(tmp: Path) -> list[Case]:
    data = _dataset(tmp / "args-data", [])
    return [
        Case(
            "args",
            "train --epochs 0",
            _train(SUBSET, tmp / "runs" / "e0", "--epochs", "0"),
            "error",
            "epochs",
        ),
        Case(
            "args",
            "train --batch-size 0",
            _train(SUBSET, tmp / "runs" / "b0", "--batch-size", "0"),
            "error",
            "batch",
        ),
        Case("args", "train --lr 5", _train(SUBSET, tmp / "runs" / "lr", "--lr", "5"), "error", "lr"),
        Case(
            "args",
            "train --preset huge",
            _train(SUBSET, tmp / "runs" / "p", "--preset", "huge"),
            "error",
            "preset",
        ),
        Case(
            "args",
            "train --set model.nothing=1",
            _train(SUBSET, tmp / "runs" / "s", "--set", "model.nothing=1"),
            "error",
            "nothing",
        ),  # fmt: skip
        Case(
            "args",
            "train --resume of a run that never started",
            ["train", "--out", str(tmp / "runs" / "never"), "--resume"],
            "error",
            "never",
        ),  # fmt: skip
        Case(
            "args",
            "train on a dataset with no sequences",
            _train(data, tmp / "runs" / "empty"),
            "error",
            "args-data",
        ),
        Case("args", "translate with no words", ["translate"], "note", "no keywords"),
        Case("args", "translate 300 words", ["translate", *(["hello"] * 300)], "ok"),
        Case(
            "args",
            "predict --fps -1",
            ["predict", str(CLIPS / "please.mp4"), "--model", str(MODEL), "--fps", "-1"],
            "error",
            "fps",
        ),  # fmt: skip
        Case(
            "args",
            "predict --threshold 2",
            ["predict", str(CLIPS / "please.mp4"), "--model", str(MODEL), "--threshold", "2"],
            "error",
            "threshold",
        ),  # fmt: skip
        Case(
            "args",
            "extract a labels.csv that lists a missing clip",
            ["extract", str(_labels(tmp)), "--out", str(tmp / "extracted"), "--workers", "1"],
            "error",
            "missing-clip",
        ),  # fmt: skip
    ]


def _labels(tmp: Path) -> Path:
    d = tmp / "labels"
    d.mkdir()
    shutil.copy(CLIPS / "please.mp4", d / "please.mp4")
    (d / "labels.csv").write_text("path,sign\nplease.mp4,please\nmissing-clip.mp4,hello\n")
    return d / "labels.csv"


# ---------------------------------------------------------------- running and judging


def judge(case: Case, rc: int | None, out: str) -> str:
    if rc is None:
        return "hang"
    if "Traceback (most recent call last)" in out:
        return "traceback"
    said = case.phrase.lower() in out.lower() if case.phrase else True
    if case.expect == "error":
        return "clear error" if rc != 0 and said else ("error, unclear" if rc != 0 else "silent")
    if rc != 0:
        return "refused" if case.expect == "ok" else ("clear error" if said else "error, unclear")
    return "handled" if said else "silent"


def run(case: Case, timeout: float) -> tuple[str, float, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **case.env}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "slr_core.cli", *case.argv], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip
        rc, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired:
        rc, out = None, ""
    return judge(case, rc, out), time.perf_counter() - t0, out


GROUPS = {"video": video_cases, "data": data_cases, "model": model_cases, "library": library_cases,
          "letters": letters_cases, "formats": formats_cases, "settings": settings_cases,
          "args": args_cases}  # fmt: skip
BAD = {"silent", "traceback", "hang", "error, unclear", "refused"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(GROUPS))
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--json")
    args = p.parse_args()
    require_shared()
    sys.path.insert(0, str(REPO))
    results = []
    with tempfile.TemporaryDirectory(prefix="slr-bad-") as tmp:
        cases = [c for g in args.only.split(",") for c in GROUPS[g](Path(tmp))]
        print(f"{len(cases)} cases", flush=True)
        for case in cases:
            verdict, seconds, out = run(case, args.timeout)
            last = next((x for x in reversed(out.strip().splitlines()) if x.strip()), "")[:150]
            print(f"[{verdict:>14}] {case.group:8s} {case.name} ({seconds:.0f} s): {last}", flush=True)
            results.append({"group": case.group, "case": case.name, "expect": case.expect, "verdict": verdict,
                            "seconds": round(seconds, 1), "output": out[-2000:]})  # fmt: skip
    counts: dict[str, int] = {}
    for r in results:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    print(
        f"\n{len(results)} inputs: "
        + ", ".join(f"{v} {k}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    )
    for r in results:
        if r["verdict"] in BAD:
            print(f"\n--- {r['verdict']}: {r['group']} / {r['case']}\n{r['output'][-1200:]}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 1 if any(r["verdict"] in BAD for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
