"""Translate: the collected keywords, editable, into an English sentence."""

import streamlit as st

from slr_core import app_state, ui

ui.page_setup("Translate", "💬")
st.title("💬 Translate")
composer, why = ui.composer()
st.caption(f"Sentence composer: **{composer.name}**" + (f". {why}." if why else "."))

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
    st.markdown(f"### {latest['sentence'] or '…'}")
    st.caption(f"made by {latest['composer']}" + (f"; {latest['note']}" if latest["note"] else ""))
    if len(history) > 1:
        st.subheader("Earlier in this session")
        st.dataframe(history[1:], hide_index=True)
