"""Train: start the same training loop as `slr train` in its own process, follow it live, stop or
resume it, read its evaluation, and make the new model the active one."""

import time
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from slr_core.app import state as app_state
from slr_core.app import ui
from slr_core.base import settings
from slr_core.models.checkpoint import WEIGHTS
from slr_core.models.config import PRESET_NOTES, PRESETS
from slr_core.training import jobs
from slr_core.training.runs import ACTIVE, CONFUSION, DONE, EVAL_DIR, Run, list_runs

ui.page_setup("Train")
st.title("Train a model")
root = settings.runs_dir()

counts = app_state.datasets_by_size()  # the largest first
datasets = list(counts)
# the defaults are fixed once per session: a default that changes on each rerun resets the widget,
# and a typed name or a chosen dataset would be lost
if st.session_state.pop("train_started", False) or "train_name" not in st.session_state:
    st.session_state["train_name"] = time.strftime("run-%Y%m%d-%H%M%S")  # the next run's default
if "train_data" not in st.session_state:
    st.session_state["train_data"] = [str(datasets[0])] if datasets else []

with st.form("new_run"):
    st.subheader("New run")
    data = st.multiselect("Training data (Kaggle-layout dataset folders)", [str(d) for d in datasets],
                          key="train_data",
                          format_func=lambda o: f"{app_state.dataset_name(Path(o))} · {counts[Path(o)]} sequences")  # fmt: skip
    c = st.columns(3)
    name = c[0].text_input("Run name", key="train_name")
    bundled = ui.bundled_preset()
    preset = c[1].selectbox("Network", list(PRESETS), index=list(PRESETS).index(bundled),
                            format_func=lambda p: f"{p} ({ui.preset_size(p)})" + (" · the bundled model's" if p == bundled else ""),
                            help="; ".join(f"{p}: {PRESET_NOTES[p]}" for p in PRESETS))  # fmt: skip
    devices = ["auto", "cpu"] + (["cuda"] if jobs.gpu_count() else [])
    device = c[2].selectbox("Device", devices, help="auto: the GPU if there is one, else the processor")
    c = st.columns(5)
    epochs = c[0].number_input(
        "Epochs", value=20, step=1, help="how many times training goes over all the data"
    )
    batch = c[1].number_input("Batch size", value=32, step=1, help="clips per training step")
    lr = c[2].number_input("Learning rate", value=0.001, step=0.0001, format="%.5f",
                           help="how big each training step is; lower it if the loss goes up or becomes nan")  # fmt: skip
    folds = c[3].number_input("People set aside", value=5, step=1,
                              help="the data's people are split into this many groups; one group is never "
                              "trained on and measures how the model does on new people")  # fmt: skip
    processes = c[4].number_input("Processes", value=jobs.gpu_count() or 1, step=1,
                                  help="more than 1 trains on several GPUs at once (one process each, started with "
                                  "torchrun); on a processor alone each process takes a share of the cores")  # fmt: skip
    st.caption(f"**{preset}**: {PRESET_NOTES[preset]}.")
    start = st.form_submit_button("Start", type="primary", disabled=not datasets)
if not datasets:
    st.info("No dataset in the data folders yet, so there is nothing to train on: see the Dataset explorer page "
            "for how to get one.")  # fmt: skip
if start:
    try:
        run = jobs.start_run(root, name, data, preset, int(epochs), int(batch), float(lr), device,
                             {"folds": int(folds)}, int(processes))  # fmt: skip
        st.session_state["train_run"] = run.name
        st.session_state["train_started"] = True  # the next run gets a fresh default name
        st.session_state["train_said"] = f"Started {run.name}."
        st.rerun()  # now, so that the name box offers a new name at once
    except ValueError as exc:
        st.error(f"Cannot start: {exc}")
if "train_said" in st.session_state:
    st.success(st.session_state.pop("train_said"))

runs = list_runs(root)
if not runs:
    st.stop()
names = [r.name for r in runs]
current = st.session_state.get("train_run")
run_name = st.selectbox("Runs", names, index=names.index(current) if current in names else 0)
st.session_state["train_run"] = run_name
run = runs[names.index(run_name)]


def trained_on(run: Run) -> str:
    from slr_core.models.checkpoint import read_description

    try:
        d = read_description(run.model_dir / WEIGHTS)
    except Exception:  # a model being written or damaged: say nothing rather than break the page
        return "(its description could not be read)"
    signers = d.get("training", {}).get("signers_per_sign", {})
    return app_state.coverage(d) + (
        f" (at most {max(signers.values())} signers for a sign)" if signers else ""
    )


@st.fragment(run_every=2.0)
def follow(run: Run) -> None:
    status = run.status()
    state = status.get("state", "unknown")
    steps, epochs = run.metrics()
    done, total = status.get("epoch", 0), status.get("epochs") or run.config().get("epochs")
    message = status.get("message", "")
    if message.startswith(state):  # "stopped; continue with --resume" after "stopped"
        message = message[len(state) :].lstrip(".;: ")
    message = message.replace("continue with --resume", "press Resume to go on")  # the command line's words
    st.markdown(f"**{run.name}**: {state}" + (f". {message}" if message else ""))
    if total:
        st.progress(min(done / total, 1.0), text=f"epoch {done} of {total}")
    else:  # the data is still being opened: how many epochs is not known to the page yet
        st.progress(0.0, text="preparing the data")
    c = st.columns(3)
    if state in ACTIVE and c[0].button("Stop", key=f"stop-{run.name}"):
        run.stop()
        st.info("Asked the run to save a checkpoint and stop.")
    if run.can_resume and c[1].button("Resume", key=f"resume-{run.name}"):
        try:
            jobs.resume_run(run)
            st.rerun()
        except ValueError as exc:
            st.error(str(exc))
    if (run.model_dir / WEIGHTS).exists() and c[2].button("Use this model", key=f"use-{run.name}"):
        ui.use_model(run.model_dir)
        st.success("It is now the active model on every page.")
        st.rerun(scope="app")
    if steps:
        df = pd.DataFrame(steps).set_index("step")
        cols = st.columns(2)
        cols[0].caption("training loss")
        cols[0].line_chart(df[["loss"]], height=220)
        if epochs:
            e = pd.DataFrame(epochs).set_index("epoch")
            acc = [k for k in ("train_acc", "val_top1", "val_top5") if k in e]
            cols[1].caption("accuracy per epoch")
            long = e[acc].reset_index().melt("epoch", var_name="measure", value_name="accuracy")
            chart = alt.Chart(long).mark_line(point=True)  # points: one epoch already shows
            x = alt.X("epoch:Q", axis=alt.Axis(format="d", tickMinStep=1), title="epoch")  # whole epochs
            cols[1].altair_chart(chart.encode(x=x, y="accuracy:Q", color="measure:N"), height=220)
    log = run.log_tail(8)
    if log:
        with st.expander("log"):
            st.code(log)
    report = run.report()
    if state in DONE and (run.model_dir / WEIGHTS).exists():
        st.write(f"The model knows {trained_on(run)}.")
        if "only" in trained_on(run):
            st.warning("It can only ever answer the signs it has data for; a sign without data will come out "
                       "as one of those. Add data for more signs before using it for real.")  # fmt: skip
    if report and state in DONE:
        st.subheader("Evaluation on the validation split")
        o = report.get("open_set", {})
        st.write(f"top-1 {report['top1']:.3f}, top-5 {report['top5']:.3f}, macro F1 {report['macro_f1']:.3f} "
                 f"(n={report['n']}); threshold {report.get('threshold', 0):.2f}"
                 + (f"; out-of-vocabulary rejected {o['oov_rejected']:.1%}" if o.get("n_oov") else ""))  # fmt: skip
        image = run.path / EVAL_DIR / CONFUSION
        if image.exists():
            st.image(str(image), caption="confusion matrix")
        table = pd.DataFrame(report["per_class"]).T.sort_values("support", ascending=False)
        table = table[table["support"] > 0]  # the classes the validation split has
        st.caption(f"Per class: the {len(table)} classes the validation split has clips of")
        st.dataframe(table, height=300)


follow(run)
