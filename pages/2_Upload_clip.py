"""Upload a recorded clip: keypoints with a progress bar, every sign found, a skeleton animation."""

import tempfile
from pathlib import Path

import streamlit as st

from slr_core import ui
from slr_core.extract import VIDEO_SUFFIXES, VideoError
from slr_core.streaming import recognize_clip
from slr_core.viz import animation_gif

ACCEPTED = [s.lstrip(".") for s in VIDEO_SUFFIXES]

ui.page_setup("Upload clip", "🎞️")
st.title("🎞️ Upload a clip")
st.write(f"A recorded video of one or more signs ({', '.join(ACCEPTED)}). The clip is processed in a "
         "temporary folder on this server and deleted right after.")  # fmt: skip


def analyse(upload, classifier, bar) -> dict:
    """Keypoints and signs of an uploaded file, processed in a temporary folder removed afterwards."""
    suffix = Path(upload.name).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        return {"error": f"{upload.name}: not a video type this app reads ({', '.join(ACCEPTED)})"}

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"Keypoints: frame {done} of {total}")

    with tempfile.TemporaryDirectory(prefix="slr-upload-") as tmp:
        clip = Path(tmp) / f"clip{suffix}"  # never the user's file name: no path tricks
        clip.write_bytes(upload.getbuffer())
        try:
            found = recognize_clip(clip, classifier, progress=progress)
        except VideoError as exc:
            return {"error": str(exc).replace(str(clip), upload.name)}
        except Exception as exc:  # keep the page usable whatever the file does to a decoder
            return {"error": f"{upload.name} could not be processed ({type(exc).__name__})"}
    return {"kp": found.keypoints, "events": found.events, "name": upload.name, "error": None}


classifier = ui.classifier()
upload = st.file_uploader("Video clip", type=ACCEPTED, accept_multiple_files=False)
if upload is not None and classifier is not None:
    key = (upload.name, upload.size, str(classifier.loaded.path))
    if st.session_state.get("upload_key") != key:
        bar = st.progress(0.0, text="Finding hands, lips and arms ...")
        st.session_state["upload_result"] = analyse(upload, classifier, bar)
        st.session_state["upload_key"] = key
        bar.empty()

result = st.session_state.get("upload_result") if upload is not None else None
if result:
    if result.get("error"):
        st.error(result["error"])
    else:
        kp, events = result["kp"], result["events"]
        hands = int(kp.hands_present().sum())
        st.caption(f"{result['name']}: {len(kp)} frames, {kp.duration:.1f} s; hands seen in {hands} frames.")
        if kp.meta.get("warning"):
            st.warning(kp.meta["warning"])
        if not events:
            if hands == 0:
                st.warning("No hands were found in this clip, so there is nothing to recognise. Make sure "
                           "the signer's hands are in the picture.")  # fmt: skip
            else:
                st.info("Hands were found, but no sign was recognised with enough confidence.")
        else:
            st.subheader(f"{len(events)} sign(s) found")
            st.dataframe(
                [
                    {
                        "from (s)": round(e.start, 2),
                        "to (s)": round(e.end, 2),
                        "sign": e.label + (" (personal)" if e.personal else ""),
                        "confidence": f"{e.confidence:.0%}",
                        "top-5": ", ".join(f"{n} {p:.0%}" for n, p in e.top5),
                    }
                    for e in events
                ],
                hide_index=True,
            )
            cols = st.columns(len(events) + 1)
            if cols[0].button("Add all to keywords", type="primary"):
                ui.add_keywords([e.label for e in events])
                st.success(f"Added: {', '.join(e.label for e in events)}")
            for i, e in enumerate(events, start=1):
                if cols[i].button(f"Add “{e.label}”", key=f"add{i}"):
                    ui.add_keywords([e.label])
                    st.success(f"Added: {e.label}")
        if hands:
            if "gif" not in result:  # drawn once per clip, not on every rerun
                with st.spinner("Drawing the skeleton ..."):
                    result["gif"] = animation_gif(kp, caption=result["name"][:30])
            st.image(result["gif"], caption="Skeleton of the clip")
elif classifier is None:
    st.stop()
