"""My signs: teach the app your own way of signing a word, or a new word, from a few examples.

Examples come from the camera (each sign you make, cut out as the live page cuts signs, is shown
back to keep or drop) or from uploaded clips; they are kept as keypoints in your library (one file,
exportable). The live camera, Upload and Dataset explorer pages then recognise the words at once.
"""

import tempfile
import time
from pathlib import Path

import streamlit as st

from slr_core.app import state as app_state
from slr_core.app import ui
from slr_core.app.viz import animation_gif
from slr_core.base import settings
from slr_core.base.errors import SLRError
from slr_core.capture.extract import VIDEO_SUFFIXES, VideoError, keypoints_from_file
from slr_core.capture.keypoints import Keypoints
from slr_core.recognition.library import Library, LibraryError
from slr_core.recognition.streaming import sign_span

ui.page_setup("My signs")
st.title("My signs")
st.write("Teach the app a word the way **you** sign it: one of the model's signs, or any new word. "
         "Three to five examples are enough; nothing is retrained, and the other pages recognise the "
         "word at once, marked as personal.")  # fmt: skip
folder = settings.library_dir()
try:
    library = Library.open(folder)
except LibraryError as exc:
    st.error(
        f"Your library cannot be read: {exc}. Move the file away (or set SLR_LIBRARY) to start a new one."
    )
    st.stop()
st.caption(f"Library: `{library.file}` (set `SLR_LIBRARY` to keep it elsewhere)")
classifier = ui.classifier()
pending = st.session_state.setdefault("pending_examples", [])  # [(data, times, source, gif)]

st.subheader("Add examples")
word = st.text_input("Word", placeholder="e.g. hello, or a name", key="new_word").strip()
if classifier is not None and word:
    known = word in classifier.labels
    st.caption(
        f"“{word}” is {'one of the model' + chr(39) + 's signs: your examples teach it your way' if known else 'a new word for the model'}."
    )


def candidate(data, times, source: str) -> None:
    """An example to review, unless the very same one is already waiting or in the library."""
    digest = app_state.keypoints_digest(data)
    twin = next((source_ for _, _, source_, _, d in pending if d == digest), None)
    twin = twin or next((f"your library ({e.word}, from {e.source or 'an example'})" for e in library.examples
                         if app_state.keypoints_digest(e.data) == digest), None)  # fmt: skip
    if twin is not None:
        st.warning(
            f"{source} is the same clip as {twin}: it is kept once (a word needs different repetitions)."
        )
        return
    kp = Keypoints(_full_rows(data), times=times)
    pending.append((data, times, source, animation_gif(kp, caption=source[:24]), digest))


def _full_rows(data):
    """Pipeline-layout rows back into the 543-row layout, for drawing."""
    import numpy as np

    from slr_core.capture.landmarks import N_ROWS, PIPELINE_ROWS

    full = np.full((len(data), N_ROWS, 3), np.nan, np.float32)
    full[:, PIPELINE_ROWS] = data
    return full


tab_camera, tab_upload = st.tabs(["Record with the camera", "Upload clips"])
with tab_upload:
    round_ = st.session_state.setdefault("upload_round", 0)  # a new uploader (empty) after each save
    uploads = st.file_uploader("Clips of you signing the word, one sign per clip", key=f"clips{round_}",
                               type=[s.lstrip(".") for s in VIDEO_SUFFIXES], accept_multiple_files=True)  # fmt: skip
    if uploads and st.button("Cut out the signs", disabled=not word):
        for up in uploads:
            with tempfile.TemporaryDirectory(prefix="slr-mysigns-") as tmp:
                clip = Path(tmp) / f"clip{Path(up.name).suffix.lower()}"
                clip.write_bytes(up.getbuffer())
                try:
                    kp = keypoints_from_file(clip)
                except VideoError as exc:
                    st.error(str(exc).replace(str(clip), up.name))
                    continue
            if not kp.hands_present().any():
                st.warning(f"{up.name}: no hands were found")
                continue
            span = sign_span(kp.data, kp.times)
            from slr_core.capture.landmarks import PIPELINE_ROWS

            candidate(kp.data[span][:, PIPELINE_ROWS], kp.times[span] - kp.times[span][0], up.name)
with tab_camera:
    st.write("Press **START**, sign the word, lower your hands; repeat. Each sign appears below.")
    try:
        from streamlit_webrtc import WebRtcMode, webrtc_streamer

        from slr_core.app.live import Recorder

        recorder = st.session_state.setdefault("recorder", Recorder())

        def record(frame):
            import av

            out = recorder.process(frame.to_ndarray(format="rgb24"), frame.time)
            return av.VideoFrame.from_ndarray(out, format="rgb24")

        ctx = webrtc_streamer(key="my-signs-camera", mode=WebRtcMode.SENDRECV, video_frame_callback=record,
                              media_stream_constraints={"video": True, "audio": False},
                              rtc_configuration={"iceServers": settings.ice_servers()}, async_processing=True)  # fmt: skip
        got = st.empty()
        while ctx.state.playing:
            for data, times in recorder.drain():
                candidate(data, times, f"camera {time.strftime('%H:%M:%S')}")
            got.caption(f"{len(pending)} example(s) waiting below; stop the camera to review them")
            time.sleep(0.3)
        for data, times in recorder.drain():
            candidate(data, times, f"camera {time.strftime('%H:%M:%S')}")
        recorder.close()
    except Exception as exc:  # no WebRTC server behind the page (script runners, tests)
        st.info(f"The camera is not available here ({type(exc).__name__}); upload clips instead.")

if pending:
    st.subheader(f"Review {len(pending)} example(s) of “{word or '?'}”")
    keep = []
    cols = st.columns(min(len(pending), 4))
    for i, (data, _times, source, gif, _digest) in enumerate(pending):
        with cols[i % len(cols)]:
            st.image(gif, caption=f"{source}: {len(data)} frames")
            keep.append(st.checkbox("keep", value=True, key=f"keep{i}"))
    c = st.columns(2)
    if c[0].button("Save the kept examples", type="primary", disabled=not word):
        added = 0
        for (data, times, source, _, _), k in zip(pending, keep):
            if k:
                try:
                    library.add(word, data, times, source)
                    added += 1
                except LibraryError as exc:
                    st.error(str(exc))
        st.session_state["pending_examples"] = []
        st.session_state["upload_round"] += (
            1  # the saved clips leave the uploader: a second click adds nothing
        )
        st.session_state["my_signs_saved"] = f"Added {added} example(s) of “{word}”."  # shown after the rerun
        st.rerun()
    if c[1].button("Drop them all"):
        st.session_state["pending_examples"] = []
        st.session_state["upload_round"] += 1
        st.rerun()


def _model_reads(examples) -> str | None:
    """What the model alone answers for a word's examples: its most frequent first sign, how often."""
    if classifier is None:
        return None
    firsts = []
    for e in examples:
        probs = classifier.probabilities(e.data, e.times)
        if probs is not None:
            firsts.append(classifier.decide(probs).label)
    if not firsts:
        return "no hands seen"
    top = max(set(firsts), key=firsts.count)
    return f"{top} ({firsts.count(top)} of {len(examples)})"


st.subheader("Your library")
if "my_signs_saved" in st.session_state:
    st.success(st.session_state.pop("my_signs_saved"))
deleted = st.session_state.get("deleted_examples")
if deleted:
    what, examples = deleted
    c = st.columns([4, 1])
    c[0].info(f"Deleted {what}. You can bring it back while this page is open.")
    if c[1].button("Undo the delete"):
        known = {e.id for e in library.examples}
        library.examples += [e for e in examples if e.id not in known]
        library.save()
        st.session_state.pop("deleted_examples", None)
        st.session_state["my_signs_saved"] = f"Brought back {what}."
        st.rerun()
words = library.words()
if not words:
    st.info("No personal signs yet.")
else:
    stats = getattr(classifier, "stats", {}) if classifier is not None else {}
    rows = []
    for w, examples in words.items():
        s = stats.get(w)
        rows.append({
            "word": w,
            "examples": len(examples),
            "agreement": None if s is None or s.examples < 2 else round(s.agreement, 2),
            "closest other word of yours": "none (your only word)" if s is not None and s.nearest_word is None else None if s is None else f"{s.nearest_word} ({s.nearest_similarity:.2f})",
            "the model alone reads it as": _model_reads(examples),
            "movement check": None if s is None else ("on" if s.movement_threshold is not None else "off: shoulders not in view"),
            "kind": "the model's sign, your way" if classifier is not None and w in classifier.labels else "new word",
        })  # fmt: skip
        if s is not None and s.confusable:
            st.warning(
                f"“{w}” and “{s.nearest_word}” look alike in your examples: one may be taken for the other."
            )
    st.dataframe(rows, hide_index=True)
    if any(s is not None and s.movement_threshold is not None for s in stats.values()):
        st.caption(
            "Movement check: a near match is accepted when your arms move as in your examples. A sign you "
            "have not taught that moves much like one of your words (hello and thank you do) may then be "
            "taken for it: teach that sign too, and the two are told apart."
        )
    c = st.columns(3)
    gone = c[0].selectbox("Word", list(words), key="remove_word")
    asked = st.session_state.get("confirm_delete")
    if asked == gone:
        c[0].warning(f"Delete “{gone}” and its {len(words[gone])} example(s)?")
        yes, no = c[0].columns(2)
        if yes.button("Delete", type="primary", key="confirm_delete_yes"):
            removed = [e for e in library.examples if e.word == gone]
            library.remove_word(gone)
            st.session_state["deleted_examples"] = (f"“{gone}” and its {len(removed)} example(s)", removed)
            st.session_state.pop("confirm_delete", None)
            st.rerun()
        if no.button("Keep it", key="confirm_delete_no"):
            st.session_state.pop("confirm_delete", None)
            st.rerun()
    elif c[0].button("Delete this word"):
        st.session_state["confirm_delete"] = gone
        st.rerun()
    example_ids = {}
    for w, examples in words.items():
        for k, e in enumerate(examples, 1):
            example_ids[
                f"{w} · example {k} of {len(examples)} · {e.source or 'recorded'} · {len(e.data)} frames"
            ] = e.id
    one = c[1].selectbox("Example", list(example_ids), key="remove_example")
    if c[1].button("Delete this example"):
        removed_one = library.remove_example(example_ids[one])
        st.session_state["deleted_examples"] = (
            f"{one.split(' · ')[0]}: {one.split(' · ', 1)[1]}",
            [removed_one],
        )
        st.rerun()
    c[2].download_button("Export the library", library.file.read_bytes(), file_name="my-signs.safetensors")
imported = st.file_uploader("Import a library file (.safetensors)", type=["safetensors"], key="import")
if imported is not None and st.button("Import"):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "import.safetensors"
        path.write_bytes(imported.getbuffer())
        try:
            n = library.import_file(path)
            st.success(f"Imported {n} new example(s).")
        except LibraryError as exc:
            st.error(str(exc).replace(str(path), imported.name))


@st.cache_data(max_entries=32)
def _signs_listed(folder: str, mtime: float, labels: tuple[str, ...]) -> set[str]:
    from slr_core.training.finetune import signs_listed

    return signs_listed(folder, list(labels))


if words and classifier is not None:
    from slr_core.training import finetune as ft

    st.subheader("Fine-tune the model to your signs (optional)")
    st.write(
        "Your words already work without this. Fine-tuning adapts a copy of the model to your examples, "
        "which recognises your signing more often (measured in docs/accuracy.md, *Your own signs*). It takes "
        "about a minute on a laptop's processor, and it needs clips of other people's signs (a dataset), "
        "so that the model keeps its other signs. The result becomes a new model, made the active one."
    )  # fmt: skip
    tuned = classifier.loaded.meta.get("training", {}).get("personal_words")
    now = {w: len(v) for w, v in words.items()}
    if tuned is not None and tuned != now:
        st.info("The active model was fine-tuned to other examples than your library holds now "
                f"({', '.join(f'{w}: {n}' for w, n in tuned.items())}); fine-tune again to include them. "
                "Until then your new examples are recognised by similarity, as without fine-tuning.")  # fmt: skip
    datasets = app_state.datasets_by_size()
    if not datasets:
        st.info("No dataset found to fine-tune with: extract one with `slr extract` (docs/data.md).")
    else:
        try:  # the base it was fine-tuned from, loaded once (not on every rerun)
            base = ui.model_at(ft.base_of(classifier.loaded))
        except (SLRError, OSError):  # damaged or just removed: fine-tune the active model
            base = classifier.loaded
        trained_on = set(base.meta.get("training", {}).get("data", []))
        listed = {
            d: _signs_listed(str(d), (d / "train.csv").stat().st_mtime, tuple(base.labels)) for d in datasets
        }
        c = st.columns([3, 1])
        chosen = c[0].multiselect(
            "Other people's signs", list(datasets), key="finetune_data",
            default=[d for d in datasets if d.name in trained_on],
            format_func=lambda d: f"{app_state.dataset_name(d)} ({datasets[d]} clips, {len(listed[d])} of the model's signs)",
        )  # fmt: skip
        steps = int(c[1].number_input("Steps", 1, 5000, ft.STEPS, key="finetune_steps"))
        covered = set().union(*(listed[d] for d in chosen))
        if chosen and len(covered) < ft.MIN_REPLAY_SIGNS:
            st.warning(f"The chosen data holds {len(covered)} of the model's signs; fine-tuning needs clips of at "
                       f"least {ft.MIN_REPLAY_SIGNS} (e.g. the Kaggle asl-signs data, or clips extracted with "
                       "`slr extract`) to keep the others.")  # fmt: skip
        if st.button("Fine-tune", disabled=len(covered) < ft.MIN_REPLAY_SIGNS):
            bar = st.progress(0.0, f"Fine-tuning {base.name} to your {len(library)} example(s) ...")
            try:
                replay = ft.replay_sequences(chosen, base.labels)
                result = ft.finetune(base, library, replay, steps,
                                     progress=lambda i, n: bar.progress(i / n, f"step {i} of {n}"))  # fmt: skip
                folder = ft.save_finetuned(result, base, ft.default_folder(base), library, chosen)
            except (SLRError, OSError) as exc:
                st.error(f"Fine-tuning did not run: {exc}")
            else:
                ui.use_model(folder)
                st.session_state["my_signs_saved"] = (
                    f"Fine-tuned in {result.seconds:.0f} s: “{folder.parent.name}” is now the active model."
                )
                st.rerun()
