"""safetensors files with a JSON description in their header: the one way this project stores
tensors (models, training state, letter models, personal-sign libraries).

Writing is atomic (a temporary file, synced, then renamed over the old one); reading never
unpickles anything, and every way a file can be wrong (missing, damaged, not ours, another format)
becomes one error naming the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file


def write(path: Path, tensors: dict[str, torch.Tensor], meta: dict, key: str = "slr") -> None:
    """Tensors and their JSON description, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(
        {k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp), {key: json.dumps(meta)}
    )
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)  # readable like any other file the project writes
    tmp.replace(path)


def read(path: Path, error: type[Exception], what: str, fmt: str, key: str = "slr") -> tuple[dict, dict]:
    """(description, tensors) of a file written by `write`; `error` with the file's name when it is
    missing, damaged, not a `what`, or of another format than `fmt`."""
    if not path.is_file():
        raise error(f"{path}: no such {what}")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            raw = (f.metadata() or {}).get(key)
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # safetensors raises several types for damaged files
        raise error(
            f"{path}: not a readable {what} (damaged or truncated? not safetensors?): {exc}"
        ) from None
    if raw is None:
        raise error(f"{path}: a safetensors file, but not a {what}")
    try:
        meta = json.loads(raw)
    except ValueError:
        raise error(f"{path}: its description is not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise error(f"{path}: format {found!r}; this code reads {fmt!r}")
    return meta, tensors
