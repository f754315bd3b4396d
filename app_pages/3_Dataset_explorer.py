"""Dataset explorer: pick a sample of a Kaggle-layout dataset, watch its skeleton, classify it."""

import os
from pathlib import Path

import streamlit as st

from slr_core.app import state as app_state
from slr_core.app import ui
from slr_core.app.viz import animation_gif
from slr_core.base import settings
from slr_core.capture.keypoints import KeypointsError
from slr_core.capture.poseformat import read_keypoints
from slr_core.datasets.data import UNKNOWN_LABEL, DatasetError, load_dataset
from slr_core.datasets.extraction import extract_dataset

HOW_TO_GET_DATA = """
No dataset found in the data folders ({roots}). To get one:

* **The Kaggle ASL signs data** (250 signs, 94,477 sequences; a Kaggle account and API token needed):

      kaggle competitions download -c asl-signs -p data/
      unzip data/asl-signs.zip -d data/asl-signs

* **Your own clips**: list them in a `labels.csv` (`path,sign[,participant_id]`) and run

      slr extract labels.csv --out data/my-signs

Data folders are set with `SLR_DATA_DIRS` (default: `./data` and `../shared/data`).
"""


@st.cache_data(show_spinner="Reading the dataset index ...", max_entries=8)
def read_index(path: str, mtime: float):
    ds = load_dataset(path)
    return ds.table, ds.sign_map


ui.page_setup("Dataset explorer")
st.title("Dataset explorer")
roots = settings.data_dirs()
counts = app_state.datasets_by_size()  # the largest first: the 12-sequence fixture is not a start
datasets = list(counts)
preferred = settings.preferred_dataset()
if preferred:
    try:
        p = app_state.inside(preferred, roots)
        datasets = [p] + [d for d in datasets if d != p]
    except ValueError as exc:
        st.warning(f"SLR_DATASET: {exc}")
clips = app_state.clip_folders()

OTHER = "another folder inside the data folders ..."
GIF_WIDTH = 360  # pixels: every sample's animation is shown this wide
options = [str(d) for d in datasets] + [str(c) for c in clips] + [OTHER]


def describe(option: str) -> str:
    if option == OTHER:
        return option
    path = Path(option)
    if path in clips:
        return f"{app_state.dataset_name(path)} · video clips, keypoints not extracted yet"
    return f"{app_state.dataset_name(path)} · {counts.get(path, 0)} sequences"


def offer_extraction(folder: Path) -> None:
    """A folder of labelled clips: extract its keypoints into the first data folder, with progress."""
    n = app_state.sequence_count_of_labels(folder)
    target = roots[0] / f"{folder.name}-kp"
    st.info(f"**{app_state.dataset_name(folder)}** holds {n} labelled video clips whose keypoints have not "
            f"been extracted yet. Extraction runs MediaPipe Holistic over every frame (about a second per "
            f"clip per core) and writes a Kaggle-layout dataset to `{target}`; the same as "
            f"`slr extract {folder / 'labels.csv'} --out {target}`.")  # fmt: skip
    if not st.button(f"Extract keypoints of {n} clips", type="primary"):
        return
    bar = st.progress(0.0, text="Starting MediaPipe ...")

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Extracted {done} of {total} clips")

    try:
        report = extract_dataset(folder / "labels.csv", target, workers=max(1, min(os.cpu_count() or 1, 4, n)),
                                 progress=progress)  # fmt: skip
    except (DatasetError, OSError, ValueError) as exc:
        st.error(f"Extraction failed: {exc}")
        return
    bar.empty()
    if report.failures:
        st.warning(f"{len(report.failures)} clip(s) could not be used: "
                   + "; ".join(f"{Path(c).name}: {e}" for c, e in report.failures[:5]))  # fmt: skip
    st.session_state["explorer_next"] = str(target.resolve())
    st.rerun()


nothing = not datasets and not clips
if nothing:  # nothing to pick: how to get data comes first, the folder box is tucked away
    st.info(HOW_TO_GET_DATA.format(roots=", ".join(str(r) for r in roots)))
    where = st.expander("A dataset in a folder of its own, inside the data folders?")
if st.session_state.get("explorer_next") in options:  # a dataset just extracted opens at once
    st.session_state["explorer_dataset"] = st.session_state.pop("explorer_next")
choice = (
    OTHER
    if nothing
    else st.selectbox("Dataset", options, index=0, format_func=describe, key="explorer_dataset")
)
folder = None
if choice == OTHER:
    typed = (where if nothing else st).text_input(
        "Dataset folder", placeholder=str(roots[0] / "my-signs") if roots else ""
    )
    if typed:
        try:
            folder = app_state.inside(typed, roots)
        except ValueError:
            here = [str(r) for r in roots if r.is_dir()]
            st.error(f"{typed} is outside the data folders this app may read"
                     + (f" ({', '.join(here)})" if here else " (none of them exists yet)")
                     + ". To read it, add it to the setting SLR_DATA_DIRS (folders separated by ':') and "
                     "start the app again.")  # fmt: skip
elif Path(choice) in clips:
    offer_extraction(Path(choice))
    st.stop()
else:
    folder = choice
if not datasets and choice == OTHER and not folder and not nothing:
    st.info(HOW_TO_GET_DATA.format(roots=", ".join(str(r) for r in roots)))  # only clips to extract so far
    st.stop()
if folder is None:
    st.stop()

try:
    csv = os.path.join(folder, "train.csv")
    table, sign_map = read_index(str(folder), os.path.getmtime(csv) if os.path.exists(csv) else 0.0)
except DatasetError as exc:
    st.error(f"This folder cannot be used as a dataset: {exc}")
    st.stop()
if table.empty:
    st.warning("This dataset lists no sequences.")
    st.stop()

c = st.columns(3)
signs = sorted(table["sign"].unique())
sign = c[0].selectbox("Sign", ["(any)"] + signs)
rows = table if sign == "(any)" else table[table["sign"] == sign]
parts = sorted(rows["participant_id"].unique())
part = c[1].selectbox("Participant", ["(any)"] + [str(p) for p in parts])
rows = rows if part == "(any)" else rows[rows["participant_id"].astype(str) == part]
pick = c[2].selectbox("Sample (sequence id)", rows.index.tolist(),
                      format_func=lambda i: f"{table.at[i, 'sequence_id']} ({table.at[i, 'sign']})")  # fmt: skip
st.caption(f"{len(table)} sequences, {len(signs)} signs, {table['participant_id'].nunique()} participants; "
           f"{len(rows)} match.")  # fmt: skip
if pick is None:
    st.stop()

true_label = table.at[pick, "sign"]
sample_key = (str(folder), int(pick))
if st.session_state.get("explorer_sample") != sample_key:
    st.session_state["explorer_sample"] = sample_key
    st.session_state.pop("explorer_prediction", None)
    st.session_state.pop("explorer_gif", None)


def keypoints():
    # a train.csv path may not lead out of the dataset folder
    return read_keypoints(app_state.inside(Path(folder) / table.at[pick, "path"], [Path(folder).resolve()]))


c = st.columns(3)
show = c[0].button("Show animation")
classify = c[1].button("Classify", type="primary")
try:
    if show:
        kp = keypoints()
        shown = "an out-of-vocabulary word" if true_label == UNKNOWN_LABEL else true_label
        short = (f"; only {len(kp)} frames ({kp.duration:.1f} s) were recorded for this sample, so its "
                 "animation is short and jumpy: that is the data, not the player") if len(kp) < 15 else ""  # fmt: skip
        st.session_state["explorer_gif"] = (animation_gif(kp, caption=shown), f"true label: {shown}, "
                                            f"{len(kp)} frames{short}")  # fmt: skip
    if classify:
        classifier = ui.classifier()
        if classifier is not None:
            kp = keypoints()
            guess = classifier.guess(kp.data, kp.times)
            st.session_state["explorer_prediction"] = guess
except (KeypointsError, DatasetError, ValueError) as exc:
    st.error(f"This sample cannot be read: {exc}")

gif = st.session_state.get("explorer_gif")
left, right = st.columns([2, 3]) if gif else (st.container(), st.container())
if gif:  # the same size for every sample, beside the prediction (a tall one pushed it off the screen)
    left.image(gif[0], caption=gif[1], width=GIF_WIDTH)
with right:
    guess = st.session_state.get("explorer_prediction")
    if "explorer_prediction" in st.session_state and guess is None:
        st.warning("No hands in this sample: nothing to classify.")
    elif guess is not None:
        verdict = "accepted" if guess.accepted else "below the model's confidence threshold"
        mine = " (one of your personal signs)" if guess.personal else ""
        st.markdown(f"**Prediction: {guess.label}**{mine} ({guess.probability:.0%}, {verdict}); true label: "
                    f"**{true_label}**")  # fmt: skip
        st.dataframe([{"sign": n, "probability": f"{p:.1%}"} for n, p in guess.top5], hide_index=True)
        if c[2].button(f"Add “{guess.label}” to keywords"):
            ui.add_keywords([app_state.event_keyword(guess.label, guess.top5)])
            st.success(f"Added: {guess.label}")
