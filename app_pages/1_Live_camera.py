"""Live camera: signs recognised from the webcam as they happen, joining the keywords.

The browser streams the camera over WebRTC (streamlit-webrtc); each frame goes through MediaPipe,
the streaming recogniser and the skeleton overlay in a worker thread (slr_core.live), which never
touches Streamlit. This script thread drains the recognised signs and shows them.
"""

import time

import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from slr_core.app import state as app_state
from slr_core.app import ui
from slr_core.app.live import LiveSession, make_video_callback
from slr_core.base import settings
from slr_core.recognition.events import merge_repeats

REFRESH_S = 0.2

ui.page_setup("Live camera")
st.title("Live camera")
st.write("Press **START**, allow the camera, and sign with your hands in view. Lower your hands (or "
         "pause) between signs: each recognised sign appears below and joins the keywords.")  # fmt: skip

classifier = ui.classifier()
if classifier is None:
    st.stop()
MODES = {"signs": "Signs", "spelling": "Fingerspelling", "auto": "Both (automatic)"}
mode = st.radio("Recognise", list(MODES), format_func=MODES.get, horizontal=True, key="live_mode",
                help="Fingerspelling: hold each letter a moment; lower the hand to end the word")  # fmt: skip
letters = ui.letter_model() if mode != "signs" else None
if mode != "signs" and letters is None:
    mode = "signs"
with st.expander("Which signs can it recognise?"):
    library = getattr(classifier, "library", None)
    rows = app_state.vocabulary(classifier.loaded.meta, list(library.words()) if library is not None else [])
    many = [f"{r['sign']} ({r['people']})" for r in sorted(rows, key=lambda r: -r["people"])
            if r["people"] >= app_state.MANY_PEOPLE and "your own" not in r["learned from"]]  # fmt: skip
    few = [f"{r['sign']} ({r['people']})" for r in rows
           if 1 < r["people"] < app_state.MANY_PEOPLE and "your own" not in r["learned from"]]  # fmt: skip
    one = sum(r["learned from"].startswith(app_state.ONE_CLIP) for r in rows)
    none = [r["sign"] for r in rows if r["learned from"] == app_state.NO_DATA]
    mine = sum("your own examples" in r["learned from"] for r in rows)
    st.markdown(f"**{len(rows)}** signs. Learned from many people (recognised best; people in brackets): "
                f"{', '.join(many) or 'none'}."
                + (f" From 2 people: {', '.join(few)} (expect them to work less often)." if few else "")
                + (f" {one} {'was' if one == 1 else 'were'} learned from one studio clip each: for a new signer "
                   "they are suggestions; teach your own way of signing them on the **My signs** page." if one else "")
                + (f" {len(none)} had no usable training clip, so it cannot recognise them: {', '.join(none)}." if none else "")
                + (f" {mine} {'is' if mine == 1 else 'are'} yours (your own examples)." if mine else ""))  # fmt: skip
    query = st.text_input("Search the signs", key="vocab_search").strip().lower()
    found = [r for r in rows if query in r["sign"].lower()]
    st.caption(
        f"{len(found)} of {len(rows)} signs"
    )  # (also keeps the table's toolbar clear of the search box)
    st.dataframe(found, hide_index=True, height=240)
try:
    ice = settings.ice_servers()
except ValueError as exc:
    st.error(str(exc))
    ice = []

# One LiveSession per browser session and model (it holds MediaPipe while the camera runs).
session = st.session_state.get("live_session")
if session is None or session.classifier is not classifier or session.mode != mode:
    if session is not None:
        session.close()
    session = LiveSession(classifier, letters=letters, mode=mode)
    st.session_state["live_session"] = session
st.session_state.setdefault("live_events", [])

# A cap on live sessions per server: beyond it a clear message instead of every session slowing.
others, cap = session.budget.active(besides=session), settings.max_live_sessions()
if others >= cap and not session.active:
    st.warning(f"The server is busy: {others} live camera session(s) are running, as many as it takes at once "
               f"(SLR_MAX_LIVE_SESSIONS={cap}). Try again in a moment, or use the **Upload clip** page.")  # fmt: skip
    st.button("Try again")
    st.stop()

try:
    ctx = webrtc_streamer(
        key="live-camera",
        mode=WebRtcMode.SENDRECV,
        video_frame_callback=make_video_callback(session),
        media_stream_constraints={
            "video": {"width": {"ideal": 640}, "height": {"ideal": 480}},
            "audio": False,
        },
        rtc_configuration={"iceServers": ice},
        async_processing=True,  # the newest frame is processed, older ones dropped: never falls behind
    )
except Exception as exc:  # e.g. no Streamlit server behind the page (script runners, tests)
    st.error(f"The camera component could not start here ({type(exc).__name__}). Run the app with "
             "`make run` and open it in a browser.")  # fmt: skip
    st.stop()

stats_box = st.empty()
signs_box = st.empty()


def render(playing: bool) -> None:
    events = st.session_state["live_events"]
    snap = session.snapshot()
    if playing:
        stats_box.caption(f"{snap['fps']:.1f} frames processed per second · {snap['frames']} frames, "
                          f"hands in {snap['hand_frames']} · {snap['last_ms']:.0f} ms per frame"
                          + (f" · spelling: {snap['spelling'].upper()}" if snap["spelling"] else ""))  # fmt: skip
        if snap["behind"]:
            stats_box.warning(
                f"This computer is behind: {snap['last_ms']:.0f} ms per frame, so frames are skipped (the "
                "picture stays live, but quick signs may be missed). Closing other programs or tabs helps."
            )
    elif snap["frames"]:
        stats_box.caption(
            f"Camera stopped · {snap['frames']} frames processed, hands in {snap['hand_frames']}"
        )
    with signs_box.container():
        if events:
            st.subheader("Recognised")
            if len(events) > 10:
                st.caption(f"The last 10 of {len(events)} signs, the newest first.")
            for e in reversed(events[-10:]):
                kind = " · fingerspelled" if e.spelled else " · personal" if e.personal else ""
                st.markdown(f"**{e.label}**{kind} · {app_state.confidence_text(e.confidence, e.personal)} · {e.start:.1f}-{e.end:.1f} s  "
                            f"<span style='color:gray'>({', '.join(n for n, _ in e.top5[1:4])})</span>",
                            unsafe_allow_html=True)  # fmt: skip
        else:
            st.caption("No sign recognised yet.")
        st.markdown("Keywords: " + (" · ".join(ui.keyword_words()) or "_none yet_"))
        sentence = ui.sentence_so_far()
        if sentence is not None and sentence.text:
            st.markdown(f"Sentence so far: **{sentence.text}**")
            st.caption(f"by {sentence.composer}" + "".join(f"; {r}" for r in sentence.reads))


added = st.session_state.setdefault("live_keywords_added", 0)  # keywords this page added, the latest last
# While the camera runs, signs arrive after these buttons are drawn (the loop below adds them without a
# rerun), so the buttons stay usable then; a press reruns the page with what the loop has added so far.
playing = bool(ctx.state.playing)
c = st.columns(3)
if c[0].button("Undo the last sign", disabled=not added and not playing,
               help="remove the last sign recognised from the keywords"):  # fmt: skip
    added = st.session_state["live_keywords_added"]
    if added:
        ui.set_keywords(ui.keywords()[:-1])
        st.session_state["live_events"] = st.session_state["live_events"][:-1]
        st.session_state["live_keywords_added"] = added - 1
        st.rerun()
    st.toast("No sign to undo yet.")
if c[1].button("Clear recognised signs", disabled=not st.session_state["live_events"] and not playing,
               help="the list below and the keywords it added"):  # fmt: skip
    added = st.session_state["live_keywords_added"]
    ui.set_keywords(ui.keywords()[: max(len(ui.keywords()) - added, 0)])
    st.session_state["live_events"], st.session_state["live_keywords_added"] = [], 0
    st.rerun()
c[2].page_link(ui.PAGE["Translate"].path, label="Edit the keywords", icon=ui.PAGE["Translate"].icon)

if ctx.state.playing:
    while ctx.state.playing:
        new = session.drain()
        fresh = merge_repeats(st.session_state["live_events"], new) if new else []
        if fresh:
            ui.add_keywords([app_state.event_keyword(e.label, e.top5) for e in fresh])  # and the cookie
            st.session_state["live_keywords_added"] += len(fresh)
        render(True)
        time.sleep(REFRESH_S)
else:
    session.close()
    render(False)
with st.expander("Camera does not start?"):
    st.markdown(
        "The camera needs a secure page: `localhost`, or HTTPS. Beyond your own network, WebRTC may "
        "also need a STUN/TURN server: set `SLR_ICE_SERVERS` (see docs/self-hosting.md)."
    )
