"""Streamlit glue shared by the pages: session state, cached resources, the sidebar.

Pages call these and hold UI only. Keywords and the active model live in st.session_state and are
remembered in a cookie of the app's own (``remember_state``), so a browser reload keeps them; a link
with ?kw=...&model=... (a shared one) sets them too. They are not written into the page's address:
Streamlit adds a browser history entry for every change of the address, and a page that rewrote it
on every visit left the Back button stepping in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ..base import settings
from ..base.errors import ConfigError
from ..models.checkpoint import WEIGHTS, CheckpointError, LoadedModel, load_model
from . import state as app_state


@dataclass(frozen=True)
class Page:
    path: str  # the page's script, relative to the repository
    title: str  # in the sidebar, the browser tab and the page's heading
    icon: str  # a Material icon (emoji fonts are not on every machine)
    url: str  # its address under the app's root ("" for the home page)


PAGES = (
    Page("app_pages/0_Home.py", "Home", ":material/home:", ""),
    Page("app_pages/1_Live_camera.py", "Live camera", ":material/videocam:", "Live_camera"),
    Page("app_pages/2_Upload_clip.py", "Upload clip", ":material/movie:", "Upload_clip"),
    Page("app_pages/3_Dataset_explorer.py", "Dataset explorer", ":material/dataset:", "Dataset_explorer"),
    Page("app_pages/4_Translate.py", "Translate", ":material/translate:", "Translate"),
    Page("app_pages/5_Train.py", "Train", ":material/model_training:", "Train"),
    Page("app_pages/6_My_signs.py", "My signs", ":material/back_hand:", "My_signs"),
)
PAGE = {p.title: p for p in PAGES}
# The browser tab's icon, shipped with the app (a Material icon there is fetched from a font server,
# which a machine offline does not reach).
TAB_ICON = settings.REPO / "assets" / "icon.png"
KEYWORDS = "keywords"
KEYWORDS_BOX = "_keywords_box"  # this run's sidebar placeholder for the keywords
MODEL = "active_model"


def page_setup(title: str) -> None:
    """The top of every page (its title is one of PAGES'): page config, shared state, the sidebar."""
    st.set_page_config(
        page_title=f"{title} · Sign-language recognition", page_icon=str(TAB_ICON), layout="wide"
    )
    init_state()
    sidebar()


STATE_COOKIE = "slr_state"  # keywords and the model's name, as a query string
_REMEMBERED = "_remembered_state"
_COOKIE_BOX = "_cookie_box"


def _saved_state() -> dict[str, str]:
    """What the cookie remembers from this browser's last visit ({} when nothing)."""
    from urllib.parse import parse_qs

    try:
        raw = st.context.cookies.get(STATE_COOKIE) or ""
    except Exception:  # no browser behind the session (AppTest, bare mode)
        raw = ""
    return {k: v[0] for k, v in parse_qs(raw[:8000]).items() if v}


def init_state() -> None:
    """Fill session state on a new session (a reload): from the link's ?kw=&model= when it has them,
    else from the cookie; otherwise keep what is there."""
    params = st.query_params
    saved = None if "kw" in params or "model" in params else _saved_state()
    if KEYWORDS not in st.session_state:
        st.session_state[KEYWORDS] = app_state.decode_keywords(
            params.get("kw") if saved is None else saved.get("kw")
        )
    if MODEL not in st.session_state:
        wanted = params.get("model") if saved is None else saved.get("model")
        known = {e.name: str(e.path) for e in app_state.list_models()}
        st.session_state[MODEL] = known.get(wanted or "") or str(settings.default_model())
    st.session_state.setdefault("history", [])


def state_query() -> str:
    """Keywords and the model's name as a query string (what the cookie keeps and a link can carry)."""
    from urllib.parse import urlencode

    model = Path(st.session_state.get(MODEL, "")).name if not _is_run_model() else _run_name()
    return urlencode({"kw": app_state.encode_keywords(st.session_state.get(KEYWORDS, [])), "model": model})


def remember_state(now: bool = False) -> None:
    """Keep keywords and the model in the browser's cookie (no history entry): at the top of every run
    when they changed since the last run that wrote them, or `now` (where they change; a rerun right
    after may drop that, so the next run's top writes them again)."""
    import json

    value = state_query()
    if not now:
        if st.session_state.get(_REMEMBERED) == value:
            return
        st.session_state[_REMEMBERED] = value
    cookie = f"{STATE_COOKIE}={value}; path=/; max-age=31536000; SameSite=Lax"
    box = st.session_state.get(_COOKIE_BOX)  # this run's sidebar slot: one element, rewritten in place
    (box if box is not None else st).html(f"<script>document.cookie = {json.dumps(cookie)};</script>",
                                          unsafe_allow_javascript=True)  # fmt: skip


def _is_run_model() -> bool:
    return Path(st.session_state.get(MODEL, "")).name == "model"


def _run_name() -> str:
    return Path(st.session_state[MODEL]).parent.name


def keywords() -> list[str]:
    """The stored keywords (entries: a sign and its look-alikes, see state.keyword_entry)."""
    return st.session_state.setdefault(KEYWORDS, [])


def keyword_words() -> list[str]:
    """The keywords as they are shown: the signs recognised."""
    return [app_state.keyword_word(e) for e in keywords()]


def set_keywords(words: list[str]) -> None:
    st.session_state[KEYWORDS] = list(words)
    remember_state(now=True)
    _show_keywords()


def _show_keywords() -> None:
    """The sidebar's keyword box, rewritten in place (it was drawn before the page added any)."""
    box = st.session_state.get(KEYWORDS_BOX)
    if box is not None:
        words = keyword_words()
        with box.container():
            st.markdown(f"### Keywords ({len(words)})")
            st.write(" · ".join(words) if words else "_none yet_")


def add_keywords(words: list[str]) -> None:
    set_keywords(app_state.add_keywords(keywords(), words))


@st.cache_resource(show_spinner="Loading the model ...")
def _load(path: str, mtime: float) -> LoadedModel:
    # NOTE: shared by every session and the webcam threads; inference does not change it.
    import torch

    torch.set_num_threads(settings.torch_threads())  # MediaPipe and the web server need the rest
    return load_model(path)


def model_at(path: str | Path) -> LoadedModel:
    """A model folder, loaded once per file version (the cache active_model uses); raises as load_model."""
    path = Path(path)
    return _load(str(path), (path / WEIGHTS).stat().st_mtime)


def active_model() -> LoadedModel | None:
    """The selected model, loaded once per file version; None (with a message) if it cannot load."""
    path = Path(st.session_state.get(MODEL) or settings.default_model())
    try:
        return model_at(path)
    except FileNotFoundError:
        st.error(f"No model at {path}. Choose another in the sidebar, or train one on the Train page.")
    except (CheckpointError, ConfigError) as exc:
        st.error(f"The model at {path} cannot be used: {exc}")
    return None


@st.cache_resource(show_spinner="Preparing the recogniser ...")
def _classifier(path: str, mtime: float):
    from ..recognition.predict import Classifier

    return Classifier(_load(path, mtime))


@st.cache_resource(show_spinner="Reading your personal signs ...", max_entries=4)
def _personal(path: str, mtime: float, library_file: str, library_mtime: float):
    from ..recognition.library import Library
    from ..recognition.matcher import PersonalClassifier

    # NOTE: shared by the sessions and webcam threads of this library version; guesses hold no state.
    return PersonalClassifier(_load(path, mtime), Library.open(library_file))


def library_file() -> Path:
    from ..recognition.library import FILE

    return settings.library_dir() / FILE


def classifier():
    """The active model, with the person's library when it has examples (a PersonalClassifier)."""
    loaded = active_model()
    if loaded is None:
        return None
    mtime = (Path(loaded.path) / WEIGHTS).stat().st_mtime
    lib = library_file()
    if lib.is_file():
        from ..recognition.library import LibraryError

        try:
            return _personal(str(loaded.path), mtime, str(lib), lib.stat().st_mtime)
        except LibraryError as exc:
            st.warning(f"Your personal signs cannot be used: {exc}")
    return _classifier(str(loaded.path), mtime)


@st.cache_resource(show_spinner="Loading the letter model ...")
def _letters(path: str, mtime: float):
    from ..recognition.letters import LetterModel

    return LetterModel.load(path)


def letter_model():
    """The fingerspelling letter model, or None (with a message) when it cannot load."""
    from ..recognition.letters import WEIGHTS as LETTER_WEIGHTS
    from ..recognition.letters import LetterError

    folder = settings.letters_model()
    try:
        return _letters(str(folder), (folder / LETTER_WEIGHTS).stat().st_mtime)
    except (OSError, LetterError) as exc:
        st.warning(f"Fingerspelling is not available: {exc}")
        return None


@st.cache_resource(show_spinner="Loading the sentence composer ...")
def composer():
    from ..language.sentence import load_composer

    return load_composer()


@st.cache_data(ttl=60, show_spinner=False)
def hub_reachable() -> tuple[bool, str]:
    """Whether a FLAN-T5 download could work from here (asked once a minute at most)."""
    from ..language.sentence import hub_reachable as reachable

    return reachable()


def bundled_preset() -> str:
    """The preset the bundled default model was trained with (its recipe's), else base."""
    import yaml

    from ..models.config import PRESETS

    recipe = settings.default_model() / "train.yaml"
    try:
        preset = (yaml.safe_load(recipe.read_text()) or {}).get("preset", "base")
    except (OSError, yaml.YAMLError):
        preset = "base"
    return preset if preset in PRESETS else "base"


@st.cache_data(show_spinner=False)
def preset_size(preset: str) -> str:
    """A preset's size in parameters (for 251 classes), e.g. '0.58M parameters'."""
    from ..models.build import preset_size as size

    return size(preset)


def sentence_so_far():
    """The best sentence for the keywords as they are now (made again only when they change), or None."""
    entries = tuple(keywords())
    if not entries:
        return None
    made = st.session_state.get("_sentence_so_far")
    if made is None or made[0] != entries:
        sentence = composer()[0].compose(app_state.as_keywords(list(entries)), n=1)
        made = (entries, sentence)
        st.session_state["_sentence_so_far"] = made
    return made[1]


def device_name() -> str:
    import torch

    return f"CUDA GPU ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "CPU"


def sidebar() -> None:
    models = app_state.list_models()
    with st.sidebar:
        st.session_state[_COOKIE_BOX] = st.empty()
        st.markdown("### Model")
        if models:
            paths = [str(m.path) for m in models]
            current = st.session_state.get(MODEL)
            index = paths.index(current) if current in paths else 0
            choice = st.selectbox("Active model", range(len(models)), index=index,
                                  format_func=lambda i: models[i].name, key="model_choice")  # fmt: skip
            st.caption(models[choice].summary)
            st.session_state[MODEL] = paths[choice]
            remember_state()
        else:
            st.warning("No model found in models/ or runs/.")
        st.session_state[KEYWORDS_BOX] = st.empty()
        _show_keywords()


def use_model(path: str | Path) -> None:
    """Make a model the active one on every page."""
    st.session_state[MODEL] = str(Path(path).resolve())
    st.session_state.pop("model_choice", None)  # the sidebar picks up the new choice
    remember_state(now=True)
