"""Personal signs: the library file (add, remove, export/import, bad files), the matcher over a real
model, and `slr signs` end to end on real keypoints."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from slr_core.capture.landmarks import SHOULDER_ROWS
from slr_core.cli import main as slr
from slr_core.datasets.data import load_dataset
from slr_core.models.build import build_model
from slr_core.models.config import PRESETS, ModelConfig
from slr_core.recognition.library import FILE, Library, LibraryError
from slr_core.recognition.matcher import ENROL_COPIES, MIN_SIMILARITY, PersonalClassifier

from .conftest import REPO, SUBSET, needs_shared

MODEL = REPO / "models" / "asl250-popsign-kaggle2"

pytestmark = needs_shared


@pytest.fixture(scope="module")
def signer():
    """One real signer's hello and thankyou sequences from asl-signs-subset (pipeline rows, x/y/z)."""
    ds = load_dataset(SUBSET)
    t = ds.table
    pid = t["participant_id"].value_counts().index[0]
    out = {}
    for sign in ("hello", "thankyou"):
        rows = np.flatnonzero((t["participant_id"] == pid) & (t["sign"] == sign))
        out[sign] = [ds.keypoints(int(i)) for i in rows]
    return out


def test_add_remove_and_reopen(tmp_path, signer):
    lib = Library.open(tmp_path / "lib")
    assert len(lib) == 0 and not (tmp_path / "lib" / FILE).exists()
    for kp in signer["hello"][:3]:
        lib.add("hello", kp.data, kp.times, source="real")
    e = lib.add("My Name", signer["thankyou"][0].data, signer["thankyou"][0].times)
    again = Library.open(tmp_path / "lib")
    assert {w: len(x) for w, x in again.words().items()} == {"hello": 3, "My Name": 1}
    first = again.examples[0]
    assert first.data.shape[1:] == (94, 3) and np.array_equal(
        first.data, lib.examples[0].data, equal_nan=True
    )
    assert again.remove_word("My Name") == 1 and Library.open(tmp_path / "lib").words().keys() == {"hello"}
    with pytest.raises(LibraryError, match="no word"):
        again.remove_word("nothing")
    with pytest.raises(LibraryError, match="no example"):
        again.remove_example(e.id)
    with pytest.raises(LibraryError, match="not a word"):
        again.add("***", first.data, first.times)
    with pytest.raises(LibraryError, match="fewer than"):
        again.add("x", np.full((5, 543, 3), np.nan, np.float32), np.arange(5) / 30)
    # the same recording added twice (one array): two examples, each its own copy of the keypoints
    twice = Library.open(tmp_path / "twice")
    kp = signer["hello"][0]
    data = np.array(twice.add("hello", kp.data, kp.times).data)
    twice.add("hello", data, kp.times)
    twice.add("hello", data, kp.times)
    assert len(Library.open(tmp_path / "twice")) == 3


def test_export_import_round_trip(tmp_path, signer):
    a = Library.open(tmp_path / "a")
    for kp in signer["hello"][:2]:
        a.add("hello", kp.data, kp.times)
    out = a.export(tmp_path / "mine.safetensors")
    b = Library.open(tmp_path / "b")
    b.add("thankyou", signer["thankyou"][0].data, signer["thankyou"][0].times)
    assert b.import_file(out) == 2 and b.import_file(out) == 0  # the same examples only once
    assert {w: len(x) for w, x in Library.open(tmp_path / "b").words().items()} == {"thankyou": 1, "hello": 2}


def test_bad_files_get_clear_messages(tmp_path, signer):
    lib = Library.open(tmp_path / "lib")
    lib.add("hello", signer["hello"][0].data, signer["hello"][0].times)
    good = lib.file.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(good[: len(good) // 2])
    with pytest.raises(LibraryError, match="not a readable library"):
        Library.open(tmp_path / "cut.safetensors")
    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"), {"something": "else"})
    with pytest.raises(LibraryError, match="not a library"):
        Library.open(tmp_path / "other.safetensors")
    (tmp_path / "pickle.safetensors").write_bytes(b"\x80\x04K\x01.")  # a pickle under a new name
    with pytest.raises(LibraryError):
        Library.open(tmp_path / "pickle.safetensors")
    # another keypoint layout: the description says so
    from safetensors import safe_open

    with safe_open(str(lib.file), framework="pt") as f:
        meta = json.loads(f.metadata()["slr_library"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    meta["layout"] = dict(meta["layout"], rows=543)
    save_file(tensors, str(tmp_path / "layout.safetensors"), {"slr_library": json.dumps(meta)})
    with pytest.raises(LibraryError, match="another keypoint layout"):
        Library.open(tmp_path / "layout.safetensors")
    assert slr(["signs", "list", "--library", str(tmp_path / "layout.safetensors")]) == 2


def tiny_model(seed: int):
    torch.manual_seed(seed)
    from slr_core.models.checkpoint import LoadedModel

    labels = list(load_dataset(SUBSET).sign_map)
    model = build_model(ModelConfig(**{**PRESETS["conv"], "dim": 64, "num_classes": len(labels)})).eval()
    return LoadedModel(model, labels, {"threshold": 0.5}, SUBSET)


def test_a_new_model_re_embeds_the_stored_keypoints(tmp_path, signer):
    lib = Library.open(tmp_path / "lib")
    for kp in signer["hello"][:3]:
        lib.add("hello", kp.data, kp.times)
    old, new = PersonalClassifier(tiny_model(0), lib), PersonalClassifier(tiny_model(1), lib)
    # each example with its altered copies, the same ones for both models (drawn from its id)
    assert old._vectors.shape == new._vectors.shape == (3 * (1 + ENROL_COPIES), 128)
    assert old._recorded.sum() == 3 and old._ids == new._ids
    assert not np.allclose(old._vectors, new._vectors)  # each model embeds the examples itself
    again = PersonalClassifier(tiny_model(1), lib)
    assert np.allclose(again._vectors, new._vectors, atol=1e-5)  # the copies are the same every time
    kp = signer["hello"][0]
    assert new.guess(kp.data, kp.times).personal  # an enrolled example matches itself
    assert new.stats["hello"].examples == 3 and MIN_SIMILARITY <= new.stats["hello"].threshold < 1


def test_a_library_setting_that_names_a_file_is_refused(tmp_path, capsys, monkeypatch):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    with pytest.raises(LibraryError, match="a file, not a library folder"):
        Library.open(clip)
    monkeypatch.setenv("SLR_LIBRARY", str(clip))
    assert slr(["signs", "list"]) == 2
    assert "not a library folder" in capsys.readouterr().err


@needs_shared
def test_adding_from_a_recording_without_hands_says_so(tmp_path, capsys):
    from slr_core.capture.keypoints import read_parquet, write_parquet
    from slr_core.capture.landmarks import LEFT_HAND, RIGHT_HAND

    from .conftest import FULL_FIXTURE

    ds = load_dataset(FULL_FIXTURE)
    kp = read_parquet(ds.path(0))
    kp.data[:, LEFT_HAND.rows] = np.nan
    kp.data[:, RIGHT_HAND.rows] = np.nan
    write_parquet(kp, tmp_path / "no-hands.parquet")
    assert (
        slr(["signs", "add", "gramps", str(tmp_path / "no-hands.parquet"), "--library", str(tmp_path / "l")])
        == 2
    )
    assert "no hand was seen" in capsys.readouterr().err


def test_a_near_miss_is_accepted_when_its_movement_agrees(tmp_path, signer):
    lib = Library.open(tmp_path / "lib")
    for sign in ("hello", "thankyou"):
        for kp in signer[sign][:3]:
            lib.add(sign, kp.data, kp.times)
    lib.add("once", signer["hello"][3].data, signer["hello"][3].times)
    no_body = signer["hello"][3].data.copy()
    no_body[:, SHOULDER_ROWS] = np.nan
    lib.add("bodiless", no_body, signer["hello"][3].times)
    pc = PersonalClassifier(tiny_model(0), lib)
    assert pc.stats["once"].movement_threshold is not None  # one example is enough
    assert pc.stats["bodiless"].movement_threshold is None  # no shoulders: no path to compare
    assert not pc.moves_like("bodiless", signer["hello"][3].data)
    limit = pc.stats["hello"].movement_threshold
    assert limit is not None and limit > 0
    others = {s: signer[s][4:] for s in ("hello", "thankyou")}
    agree = {s: np.mean([pc.moves_like(s, kp.data) for kp in others[s]]) for s in others}
    crossed = {s: np.mean([pc.moves_like(s, kp.data) for kp in others[t]]) for s, t in (("hello", "thankyou"),
                                                                                       ("thankyou", "hello"))}  # fmt: skip
    # hello and thankyou move alike (a flat hand away from the face): the path confirms, the embedding chooses
    assert min(agree.values()) > 0.8 and all(crossed[s] < agree[s] for s in others), (agree, crossed)
    # another word's example far nearer vetoes the check: a thankyou enrolled as a third word
    probe = next(kp for kp in others["thankyou"] if pc.moves_like("hello", kp.data))
    lib.add("copy", probe.data, probe.times)
    pc.refresh()
    assert not pc.moves_like("hello", probe.data) and pc.moves_like("copy", probe.data)
    lib.remove_word("copy")
    pc.refresh()
    # through match: an embedding right on a hello example, made a near miss by a threshold out of reach
    row = int(np.flatnonzero((pc._words == "hello") & pc._recorded)[0])
    pc.stats["hello"].threshold = 1.01
    held_out = next(kp for kp in others["hello"] if pc.moves_like("hello", kp.data))
    assert not pc.match(pc._vectors[row]).accepted  # no landmarks: the embedding alone decides
    m = pc.match(pc._vectors[row], held_out.data)
    assert m.word == "hello" and m.movement and m.accepted
    unlike = next(kp for kp in others["thankyou"] if not pc.moves_like("hello", kp.data))
    assert not pc.match(pc._vectors[row], unlike.data).accepted
    # a match the embedding alone accepts, but not by the margin asked of it when the path can speak
    pc.stats["hello"].threshold = 0.98
    assert pc.match(pc._vectors[row]).accepted  # no landmarks: the embedding's own bar
    assert not pc.match(pc._vectors[row], unlike.data).accepted  # moves otherwise: rejected
    assert pc.match(pc._vectors[row], held_out.data).accepted
    bodiless = unlike.data.copy()
    bodiless[:, SHOULDER_ROWS] = np.nan
    assert pc.match(pc._vectors[row], bodiless).accepted  # no path to compare: the embedding's own bar


def test_slr_signs_add_list_export_remove_import(tmp_path, capsys):
    ds = load_dataset(SUBSET)
    t = ds.table
    pid = t["participant_id"].value_counts().index[0]
    files = {s: [str(ds.path(int(i))) for i in np.flatnonzero((t["participant_id"] == pid) & (t["sign"] == s))[:3]]
             for s in ("hello", "thankyou")}  # fmt: skip
    lib = str(tmp_path / "lib")
    for sign, paths in files.items():
        assert slr(["signs", "add", sign, *paths, "--library", lib]) == 0
    assert slr(["signs", "add", "wave", files["hello"][0], "--library", lib]) == 0
    out = capsys.readouterr().out
    assert out.count("added 'hello'") == 3 and "ms after the keypoints" in out
    assert slr(["signs", "list", "--library", lib]) == 0
    listed = capsys.readouterr().out
    assert "7 example(s) of 3 word(s)" in listed
    line = {w: next(x for x in listed.splitlines() if x.strip().startswith(w)) for w in ("hello", "wave")}
    assert "a sign of the model" in line["hello"] and "movement check on" in line["hello"]
    assert "a new word" in line["wave"] and "movement check on" in line["wave"]
    assert slr(["signs", "export", str(tmp_path / "mine.safetensors"), "--library", lib]) == 0
    assert slr(["signs", "remove", "hello", "--library", lib]) == 0
    assert set(Library.open(tmp_path / "lib").words()) == {"thankyou", "wave"}
    assert slr(["signs", "import", str(tmp_path / "mine.safetensors"), "--library", lib]) == 0
    assert "3 new example(s)" in capsys.readouterr().out
    assert {w: len(x) for w, x in Library.open(tmp_path / "lib").words().items()} == {
        "thankyou": 3,
        "wave": 1,
        "hello": 3,
    }


@needs_shared
def test_slr_eval_with_a_library(tmp_path, capsys):
    """slr eval --library: the model with one signer's library on the whole subset, next to the model
    alone on the same clips: what the library buys on its words and what it takes from others."""
    ds = load_dataset(SUBSET)
    t = ds.table
    pid = t["participant_id"].value_counts().index[0]
    lib = str(tmp_path / "lib")
    for sign in ("hello", "thankyou"):
        picks = np.flatnonzero((t["participant_id"] == pid) & (t["sign"] == sign))[:3]
        assert slr(["signs", "add", sign, *[str(ds.path(int(i))) for i in picks], "--library", lib]) == 0
    capsys.readouterr()
    out_json = tmp_path / "eval.json"
    code = slr(["eval", "--model", str(MODEL), "--data", str(SUBSET), "--library", lib, "--json", str(out_json),
                "--cache-dir", str(tmp_path / "cache"), "--quiet"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out_json.read_text())
    assert report["words"] == ["hello", "thankyou"] and report["n"]["library"] == len(
        t
    )  # every clip is a word
    assert "clips of the library's words recognised as them (n=518)" in out and "the model alone" in out
    mine, alone = report["figures"]["library"], report["figures"]["model alone"]
    assert 0 <= alone["own_words_right"] <= 1 and 0 <= mine["own_words_right"] <= 1
    assert set(report["per_word"]) == {"hello", "thankyou"}
    assert (
        slr(["eval", "--model", str(MODEL), "--data", str(SUBSET), "--library", str(tmp_path / "empty")]) == 2
    )
    assert "the library is empty" in capsys.readouterr().err


@needs_shared
def test_a_personal_word_gives_way_to_a_sign_the_model_is_sure_of(tmp_path, extractor):
    """A word taught from the apple studio clip ("fruit"): on that very clip the model reads apple at over
    90%, so the model's sign wins however close the match (issue: "mama", taught from copies of a mom
    clip, took mom while the model was 95% sure of it); unless told never to give way. A word taught
    from a movement the model does not know (the studio clip of "about", a word outside its vocabulary)
    is recognised as the person's word."""
    from slr_core.capture.extract import extract_video
    from slr_core.capture.landmarks import PIPELINE_ROWS
    from slr_core.models.checkpoint import load_model
    from slr_core.recognition.matcher import MODEL_SURE

    from .conftest import popsign_clip

    apple, about = (extract_video(popsign_clip(w), extractor) for w in ("apple", "about"))
    lib = Library.open(tmp_path / "lib")
    lib.add("fruit", apple.data[:, PIPELINE_ROWS], apple.times, source="apple.mp4")
    lib.add("around", about.data[:, PIPELINE_ROWS], about.times, source="about.mp4")
    loaded = load_model(MODEL)
    data, times = apple.data[:, PIPELINE_ROWS], apple.times
    never = PersonalClassifier(loaded, lib, model_sure=None).guess(data, times)
    assert never is not None and never.personal and never.label == "fruit"  # the case the rule is for
    pc = PersonalClassifier(loaded, lib)
    model = pc.decide(pc.probabilities(data, times))
    assert model.label == "apple" and model.probability >= max(MODEL_SURE, 0.9)
    g = pc.guess(data, times)
    assert g is not None and not g.personal and g.label == "apple"
    mine = pc.guess(about.data[:, PIPELINE_ROWS], about.times)  # a movement the model does not know
    assert mine is not None and mine.personal and mine.label == "around"


def test_a_personal_answer_is_shown_apart_from_the_models_probabilities():
    from slr_core.app.state import confidence_text, top5_text

    top5 = [("fruit", 0.53), ("drink", 0.96), ("milk", 0.02), ("eat", 0.01)]
    assert top5_text(top5, personal=True) == "fruit (your sign), drink 96%, milk 2%, eat 1%"
    assert confidence_text(0.53, personal=True) == "53% like your examples"
    assert top5_text([("drink", 0.96), ("milk", 0.02)], personal=False) == "drink 96%, milk 2%"
