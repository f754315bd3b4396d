"""Translate: the collected keywords, editable, into an English sentence."""

import streamlit as st

from slr_core.app import state as app_state
from slr_core.app import ui

ui.page_setup("Translate")
st.title("Translate")
composer, why = ui.composer()
st.caption(f"Sentence composer: **{composer.name}**" + (f". {why}." if why else "."))
if why:
    with st.expander("Use FLAN-T5 for better sentences"):
        st.markdown(
            "Without FLAN-T5 weights the sentence comes from rules. To add them, either:\n\n"
            "* on a machine with internet, press the button below (it downloads `google/flan-t5-small`, "
            "about 300 MB, into the Hugging Face cache), or\n"
            "* run `huggingface-cli download google/flan-t5-small` and copy `~/.cache/huggingface` here, or\n"
            "* save any FLAN-T5 with `save_pretrained` to a folder and start the app with "
            "`SLR_T5_PATH=/that/folder make run`."
        )
        if st.button("Download FLAN-T5 now"):
            from slr_core.language.sentence import download_t5

            bar = st.progress(0.0, text="Downloading FLAN-T5 ...")
            got, problem = download_t5(progress=lambda done, total: bar.progress(
                min(done / total, 1.0), text=f"Downloading FLAN-T5: {done / 1e6:.0f} of {total / 1e6:.0f} MB"))  # fmt: skip
            bar.empty()
            if got:
                ui.composer.clear()
                st.success(f"{got} is ready.")
                st.rerun()
            else:
                st.error(f"The download did not work: {problem}. The rule-based composer stays in use.")

words = ui.keywords()
st.subheader("Keywords")
if not words:
    st.info("No keywords yet. Recognise signs on the Live camera or Upload pages, classify a dataset "
            "sample, or type a word below.")  # fmt: skip
for i, w in enumerate(words):
    c = st.columns([6, 1, 1, 1])
    c[0].markdown(f"**{i + 1}.** {w}")
    if c[1].button("↑", key=f"up{i}", disabled=i == 0, help="move up"):
        ui.set_keywords(app_state.move_keyword(words, i, -1))
        st.rerun()
    if c[2].button("↓", key=f"down{i}", disabled=i == len(words) - 1, help="move down"):
        ui.set_keywords(app_state.move_keyword(words, i, 1))
        st.rerun()
    if c[3].button("✕", key=f"del{i}", help="remove"):
        ui.set_keywords(app_state.remove_keyword(words, i))
        st.rerun()

with st.form("add_word", clear_on_submit=True):
    c = st.columns([6, 2])
    typed = c[0].text_input("Add a word", placeholder="e.g. mom", label_visibility="collapsed")
    if c[1].form_submit_button("Add word") and typed.strip():
        ui.add_keywords([typed])
        st.rerun()

c = st.columns([2, 2, 6])
translate = c[0].button("Translate", type="primary", disabled=not words)
if c[1].button("Clear keywords", disabled=not words):
    ui.set_keywords([])
    st.rerun()

if translate:
    try:
        with st.spinner("Composing ..."):
            sentence = composer.compose(words)
        st.session_state["history"].insert(0, {"keywords": " ".join(words), "sentence": sentence.text,
                                               "composer": sentence.composer, "note": sentence.note})  # fmt: skip
    except Exception as exc:  # a broken model must not take the page down
        st.error(f"The sentence could not be composed ({type(exc).__name__}: {exc}).")

history = st.session_state.get("history", [])
if history:
    latest = history[0]
    st.subheader("Sentence")
    if latest["keywords"] != " ".join(words):
        st.markdown(f"### ~~{latest['sentence'] or '…'}~~")
        st.caption("The keywords have changed since this sentence was made: press Translate again.")
    else:
        st.markdown(f"### {latest['sentence'] or '…'}")
    st.caption(f"made by {latest['composer']}" + (f"; {latest['note']}" if latest["note"] else ""))
    if len(history) > 1:
        st.subheader("Earlier in this session")
        st.dataframe(history[1:], hide_index=True)
