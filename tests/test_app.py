"""Every page of the Streamlit app through AppTest: the happy path and the bad inputs."""

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from slr_core.models.checkpoint import load_model
from slr_core.recognition.bank import load_bank
from slr_core.training.runs import Run

from .conftest import DATA, REPO, needs_shared, popsign_clip, read_rgb_frames, wait_for_state, write_video

MODEL = REPO / "models" / "asl250-webcam"

TIMEOUT = 180


@pytest.fixture
def app_env(monkeypatch, tmp_path):
    """The app on the bundled model, with runs, caches and data folders of the test's own."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("SLR_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("SLR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SLR_DATA_DIRS", str(DATA))
    monkeypatch.delenv("SLR_T5_PATH", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("SLR_LIBRARY", str(tmp_path / "library"))
    return tmp_path


def app(page: str | None = None, **params) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "subheader")
             for e in getattr(at, kind)]  # fmt: skip
    return "\n".join(str(p) for p in parts)


def test_home_shows_model_machine_and_keywords_from_the_url(app_env):
    at = app(kw="hello,thankyou")  # a reload: the URL brings the keywords back
    body = texts(at)
    assert "asl250-webcam" in body and "250 signs, only 247 with training data" in body
    assert "hello · thankyou" in body
    assert "What a new signer can expect" in body  # the cross-signer figures stored with the model
    shown = {m.label: m.value for m in at.metric}
    # every figure comes from the model's metadata (or the bench's file beside it), each saying what it covers
    new = load_model(MODEL).meta["metrics"]["new_signers"]
    assert shown["signs from one clip: first / top 5"] == (
        f"{new['one_clip_top1']:.0%} / {new['one_clip_top5']:.0%}"
    )
    assert shown["hello and thankyou (many signers): right first"] == f"{new['many_signers_top1']:.0%}"
    assert shown["words outside the vocabulary turned away"] == f"{new['oov_rejected']:.0%}"
    bank, why = load_bank(MODEL, load_model(MODEL).labels)
    assert bank is not None and why is None, why  # the bundled model recognises with its bank
    own = bank.meta["validation"]["with_bank"]  # so its own check is with the bank
    assert f"{own['in_vocab_top1']:.1%}" in [m.value for m in at.metric]  # this model's own check, said apart
    assert f"a bank of {len(bank):,} examples" in body
    assert (
        "the recipe's, measured with models that each set other people aside" in body and "Start here" in body
    )
    card = next(m.value for m in at.markdown if "What it can and cannot do" in m.value)
    assert (
        "\n## " not in "\n" + card and "#### What it can and cannot do" in card
    )  # under the page's headings
    personal = json.loads((MODEL / "personal.json").read_text())
    assert f"{personal['library']:.0%} of your next repetitions" in body
    assert "about 2 of your next 3" not in body and "9 in 10" not in body  # no figure typed into the page
    table = at.table[0].value
    assert "rules" in table.to_string() and "CPU" in table.to_string()
    assert at.query_params["kw"] == ["hello,thankyou"] or at.query_params["kw"] == "hello,thankyou"


def button(at: AppTest, label: str):
    return at.button[[b.label for b in at.button].index(label)]


def test_translate_edit_and_compose(app_env, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(
        huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9"
    )  # a hub that is not there
    at = app("app_pages/4_Translate.py", kw="thankyou,hello")
    assert "composer: **rules**" in texts(at)
    download = button(at, "Download FLAN-T5 now")
    assert download.disabled and "Downloading is not possible here" in texts(at)  # not offered in vain
    at.button(key="down0").click().run()  # reorder: hello, thankyou
    assert at.session_state["keywords"] == ["hello", "thankyou"]
    at.text_input[0].input("mom")
    button(at, "Add").click().run()
    assert at.session_state["keywords"] == ["hello", "thankyou", "mom"]
    at.button(key="del2").click().run()
    button(at, "Translate").click().run()
    assert "Hello, thank you." in texts(at) and "made by rules" in texts(at)
    at.text_input[0].input("dog")
    button(at, "Add").click().run()
    assert "keywords have changed" in texts(at)  # the sentence shown is marked stale
    at.button(key="del2").click().run()
    button(at, "Clear keywords").click().run()
    assert at.session_state["keywords"] == []
    assert "No keywords yet" in texts(at)
    assert len(at.session_state["history"]) == 1


def test_translate_says_which_keywords_it_left_out(app_env):
    words = [f"w{i}" for i in range(56)]
    at = app("app_pages/4_Translate.py", kw=",".join(["hello", "hello", "dog", "dog", *words]))
    assert len(at.session_state["keywords"]) == 60  # all listed
    button(at, "Translate").click().run()
    note = at.session_state["history"][0]["note"]
    assert note.startswith(
        "2 repeated keyword(s) in a row read once; used the last 50 of 58 keywords; left out: hello dog w0"
    )


def test_translate_offers_three_sentences_and_keeps_the_one_picked(app_env):
    at = app("app_pages/4_Translate.py", kw="me,drink,cow{milk|water}")
    assert "(or milk, water)" in texts(at)
    at.text_input[0].input("yesterday grandma cook food")  # a typed phrase: one keyword per word
    button(at, "Add").click().run()
    assert at.session_state["keywords"][3:] == ["yesterday", "grandma", "cook", "food"]
    for _ in range(3):
        at.button(key="del3").click().run()
    assert at.session_state["keywords"] == ["me", "drink", "cow{milk|water}", "food"]
    at.button(key="del3").click().run()
    button(at, "Translate").click().run()
    choices = at.radio(key="sentence_choice")
    assert choices.options[0] == "I drink milk." and choices.options[-1] == "Write it my way"
    assert "read 'cow' as 'milk'" in texts(at)  # the look-alike read, and said
    at = app("app_pages/4_Translate.py", kw="yesterday,grandma,cook,food")
    button(at, "Translate").click().run()
    choices = at.radio(key="sentence_choice")
    assert choices.options[:3] == ["Grandma cooked food yesterday.", "Did Grandma cook food yesterday?",
                                   "Yesterday Grandma cooked food."]  # fmt: skip
    choices.set_value(choices.options[2]).run()
    assert at.session_state["history"][0]["sentence"] == "Yesterday Grandma cooked food."  # what is kept
    at.radio(key="sentence_choice").set_value("Write it my way").run()
    at.text_input(key="own_sentence").input("Grandma made dinner yesterday.").run()
    button(at, "Keep my sentence").click().run()
    assert at.session_state["history"][0]["sentence"] == "Grandma made dinner yesterday."
    assert "### Grandma made dinner yesterday." in "\n".join(m.value for m in at.markdown)


@needs_shared
def test_upload_a_real_clip(app_env):
    at = app("app_pages/2_Upload_clip.py")
    at.file_uploader[0].upload("apple.mp4", popsign_clip("apple").read_bytes(), "video/mp4")
    at.run()
    assert not at.exception
    body = texts(at)
    assert "1 sign found" in body, body
    table = at.dataframe[0].value
    assert list(table["sign"]) == ["apple"]  # a clip the bundled model trained on
    assert at.image, "a skeleton animation is shown"
    videos = at.get("video")
    assert len(videos) == 1 and videos[0].proto.start_time == 0  # the clip itself, from its start
    labels = [b.label for b in at.button]
    play = next(label for label in labels if label.startswith("▶ apple at "))
    at.button[labels.index(play)].click().run()
    start = float(play.split(" at ")[1].rstrip(" s"))
    video = at.get("video")[0].proto
    assert video.start_time == 0 and not video.end_time  # the span cut as a clip of its own, played whole
    span = next(c.value for c in at.caption if c.value.startswith("The clip, from"))
    assert span.startswith(f"The clip, from {start:.1f} s to ") and span.endswith("(apple)")
    at.button[[b.label for b in at.button].index("Show the whole clip")].click().run()
    assert not any(c.value.startswith("The clip, from") for c in at.caption)
    at.button[[b.label for b in at.button].index("Add all to keywords")].click().run()
    assert at.session_state["keywords"] == ["apple"]
    sidebar = "\n".join(str(m.value) for m in at.sidebar.markdown)
    assert "Keywords (1)" in sidebar and "apple" in sidebar  # the sidebar caught up at once


@needs_shared
def test_upload_splits_a_long_clip_across_processes(app_env, monkeypatch):
    """The page's clip path with the keypoints shared by 2 processes (clips of a minute or more;
    the limit is lowered so a 2 s clip is split): processes spawned from the page's script thread."""
    from slr_core.capture import extract

    monkeypatch.setenv("SLR_CLIP_PROCESSES", "2")
    monkeypatch.setattr(extract, "SPLIT_MIN_S", 1.0)
    split, calls = extract.extract_split, []
    monkeypatch.setattr(extract, "extract_split", lambda *a, **k: calls.append(a[1]) or split(*a, **k))
    at = app("app_pages/2_Upload_clip.py")
    at.file_uploader[0].upload("apple.mp4", popsign_clip("apple").read_bytes(), "video/mp4")
    at.run(timeout=300)
    assert not at.exception and calls == [2]
    assert list(at.dataframe[0].value["sign"]) == ["apple"], texts(at)


@needs_shared
def test_upload_shows_what_it_thought_when_nothing_is_accepted(app_env):
    at = app("app_pages/2_Upload_clip.py")  # "about": a word outside the vocabulary the model rejects
    at.file_uploader[0].upload("about.mp4", popsign_clip("about").read_bytes(), "video/mp4")
    at.run()
    assert not at.exception
    body = texts(at)
    assert "no sign was recognised with enough confidence" in body and "What it thought" in body, body
    assert "outside its vocabulary" in body
    guesses = at.dataframe[0].value
    assert len(guesses) == 5 and "_unknown" not in set(guesses["sign"])
    assert at.get("video") and at.image  # the clip and its skeleton are still shown


@needs_shared
def test_upload_refuses_a_clip_longer_than_the_servers_limit(app_env, monkeypatch):
    monkeypatch.setenv("SLR_MAX_CLIP_S", "1")
    at = app("app_pages/2_Upload_clip.py")
    at.file_uploader[0].upload("long.mp4", popsign_clip("please").read_bytes(), "video/mp4")
    at.run()
    assert not at.exception and "minutes long; this server takes clips of up to" in at.error[0].value
    assert "SLR_MAX_CLIP_S" in at.error[0].value


@needs_shared
def test_upload_bad_files(app_env, tmp_path):
    at = app("app_pages/2_Upload_clip.py")
    at.file_uploader[0].upload("notes.mp4", b"not a video at all" * 100, "video/mp4")
    at.run()
    assert not at.exception and at.error and "notes.mp4" in at.error[0].value
    assert "/tmp" not in at.error[0].value  # the server's temporary path is not shown
    assert not at.file_uploader[0].value  # the refused file left the uploader (said above it)
    data = popsign_clip("hello").read_bytes()
    at.file_uploader[0].clear().upload("broken.mp4", data[: len(data) // 3], "video/mp4")
    at.run()
    assert not at.exception and at.error and "broken.mp4" in at.error[0].value
    frames = [np.full((240, 320, 3), 120, np.uint8) for _ in range(10)]
    empty = write_video(tmp_path / "room.mp4", frames, 10, "libx264").read_bytes()
    at.file_uploader[0].clear().upload("room.mp4", empty, "video/mp4")
    at.run()
    assert not at.exception and "No hands were found" in texts(at)


@needs_shared
def test_dataset_explorer(app_env):
    at = app("app_pages/3_Dataset_explorer.py")
    options = at.selectbox[0].options  # by name and size, the largest first
    assert options[:2] == ["webcam-signs · 1509 sequences", "asl-signs-subset · 518 sequences"], options
    assert "asl-signs-full-fixture · 12 sequences" in options and not any("/" in o for o in options[:2])
    assert at.selectbox[0].value.endswith("webcam-signs")
    at.selectbox[0].select(str(DATA / "asl-signs-full-fixture")).run()
    at.selectbox[1].select("hello").run()
    at.button[[b.label for b in at.button].index("Show animation")].click().run()
    assert at.image and "true label: hello" in at.image[0].captions[0]
    frames = int(at.image[0].captions[0].split(", ")[1].split(" frames")[0])
    assert ("short and jumpy" in at.image[0].captions[0]) == (frames < 15)
    at.button[[b.label for b in at.button].index("Classify")].click().run()
    assert not at.exception
    assert "Prediction:" in texts(at) and "true label: **hello**" in texts(at)
    add = next(b for b in at.button if b.label.startswith("Add"))
    add.click().run()
    assert len(at.session_state["keywords"]) == 1


@needs_shared
def test_dataset_explorer_extracts_a_folder_of_clips(app_env, monkeypatch, tmp_path):
    import shutil

    clips = tmp_path / "data" / "my-clips"
    clips.mkdir(parents=True)
    for word in ("please", "hello"):
        shutil.copy(popsign_clip(word), clips / f"{word}.mp4")
    (clips / "labels.csv").write_text("path,sign\nplease.mp4,please\nhello.mp4,hello\n")
    monkeypatch.setenv("SLR_DATA_DIRS", str(tmp_path / "data"))
    at = app("app_pages/3_Dataset_explorer.py")
    assert at.selectbox[0].options[0] == "my-clips · video clips, keypoints not extracted yet"
    assert "2 labelled video clips" in texts(at)
    at.button[[b.label for b in at.button].index("Extract keypoints of 2 clips")].click().run()
    assert not at.exception, at.exception
    assert (tmp_path / "data" / "my-clips-kp" / "train.csv").exists()
    assert at.selectbox[0].value == str((tmp_path / "data" / "my-clips-kp").resolve())  # opened at once
    assert at.selectbox[0].options == [
        "my-clips-kp · 2 sequences",
        "another folder inside the data folders ...",
    ]
    assert "2 sequences, 2 signs" in texts(at)


def test_dataset_explorer_without_data(app_env, monkeypatch, tmp_path):
    monkeypatch.setenv("SLR_DATA_DIRS", str(tmp_path / "nothing-here"))
    at = app("app_pages/3_Dataset_explorer.py")
    assert "kaggle competitions download -c asl-signs" in texts(at) and "slr extract" in texts(at)
    assert "Dataset" not in [s.label for s in at.selectbox]  # nothing to pick, so no picker above the help


@needs_shared
def test_dataset_explorer_bad_folders(app_env, monkeypatch, tmp_path):
    (tmp_path / "data" / "empty").mkdir(parents=True)
    monkeypatch.setenv("SLR_DATA_DIRS", str(tmp_path / "data"))
    at = app("app_pages/3_Dataset_explorer.py")
    assert "Dataset" not in [s.label for s in at.selectbox] and "kaggle competitions download" in texts(at)
    at.text_input[0].input("/etc").run()
    assert (
        "outside the data folders this app may read" in at.error[0].value
        and "SLR_DATA_DIRS" in at.error[0].value
    )
    at.text_input[0].input(str(tmp_path / "data" / "empty")).run()
    assert "no train.csv" in at.error[0].value and not at.exception


def test_live_page_without_a_server(app_env):
    # AppTest has no WebRTC server behind it: the page must say so, not crash (the browser test
    # drives the real camera path).
    at = app("app_pages/1_Live_camera.py")
    assert "camera component could not start here" in at.error[0].value
    body = texts(at)
    assert (
        "Learned from many people (recognised best; people in brackets): hello (26), thankyou (25), no (6)"
        in body
    )
    assert "From 2 people: " in body and "bye (2)" in body
    assert "227 were learned from one studio clip each" in body  # counted from the model's metadata
    assert "cannot recognise them: callonphone, glasswindow, yellow" in body
    table = at.dataframe[0].value.set_index("sign")["learned from"]
    assert (
        table["yellow"] == "no training data: it cannot recognise this sign"
        and table["apple"] == "one studio clip"
    )
    assert table["hello"] == "13 webcam users + 12 Kaggle signers + 1 studio clip"  # whom it learned from
    assert [r for r in at.radio[0].options] == ["Signs", "Fingerspelling", "Both (automatic)"]


@needs_shared
def test_live_page_says_the_server_is_busy_beyond_its_cap(app_env, monkeypatch):
    import slr_core.app.live as live
    from slr_core.models.checkpoint import load_model
    from slr_core.recognition.predict import Classifier

    monkeypatch.setattr(live, "_BUDGET", live.Budget())  # this test's own server
    monkeypatch.setattr(live, "ACTIVE_S", 600.0)  # "running" = processed a frame within 10 minutes
    monkeypatch.setenv("SLR_MAX_LIVE_SESSIONS", "1")
    someone = live.LiveSession(Classifier(load_model(MODEL)))  # another person's camera, one real frame
    someone.process(read_rgb_frames(popsign_clip("hello"))[0][10], 0.0)
    at = app("app_pages/1_Live_camera.py")
    assert "The server is busy: 1 live camera session(s)" in at.warning[0].value
    assert "SLR_MAX_LIVE_SESSIONS=1" in at.warning[0].value and not at.error  # the camera is not offered
    someone.close()  # that person stops: the next try gets the camera (here: no WebRTC server)
    at.button[[b.label for b in at.button].index("Try again")].click().run()
    assert not at.warning and "camera component could not start here" in at.error[0].value


def test_train_page_without_a_dataset_offers_no_start(app_env, monkeypatch):
    monkeypatch.setenv("SLR_DATA_DIRS", str(app_env / "no-data"))
    at = app("app_pages/5_Train.py")
    assert at.button[0].label == "Start" and at.button[0].disabled
    assert "nothing to train on" in texts(at)


def test_train_form_refuses_impossible_values(app_env):
    at = app("app_pages/5_Train.py")
    network = at.selectbox[0]
    assert network.value == "conv" and "the bundled model's" in network.format_func(
        "conv"
    )  # the recipe it ships
    assert "small network over the hand shapes" in texts(at)  # what each network is, in plain words
    at.number_input[0].set_value(0)  # epochs
    at.button[0].click().run()
    assert "Cannot start" in at.error[0].value and "epochs must be at least 1" in at.error[0].value
    at.number_input[0].set_value(3)
    at.number_input[2].set_value(5.0)  # learning rate
    at.button[0].click().run()
    assert "lr must be between 0 and 1" in at.error[0].value
    at.number_input[2].set_value(0.001)
    at.number_input[4].set_value(0)  # processes
    at.button[0].click().run()
    assert "processes must be between 1 and" in at.error[0].value


@needs_shared
@pytest.mark.slow
def test_train_a_run_then_use_its_model(app_env):
    at = app("app_pages/5_Train.py")
    assert at.multiselect[0].options[:2] == [
        "webcam-signs · 1509 sequences",
        "asl-signs-subset · 518 sequences",
    ]
    assert at.multiselect[0].value == [str(DATA / "webcam-signs")]  # the largest first
    at.multiselect[0].set_value([str(DATA / "asl-signs-subset")])
    at.text_input[0].input("apptest-run")
    at.run()  # any rerun before Start (a second later: another default name) keeps what was typed
    assert at.text_input[0].value == "apptest-run"
    at.selectbox[0].select("tiny")
    at.number_input[0].set_value(1)
    at.number_input[1].set_value(32)
    at.number_input[3].set_value(3)
    at.button[0].click().run()
    assert "Started apptest-run" in texts(at), texts(at)
    assert at.text_input[0].value.startswith("run-")  # the box offers a new name for the next run at once
    reloaded = app("app_pages/5_Train.py")  # a reload is a new session: it finds the run by its folder
    assert "apptest-run" in next(s for s in reloaded.selectbox if s.label == "Runs").options
    run_dir = app_env / "runs" / "apptest-run"
    ended = {"finished", "failed", "early-stopped", "interrupted"}
    state = wait_for_state(Run(run_dir), ended, timeout=240)["state"]
    assert state == "finished", (run_dir / "train.log").read_text()[-2000:]
    at.run()
    body = texts(at)
    assert "Evaluation on the validation split" in body
    assert "250 signs, only 2 with training data" in body and "can only ever answer" in at.warning[0].value
    assert "finished. finished" not in body and at.get("progress")[0].proto.text == "epoch 1 of 1"
    assert "classes the validation split has clips of" in body
    use = next(b for b in at.button if b.label == "Use this model")
    use.click().run()
    assert Path(at.session_state["active_model"]) == run_dir / "model"
    at.switch_page("app_pages/0_Home.py").run()
    assert not at.exception and "**apptest-run**" in texts(at)


@needs_shared
@pytest.mark.slow
def test_my_signs_then_the_upload_page_knows_the_word(app_env):
    at = app("app_pages/6_My_signs.py")
    assert "No personal signs yet" in texts(at)
    at.text_input(key="new_word").input("grandpa").run()
    clip = popsign_clip("book").read_bytes()  # a real clip of one sign the model is not sure of (58%)
    for name in ("me.mp4", "me-again.mp4", "me-third.mp4"):  # the same clip three times
        at.file_uploader[0].upload(name, clip, "video/mp4")
    at.run()
    at.button[[b.label for b in at.button].index("Cut out the signs")].click().run()
    assert not at.exception and "Review 1 example" in texts(at) and at.image  # kept once, and said
    assert sum("is the same clip as me.mp4" in w.value for w in at.warning) == 2
    at.button[[b.label for b in at.button].index("Save the kept examples")].click().run()
    assert not at.file_uploader[0].value  # the saved clips left the uploader: saving again adds nothing
    table = at.dataframe[0].value.set_index("word")
    assert table.loc["grandpa", "movement check"] == "on"  # one example is enough
    assert table.loc["grandpa", "closest other word of yours"] == "none (your only word)"
    assert table.loc["grandpa", "the model alone reads it as"] == "book (1 of 1)"
    picker = at.selectbox(key="remove_example").options
    assert len(picker) == 1 and picker[0].startswith("grandpa · example 1 of 1 · me.mp4 · ")  # no id in sight
    assert picker[0].endswith(" frames")
    assert any("teach that sign too" in c.value for c in at.caption)
    assert "Added 1 example(s) of “grandpa”." in [m.value for m in at.success]  # still shown after the rerun
    up = app("app_pages/2_Upload_clip.py")
    up.file_uploader[0].upload("again.mp4", clip, "video/mp4").run()
    assert not up.exception
    assert list(up.dataframe[0].value["sign"]) == ["grandpa (personal)"]
    mine = app("app_pages/6_My_signs.py")
    mine.button[[b.label for b in mine.button].index("Delete this word")].click().run()
    assert "Delete “grandpa” and its 1 example(s)?" in texts(mine) and "grandpa" in texts(mine)  # asked first
    mine.button(key="confirm_delete_yes").click().run()
    assert "No personal signs yet" in texts(mine) and "Deleted “grandpa” and its 1 example(s)." in texts(mine)
    mine.button[[b.label for b in mine.button].index("Undo the delete")].click().run()
    assert "Brought back “grandpa” and its 1 example(s)." in texts(mine)
    assert list(mine.dataframe[0].value["word"]) == ["grandpa"]


@needs_shared
def test_my_signs_fine_tunes_the_model_to_the_library(app_env, monkeypatch, replay_dataset):
    import os

    from slr_core.datasets.data import load_dataset
    from slr_core.recognition.library import Library

    monkeypatch.setenv("SLR_DATA_DIRS", os.pathsep.join([str(DATA), str(replay_dataset.parent)]))
    ds = load_dataset(DATA / "asl-signs-subset")
    lib = Library.open(app_env / "library")
    for i in np.flatnonzero(ds.table["sign"] == "thankyou")[:3]:
        kp = ds.keypoints(int(i))
        lib.add("thankyou", kp.data, kp.times)
    at = app("app_pages/6_My_signs.py")
    assert "Fine-tune the model to your signs" in texts(at)
    picker = at.multiselect(key="finetune_data")
    assert sorted(p.name for p in picker.value) == ["asl-signs-subset", "webcam-signs"]  # what it trained on
    at.number_input(key="finetune_steps").set_value(3).run()
    at.multiselect(key="finetune_data").set_value(
        [p for p in picker.value if p.name == "asl-signs-subset"]
    ).run()
    assert "The chosen data holds 2 of the model's signs" in at.warning[0].value  # 2 cannot keep the rest
    assert at.button[[b.label for b in at.button].index("Fine-tune")].disabled
    at.multiselect(key="finetune_data").set_value([replay_dataset]).run()
    at.button[[b.label for b in at.button].index("Fine-tune")].click().run()
    assert not at.exception, at.exception
    made = app_env / "runs" / "asl250-webcam-personal" / "model"
    assert Path(at.session_state["active_model"]) == made and (made / "model.safetensors").is_file()
    assert "is now the active model" in texts(at)
    assert "fine-tuned to other examples" not in texts(at)
    kp = ds.keypoints(int(np.flatnonzero(ds.table["sign"] == "hello")[0]))
    Library.open(app_env / "library").add("hello", kp.data, kp.times)  # one more example since then
    at.run()
    assert "fine-tuned to other examples than your library holds now (thankyou: 3)" in texts(at)
    at.switch_page("app_pages/0_Home.py").run()
    body = texts(at)
    assert not at.exception and "**asl250-webcam + personal signs**" in body
    assert "Fine-tuned from asl250-webcam to your examples: thankyou (3) (3 steps" in body
