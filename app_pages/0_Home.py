"""The home page: what the app does, links to every page, the active model and what a new signer
can expect from it, the machine and the sentence composer. app.py runs it by default."""

import platform

import streamlit as st

from slr_core.app import state as app_state
from slr_core.app import ui
from slr_core.recognition.predict import model_bank

ui.page_setup("Home")
st.title("Sign-language recognition")
st.write(
    "Sign in front of your webcam or upload a clip: MediaPipe finds your hands, face and arms, a "
    "model recognises the signs (250 signs of the Kaggle ASL vocabulary, plus the words you teach it "
    "yourself), fingerspelled names are read letter by letter, the signs pile up as keywords, and one "
    "click turns them into an English sentence."
)
st.markdown(
    "**Start here:** open **Live camera**, press START, allow the camera and sign with your hands and "
    "shoulders in view, lowering your hands between signs; or **Upload a clip** you recorded. Each sign "
    "recognised becomes a keyword; **Translate** turns them into a sentence. If a sign you use is not "
    "recognised, teach it your way on **My signs** (3 clips of you signing it)."
)
LINKS = (("Live camera", "Live camera"), ("Upload clip", "Upload a clip"), ("Translate", "Translate keywords"),
         ("My signs", "Teach your own signs"), ("Dataset explorer", "Dataset explorer"), ("Train", "Train a model"))  # fmt: skip
for row in (LINKS[:3], LINKS[3:]):
    for col, (title, label) in zip(st.columns(3), row):
        col.page_link(ui.PAGE[title].path, label=label, icon=ui.PAGE[title].icon)

st.subheader("Active model")
loaded = ui.active_model()
if loaded is not None:
    m = loaded.meta.get("metrics", {})
    signs = [x for x in loaded.labels if not x.startswith("_")]
    open_set, threshold = m.get("open_set", {}), loaded.threshold
    bank, _ = model_bank(loaded)  # read once per model, as the recogniser reads it
    if bank is not None and bank.meta.get("validation"):  # the app recognises with the bank: its figures
        open_set, threshold = bank.meta["validation"]["with_bank"], bank.threshold or threshold
    st.markdown(
        f"**{loaded.name}**: {app_state.coverage(loaded.meta)}"
        + (", and it turns away movements that are none of them" if len(signs) < len(loaded.labels) else "")
        + f". It answers only when it is at least {threshold:.0%} sure (its rejection threshold)"
        + (
            f"; beside its network, a bank of {len(bank):,} examples of people's signs votes."
            if bank is not None
            else "."
        )
    )
    for note in loaded.notes:
        st.warning(note)
    tuned = loaded.meta.get("training", {})
    if tuned.get("finetuned_from"):
        words = ", ".join(f"{w} ({n})" for w, n in tuned.get("personal_words", {}).items())
        st.caption(f"Fine-tuned from {tuned['finetuned_from']} to your examples: {words} "
                   f"({tuned.get('finetune_steps')} steps, {tuned.get('finetune_seconds')} s): it is adapted to you. "
                   "What other new signers can expect is measured for the model it came from (pick that one "
                   "in the sidebar to see it).")  # fmt: skip
    new = m.get("new_signers", {})
    if new:
        st.markdown(
            "**What a new signer can expect**: measured with models of this recipe on people they never saw "
            "(averaged over the ways of setting people aside where there are several; each figure's help says "
            "which people, clips and protocol):"
        )
        cells = []
        if "webcam_top1" in new:
            cells.append(("new webcam users: right first", f"{new['webcam_top1']:.0%}",
                          f"{new.get('webcam_signs', '')}. {new.get('webcam_how', '')}"))  # fmt: skip
        cells.append(("hello and thankyou (many signers): right first", f"{new['many_signers_top1']:.0%}",
                      new.get("many_signers_how", "")))  # fmt: skip
        cells.append(("signs from one clip: first / top 5",
                      f"{new['one_clip_top1']:.0%} / {new['one_clip_top5']:.0%}", new.get("one_clip_how", "")))  # fmt: skip
        cells.append(
            ("words outside the vocabulary turned away", f"{new['oov_rejected']:.0%}", new.get("oov_how", ""))
        )
        for col, (label, value, how) in zip(st.columns(len(cells)), cells):
            col.metric(label, value, help=how)
    personal = app_state.personal_figures(loaded.path)
    if personal:
        st.caption(personal + " Teach your signs on the My signs page.")
    if m:
        with st.expander("This model's own check: the people set aside when it was trained"):
            st.caption("The figures above are the recipe's, measured with models that each set other people aside; "
                       f"these are this one model on the {open_set.get('n_in_vocab', 0)} clips of the people it was "
                       f"checked on and {open_set.get('n_oov', 0)} words outside its vocabulary, so they differ.")  # fmt: skip
            c = st.columns(3)
            if open_set.get("n_in_vocab"):
                c[0].metric("this model: hello and thankyou right first", f"{open_set['in_vocab_top1']:.1%}",
                            help=f"{open_set['n_in_vocab']} validation clips")  # fmt: skip
            c[1].metric(
                "this model: right in the top 5 (all validation clips)", f"{m.get('top5', float('nan')):.1%}"
            )
            if open_set.get("n_oov"):
                c[2].metric("this model: words outside the vocabulary turned away", f"{open_set['oov_rejected']:.1%}",
                            help=f"{open_set['n_oov']} clips of words outside the vocabulary")  # fmt: skip
    card = loaded.path / "README.md"
    if card.is_file():
        with st.expander("Model card"):
            st.markdown(app_state.card_markdown(card.read_text()))  # its headings below the page's

st.subheader("This machine")
composer, why = ui.composer()
rows = {"device": ui.device_name(), "sentence composer": composer.name}
if why:
    rows["why that composer"] = why
try:
    import mediapipe
    import torch

    rows.update({"Python": platform.python_version(), "torch": torch.__version__,
                 "mediapipe": mediapipe.__version__, "streamlit": st.__version__})  # fmt: skip
except ImportError as exc:
    st.error(f"A dependency is missing ({exc}); run `make run` to set up the environment.")
st.table({"": list(rows), "value": list(rows.values())})

st.subheader("Keywords so far")
words = ui.keyword_words()
st.write(" · ".join(words) if words else "None yet: recognise a sign on the camera or upload pages.")
