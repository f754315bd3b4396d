"""Upload a recorded clip: keypoints with a progress bar, every sign found on a timeline, the clip and
its skeleton side by side (a result's button, or a click on its bar of the timeline, plays its
span), and what the model thought when nothing passed its threshold."""

import tempfile
import time
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from slr_core.app import state as app_state
from slr_core.app import ui
from slr_core.app.viz import animation_gif
from slr_core.base import settings
from slr_core.capture.extract import VIDEO_SUFFIXES, VideoError, clip_seconds
from slr_core.capture.videofile import cut
from slr_core.recognition import exports
from slr_core.recognition.streaming import clip_guess, recognize_clip

ACCEPTED = [s.lstrip(".") for s in VIDEO_SUFFIXES]
PICK = "pick"  # the timeline's click selection

ui.page_setup("Upload clip")
st.title("Upload a clip")
st.write(f"A recorded video of one or more signs ({', '.join(ACCEPTED)}). The clip is processed in a "
         "temporary folder on this server and deleted right after.")  # fmt: skip


def analyse(upload, classifier, bar) -> dict:
    """Keypoints and signs of an uploaded file, processed in a temporary folder removed afterwards."""
    suffix = Path(upload.name).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        return {"error": f"{upload.name}: not a video type this app reads ({', '.join(ACCEPTED)})"}

    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        left = (time.monotonic() - started) / max(done, 1) * max(total - done, 0)
        bar.progress(min(done / max(total, 1), 1.0),
                     text=f"Keypoints: frame {done} of {total}" + (f", about {left:.0f} s left" if done > 5 else ""))  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="slr-upload-") as tmp:
        clip = Path(tmp) / f"clip{suffix}"  # never the user's file name: no path tricks
        clip.write_bytes(upload.getbuffer())
        try:
            seconds, limit = clip_seconds(clip), settings.max_clip_seconds()
            if seconds > limit:
                return {"error": f"{upload.name} is {seconds / 60:.1f} minutes long; this server takes clips of up to "
                        f"{limit / 60:.0f} minutes (SLR_MAX_CLIP_S). Cut it into parts, or use `slr predict`."}  # fmt: skip
            found = recognize_clip(clip, classifier, progress=progress, max_fps=settings.clip_fps(),
                                   processes=settings.clip_processes())  # fmt: skip
        except VideoError as exc:
            return {"error": str(exc).replace(str(clip), upload.name)}
        except Exception as exc:  # keep the page usable whatever the file does to a decoder
            return {"error": f"{upload.name} could not be processed ({type(exc).__name__})"}
    guess = None if found.events else clip_guess(found.keypoints, classifier)
    return {"kp": found.keypoints, "events": found.events, "name": upload.name, "error": None, "guess": guess}


def hand_spans(kp) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of frames with a hand in view."""
    present = kp.hands_present().astype(np.int8)
    edges = np.flatnonzero(np.diff(np.r_[0, present, 0]))
    return [(float(kp.times[a]), float(kp.times[b - 1])) for a, b in zip(edges[::2], edges[1::2])]


COLOURS = {"hands in view": "#b0b0b0", "sign": "#1f77b4", "your sign": "#ff7f0e"}  # the same on every clip


def timeline(kp, events) -> alt.Chart:
    """Where the hands are in view (grey) and each sign found (blue; your own signs orange), named on
    its bar, over the clip's time."""
    rows = [
        {"row": "hands in view", "from": a, "to": max(b, a + 0.03), "what": "hands in view", "name": ""}
        for a, b in hand_spans(kp)
    ]
    rows += [
        {"row": "signs", "from": e.start, "to": max(e.end, e.start + 0.03),
         "what": "your sign" if e.personal else "sign", "name": e.label}
        for e in events
    ]  # fmt: skip
    scale = alt.Scale(domain=[0, max(kp.duration, 0.1)])
    base = alt.Chart(pd.DataFrame(rows)).encode(
        x=alt.X("from:Q", title="seconds", scale=scale), y=alt.Y("row:N", title=None)
    )
    colour = alt.Color(
        "what:N", scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values())), legend=None
    )
    bars = (
        base.mark_bar(height=18, cursor="pointer")
        .encode(x2="to:Q", color=colour, tooltip=["name", "what", "from", "to"])
        .add_params(alt.selection_point(name=PICK, fields=["from", "to"], on="click"))
    )
    names = base.mark_text(align="left", dx=3, dy=-14, fontSize=11).encode(text="name:N")
    return alt.layer(bars, names).properties(height=150)  # the whole chart: its axis takes about 80 px


def picked_span(event, last) -> tuple[tuple[float, float] | None, object]:
    """The (from, to) of a bar newly clicked on the timeline, and what to remember as seen: a click
    plays its span once; the chart keeps its selection, which must not undo a later ▶ button."""
    chosen = (event or {}).get("selection", {}).get(PICK) or []
    now = (float(chosen[0]["from"]), float(chosen[0]["to"])) if chosen else None
    return (now if now is not None and now != last else None), now


def span_clip(upload, start: float, end: float, *_) -> bytes:
    """A sign's span of the uploaded clip on its own (an mp4 made once per span, in a temporary folder)."""
    made = st.session_state.setdefault("span_clips", {})
    key = (upload.name, upload.size, round(start, 2), round(end, 2))
    if key not in made:
        with tempfile.TemporaryDirectory(prefix="slr-span-") as tmp:
            src = Path(tmp) / f"clip{Path(upload.name).suffix.lower()}"
            src.write_bytes(upload.getbuffer())
            made.clear()  # one span at a time is kept
            made[key] = cut(src, start, end, Path(tmp) / "span.mp4").read_bytes()
    return made[key]


def kp_aspect(kp) -> float:
    """The clip's height over its width (1 when not known)."""
    w, h = kp.meta.get("width"), kp.meta.get("height")
    return float(h) / float(w) if w and h else 1.0


def show_guess(guess, threshold: float) -> None:
    """What the model thought of a clip where nothing passed the threshold."""
    st.info(f"Hands were found, but no sign was recognised with enough confidence (the model accepts a "
            f"sign at {threshold:.0%} or more). What it thought:")  # fmt: skip
    if guess is not None and guess.unknown > guess.probability:
        st.write(f"Most likely a movement outside its vocabulary ({guess.unknown:.0%}); the closest signs:")
    if guess is not None:
        st.dataframe([{"sign": n, "probability": f"{p:.1%}"} for n, p in guess.top5], hide_index=True)


DOWNLOADS = (("eaf", "ELAN (.eaf)", "the signs, their top-5 and the sentence as tiers, linked to the clip"),
             ("srt", "Captions (.srt)", "SubRip: each sign as it occurs, then the sentence"),
             ("vtt", "Captions (.vtt)", "WebVTT: each sign as it occurs, then the sentence"),
             ("json", "JSON", "every sign with its time span, confidence and top-5"),
             ("pose", "Keypoints (.pose)", "the keypoints in the pose-format file of the sign-language tools"))  # fmt: skip


def downloads(result: dict, classifier) -> None:
    """What was found, in the formats other tools read (each file made when its button is pressed)."""
    if "found" not in result:
        events = result["events"]
        sentence = ui.composer()[0].compose([e.label for e in events], n=1).text if events else ""
        result["found"] = exports.Found(events, result["kp"], result["name"], sentence,
                                        classifier.loaded.name if classifier else "")  # fmt: skip
    found, stem = result["found"], Path(result["name"]).stem or "clip"
    st.caption("Download what was found:")
    for col, (fmt, label, what) in zip(st.columns(len(DOWNLOADS)), DOWNLOADS):
        col.download_button(label, data=lambda fmt=fmt: exports.data(found, fmt), file_name=f"{stem}.{fmt}",
                            mime=exports.MIME[fmt], help=what, key=f"download_{fmt}", on_click="ignore")  # fmt: skip


classifier = ui.classifier()
# A file that was refused leaves the uploader (a new key empties it), so the next one is not shown beside it.
upload = st.file_uploader("Video clip", type=ACCEPTED, accept_multiple_files=False,
                          key=f"clip_upload_{st.session_state.get('upload_round', 0)}")  # fmt: skip
if upload is not None and classifier is not None:
    key = (upload.name, upload.size, str(classifier.loaded.path))
    if st.session_state.get("upload_key") != key:
        st.session_state.pop("upload_play", None)  # a span chosen in the last clip is not this one's
        bar = st.progress(0.0, text="Finding hands, lips and arms ...")
        st.session_state["upload_result"] = analyse(upload, classifier, bar)
        st.session_state["upload_key"] = key
        bar.empty()

result = st.session_state.get("upload_result") if upload is not None else None
refused = st.session_state.pop("upload_refused", None)
if refused:
    st.error(refused)
if result:
    if result.get("error"):
        st.session_state["upload_refused"] = result["error"]  # said again after the uploader empties
        st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
        st.session_state.pop("upload_result", None)
        st.session_state.pop("upload_key", None)
        st.rerun()
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
                show_guess(result.get("guess"), classifier.threshold if classifier else 0.0)
        else:
            st.subheader(f"{len(events)} sign{'s' if len(events) != 1 else ''} found")
            st.dataframe(
                [
                    {
                        "from (s)": f"{e.start:.2f}",
                        "to (s)": f"{e.end:.2f}",
                        "sign": e.label + (" (personal)" if e.personal else ""),
                        "confidence": app_state.confidence_text(e.confidence, e.personal),
                        "top-5": app_state.top5_text(e.top5, e.personal),
                    }
                    for e in events
                ],
                hide_index=True,
            )
            cols = st.columns(len(events) + 1)
            if cols[0].button("Add all to keywords", type="primary"):
                ui.add_keywords([app_state.event_keyword(e.label, e.top5) for e in events])
                st.success(f"Added: {', '.join(e.label for e in events)}")
            for i, e in enumerate(events, start=1):
                if cols[i].button(f"Add “{e.label}”", key=f"add{i}"):
                    ui.add_keywords([app_state.event_keyword(e.label, e.top5)])
                    st.success(f"Added: {e.label}")
            cols = st.columns(len(events) + 1)
            cols[0].caption("Play a sign's span:")
            for i, e in enumerate(events, start=1):
                if cols[i].button(f"▶ {e.label} at {e.start:.1f} s", key=f"play{i}"):
                    st.session_state["upload_play"] = (result["name"], e.start, e.end, e.label)
        downloads(result, classifier)
        if hands:
            st.caption("Click a bar of the timeline to play that part of the clip.")
            event = st.altair_chart(timeline(kp, events), width="stretch", on_select="rerun", key="timeline")
            span, st.session_state["timeline_seen"] = picked_span(
                event, st.session_state.get("timeline_seen")
            )
            if span is not None:
                st.session_state["upload_play"] = (result["name"], *span)
        play = st.session_state.get("upload_play")
        span = play[1:] if play and play[0] == result["name"] else None
        left, right = st.columns(2)
        if span is None:
            # the uploader still holds the file (a result is shown only while it does): no copy of it here
            left.video(upload, format=upload.type or "video/mp4")
            left.caption("The clip")
        else:
            left.video(span_clip(upload, *span), format="video/mp4", autoplay=True)
            left.caption(
                f"The clip, from {span[0]:.1f} s to {span[1]:.1f} s"
                + (f" ({span[2]})" if len(span) > 2 else "")
            )
            if left.button("Show the whole clip"):
                st.session_state.pop("upload_play", None)
                st.rerun()
        if hands:
            if "gif" not in result:  # drawn once per clip, not on every rerun
                with st.spinner("Drawing the skeleton ..."):
                    result["gif"] = animation_gif(
                        kp, size=480, caption=result["name"][:30], aspect=kp_aspect(kp)
                    )
            right.image(result["gif"], caption="Its skeleton, as the model sees it", width="stretch")
elif classifier is None:
    st.stop()
