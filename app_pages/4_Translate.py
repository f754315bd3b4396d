"""Translate: the collected keywords, editable, into an English sentence."""

import streamlit as st

from slr_core.app import state as app_state
from slr_core.app import ui
from slr_core.base.text import MAX_TYPED_WORDS, MAX_WORD_CHARS, phrase_words

ui.page_setup("Translate")
st.title("Translate")
composer, why = ui.composer()
st.caption(f"Sentence composer: **{composer.name}**" + (f". {why[:1].upper()}{why[1:]}." if why else "."))
if why:
    with st.expander("Add FLAN-T5"):
        st.markdown(
            "Without FLAN-T5 weights the sentences come from rules (measured in docs/sentences.md). "
            "FLAN-T5, the model the design names, is used first wherever its weights are. To add them, either:\n\n"
            "* on a machine with internet, press the button below (it downloads `google/flan-t5-small`, "
            "about 300 MB, into the Hugging Face cache), or\n"
            "* run `huggingface-cli download google/flan-t5-small` and copy `~/.cache/huggingface` here, or\n"
            "* save any FLAN-T5 with `save_pretrained` to a folder and start the app with "
            "`SLR_T5_PATH=/that/folder make run`."
        )
        online, offline_why = ui.hub_reachable()
        if st.button("Download FLAN-T5 now", disabled=not online, help=None if online else offline_why):
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
                st.error(
                    "The download did not work, so the rules stay in use. " + problem.split(" (")[0] + "."
                )
        if not online:
            st.caption(f"Downloading is not possible here: {offline_why}.")

entries = ui.keywords()
words = [app_state.keyword_word(e) for e in entries]
st.subheader("Keywords")
if not entries:
    st.info("No keywords yet. Recognise signs on the Live camera or Upload pages, classify a dataset "
            "sample, or type words below.")  # fmt: skip
for i, entry in enumerate(entries):
    word, alts = app_state.entry_parts(entry)
    c = st.columns([6, 1, 1, 1])
    c[0].markdown(f"**{i + 1}.** {word}" + (f"  <span style='color:gray'>(or {', '.join(alts)})</span>" if alts else ""),
                  unsafe_allow_html=True)  # fmt: skip
    if c[1].button("↑", key=f"up{i}", disabled=i == 0, help="move up"):
        ui.set_keywords(app_state.move_keyword(entries, i, -1))
        st.rerun()
    if c[2].button("↓", key=f"down{i}", disabled=i == len(entries) - 1, help="move down"):
        ui.set_keywords(app_state.move_keyword(entries, i, 1))
        st.rerun()
    if c[3].button("✕", key=f"del{i}", help="remove"):
        ui.set_keywords(app_state.remove_keyword(entries, i))
        st.rerun()
if any(app_state.entry_parts(e)[1] for e in entries):
    st.caption("A sign in grey parentheses looked like others too: the composer may read one of those "
               "where it makes the sentence sensible, and says so.")  # fmt: skip

with st.form("add_word", clear_on_submit=True):
    c = st.columns([6, 2])
    typed = c[0].text_input("Add words", placeholder="e.g. mom, or: yesterday grandma cook food",
                            label_visibility="collapsed")  # fmt: skip
    if c[1].form_submit_button("Add") and typed.strip():
        kept, left = phrase_words(typed)
        ui.add_keywords(kept)  # one keyword per word, never cut inside one
        if left:
            st.session_state["_left_out"] = left
        st.rerun()
left_out = st.session_state.pop("_left_out", None)
if left_out:
    st.warning(f"Left out of what you typed: {' '.join(left_out[:10])}" + (" ..." if len(left_out) > 10 else "")
               + f" (at most {MAX_TYPED_WORDS} words at once, each at most {MAX_WORD_CHARS} letters long).")  # fmt: skip

c = st.columns([2, 2, 6])
translate = c[0].button("Translate", type="primary", disabled=not entries)
if c[1].button("Clear keywords", disabled=not entries):
    ui.set_keywords([])
    st.rerun()

if translate:
    try:
        with st.spinner("Composing ..."):
            sentence = composer.compose(app_state.as_keywords(entries), n=3)
        options = [t for t in [sentence.text, *sentence.alternatives] if t]
        st.session_state["history"].insert(0, {"keywords": " ".join(words), "sentence": sentence.text,
                                               "options": options, "reads": sentence.reads,
                                               "composer": sentence.composer, "note": sentence.note})  # fmt: skip
        st.session_state.pop("sentence_choice", None)
    except Exception as exc:  # a broken model must not take the page down
        st.error(f"The sentence could not be composed ({type(exc).__name__}: {exc}).")

OWN = "Write it my way"
history = st.session_state.get("history", [])
if history:
    latest = history[0]
    st.subheader("Sentence")
    if latest["keywords"] != " ".join(words):
        st.markdown(f"### ~~{latest['sentence'] or '…'}~~")
        st.caption("The keywords have changed since this sentence was made: press Translate again.")
    else:
        options = latest.get("options") or [latest["sentence"]]
        if "sentence_choice" not in st.session_state:  # back on the page: the pick made before, not the first
            st.session_state["sentence_choice"] = latest["sentence"] if latest["sentence"] in options else OWN
        pick = st.radio(
            "The sentences that fit best: pick the one you mean", [*options, OWN], key="sentence_choice"
        )
        if pick == OWN:
            own = st.text_input("Your sentence", value=latest["sentence"], key="own_sentence")
            if st.button("Keep my sentence") and own.strip():
                latest["sentence"] = own.strip()
        elif pick:
            latest["sentence"] = pick
        st.markdown(f"### {latest['sentence'] or '…'}")
        for read in latest.get("reads", []):
            st.caption(f"The composer {read} here: it looked alike and made more sense.")
    st.caption(f"made by {latest['composer']}" + (f"; {latest['note']}" if latest["note"] else ""))
    if len(history) > 1:
        st.subheader("Earlier in this session")
        st.dataframe(
            [{k: h[k] for k in ("keywords", "sentence", "composer")} for h in history[1:]], hide_index=True
        )
