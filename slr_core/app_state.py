"""What the app knows about its surroundings: settings, the models and datasets it may use, and the
keyword list. No Streamlit here; the pages call these.

Settings come from the environment:

=====================  =====================================================  ==========================
variable               meaning                                                default
=====================  =====================================================  ==========================
SLR_MODELS_DIR         bundled model folders                                  ./models
SLR_RUNS_DIR           training runs started from the app (their model/)      ./runs
SLR_DATA_DIRS          dataset roots, separated by ':'                        ./data and ../shared/data
SLR_DEFAULT_MODEL      the model used when none is chosen                     models/asl250-popsign-kaggle2
SLR_ICE_SERVERS        STUN/TURN for the live camera beyond localhost (JSON)  none
SLR_T5_PATH            a saved FLAN-T5 folder                                 the Hugging Face cache
=====================  =====================================================  ==========================

The app reads and writes only inside these folders: paths typed by a user are checked against them.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL_NAME = "asl250-popsign-kaggle2"


def _path(var: str, default: Path) -> Path:
    return Path(os.environ.get(var) or default).resolve()


def models_dir() -> Path:
    return _path("SLR_MODELS_DIR", REPO / "models")


def runs_dir() -> Path:
    return _path("SLR_RUNS_DIR", REPO / "runs")


def data_dirs() -> list[Path]:
    raw = os.environ.get("SLR_DATA_DIRS")
    roots = (
        [Path(p) for p in raw.split(os.pathsep) if p]
        if raw
        else [REPO / "data", REPO.parent / "shared" / "data"]
    )
    return [r.resolve() for r in roots]


def default_model() -> Path:
    return _path("SLR_DEFAULT_MODEL", models_dir() / DEFAULT_MODEL_NAME)


def ice_servers() -> list[dict]:
    """STUN/TURN servers for WebRTC beyond localhost: JSON list of RTCIceServer dicts, or a URL."""
    raw = os.environ.get("SLR_ICE_SERVERS", "").strip()
    if not raw:
        return []
    if raw.startswith("["):
        try:
            servers = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"SLR_ICE_SERVERS is not valid JSON: {exc}") from None
        return servers
    return [{"urls": [u.strip() for u in raw.split(",") if u.strip()]}]


def inside(path: str | Path, roots: list[Path]) -> Path:
    """`path` resolved, if it lies inside one of `roots`; otherwise ValueError."""
    p = Path(path).expanduser().resolve()
    for root in roots:
        if p == root or root in p.parents:
            return p
    raise ValueError(f"{path} is outside the allowed folders ({', '.join(str(r) for r in roots)})")


# --- models ----------------------------------------------------------------------------------------


@dataclass
class ModelEntry:
    name: str
    path: Path
    origin: str  # bundled | trained
    description: dict

    @property
    def label(self) -> str:
        m = self.description.get("metrics", {})
        top1 = m.get("open_set", {}).get("in_vocab_top1", m.get("top1"))
        acc = f", val top-1 {top1:.2f}" if isinstance(top1, (int, float)) else ""
        return f"{self.name} ({self.origin}, {len(self.description.get('labels', []))} classes{acc})"


def list_models() -> list[ModelEntry]:
    """Bundled models, then models trained in runs/, newest first; unreadable ones are skipped."""
    from .checkpoint import CheckpointError, read_description

    found = []
    for origin, root, pattern in (("bundled", models_dir(), "*/model.safetensors"),
                                  ("trained", runs_dir(), "*/model/model.safetensors")):  # fmt: skip
        if not root.is_dir():
            continue
        files = sorted(root.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=origin == "trained")
        for weights in files:
            try:
                desc = read_description(weights)
            except CheckpointError:
                continue
            name = weights.parent.name if origin == "bundled" else weights.parent.parent.name
            found.append(ModelEntry(name, weights.parent, origin, desc))
    return found


# --- datasets --------------------------------------------------------------------------------------


def list_datasets() -> list[Path]:
    """Kaggle-layout dataset folders (with train.csv) in the data roots, two levels deep."""
    found = []
    for root in data_dirs():
        if not root.is_dir():
            continue
        for csv in sorted([*root.glob("train.csv"), *root.glob("*/train.csv"), *root.glob("*/*/train.csv")]):
            found.append(csv.parent.resolve())
    return list(dict.fromkeys(found))


# --- keywords --------------------------------------------------------------------------------------

_SAFE = re.compile(r"[^\w\s'-]+", re.UNICODE)


def clean_word(word: str) -> str:
    return _SAFE.sub("", str(word)).strip()[:40]


def add_keywords(keywords: list[str], words: list[str]) -> list[str]:
    return keywords + [w for w in (clean_word(x) for x in words) if w]


def move_keyword(keywords: list[str], index: int, step: int) -> list[str]:
    j = index + step
    if not (0 <= index < len(keywords) and 0 <= j < len(keywords)):
        return list(keywords)
    out = list(keywords)
    out[index], out[j] = out[j], out[index]
    return out


def remove_keyword(keywords: list[str], index: int) -> list[str]:
    return [w for i, w in enumerate(keywords) if i != index]


def encode_keywords(keywords: list[str]) -> str:
    """For the page URL, so that a reload keeps them."""
    return ",".join(keywords)


def decode_keywords(raw: str | None) -> list[str]:
    return [w for w in (clean_word(x) for x in (raw or "").split(",")) if w]


def slug(name: str) -> str:
    """A safe folder name for a run."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-.")
    return s[:60]
