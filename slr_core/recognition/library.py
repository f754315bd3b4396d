"""Personal signs: a person's own examples of words, kept as keypoints in one file.

A library is one safetensors file (``library.safetensors`` in the library folder): each example's
landmarks in the pipeline layout (T, 94, 3) and frame times as tensors, and a JSON description in
the header (format, keypoint layout, and per example its word, source and when it was added).
Keypoints, not embeddings, are stored, so a new base model re-embeds them: upgrading the model
never loses a person's signs. Loading never unpickles anything; a file of another format or
keypoint layout, or a damaged one, gets a clear LibraryError.

``matcher.PersonalMatcher`` recognises the words of a library next to the model's own signs.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..base import safefile
from ..base.errors import SLRError
from ..base.text import clean_word
from ..capture.landmarks import N_PIPELINE_ROWS, PIPELINE_ROWS, to_pipeline_rows

FORMAT = "slr-library/1"
FILE = "library.safetensors"
COORDS = 3  # x, y, z
MIN_FRAMES = 2
LAYOUT = {
    "rows": N_PIPELINE_ROWS,
    "coords": COORDS,
    "rows_hash": hashlib.sha1(np.asarray(PIPELINE_ROWS, np.int64).tobytes()).hexdigest()[:12],
}


class LibraryError(SLRError, ValueError):
    """A library file or example that cannot be used; the message says which and why."""


@dataclass
class Example:
    """One recorded example of a word: its landmarks and frame times."""

    word: str
    data: np.ndarray  # (T, 94, 3) float32, NaN where missing
    times: np.ndarray  # (T,) float64 seconds from its first frame
    source: str = ""  # where it came from (a file name, "camera", ...)
    added: float = field(default_factory=time.time)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def describe(self) -> dict:
        return {"id": self.id, "word": self.word, "source": self.source, "added": self.added,
                "frames": len(self.data)}  # fmt: skip


def _checked_example(word: str, data: np.ndarray, times: np.ndarray, source: str) -> Example:
    name = clean_word(word)
    if not name:
        raise LibraryError(f"{word!r} is not a word that can be taught (letters, digits, ' and - only)")
    data = np.asarray(data, dtype=np.float32)
    if data.ndim != 3 or data.shape[-1] < COORDS:
        raise LibraryError(
            f"{source or 'an example'}: landmarks must be (frames, points, x/y/z), got {data.shape}"
        )
    try:
        data = to_pipeline_rows(data)[..., :COORDS]
    except ValueError as exc:
        raise LibraryError(f"{source or 'an example'}: {exc}") from None
    times = np.asarray(times, dtype=np.float64)
    if len(times) != len(data):
        raise LibraryError(f"{source or 'an example'}: {len(times)} times for {len(data)} frames")
    hands = np.isfinite(data[:, :, 0]).any(1)
    if hands.sum() < MIN_FRAMES:
        raise LibraryError(f"{source or 'an example'}: fewer than {MIN_FRAMES} frames with landmarks")
    return Example(name, np.array(data, order="C"), times - times[0], source)  # its own copy


class Library:
    """A person's words and their examples, saved in one file. Not thread-safe: one writer."""

    def __init__(self, path: str | Path, examples: list[Example] | None = None) -> None:
        path = Path(path)
        if path.suffix != ".safetensors" and path.is_file():
            raise LibraryError(f"{path}: a file, not a library folder (set the library to a folder)")
        self.file = path if path.suffix == ".safetensors" else path / FILE
        self.examples: list[Example] = list(examples or [])

    # --- reading -------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> Library:
        """The library at `path` (a folder, or a .safetensors file); empty when there is none yet."""
        lib = cls(path)
        if lib.file.exists():
            lib.examples = read_file(lib.file)
        return lib

    def words(self) -> dict[str, list[Example]]:
        """Examples by word, in the order they were added."""
        out: dict[str, list[Example]] = {}
        for e in self.examples:
            out.setdefault(e.word, []).append(e)
        return out

    def __len__(self) -> int:
        return len(self.examples)

    # --- changing -------------------------------------------------------------------------------

    def add(self, word: str, data: np.ndarray, times: np.ndarray, source: str = "") -> Example:
        """Add one example (landmarks in the Kaggle or the pipeline layout) and save."""
        example = _checked_example(word, data, times, source)
        self.examples.append(example)
        self.save()
        return example

    def remove_word(self, word: str) -> int:
        """Remove a word and its examples; returns how many examples went."""
        name = clean_word(word)
        before = len(self.examples)
        self.examples = [e for e in self.examples if e.word != name]
        if len(self.examples) == before:
            raise LibraryError(f"no word {name!r} in the library {self.file}")
        self.save()
        return before - len(self.examples)

    def remove_example(self, example_id: str) -> Example:
        for k, e in enumerate(self.examples):
            if e.id == example_id:
                del self.examples[k]
                self.save()
                return e
        raise LibraryError(f"no example {example_id!r} in the library {self.file}")

    def save(self) -> None:
        write_file(self.examples, self.file)

    def export(self, out: str | Path) -> Path:
        """The whole library as one file, to share or keep."""
        out = Path(out)
        write_file(self.examples, out)
        return out

    def import_file(self, source: str | Path) -> int:
        """Add the examples of another library file (those already here are skipped); returns how
        many were added."""
        known = {e.id for e in self.examples}
        new = [e for e in read_file(Path(source)) if e.id not in known]
        self.examples += new
        self.save()
        return len(new)


def write_file(examples: list[Example], path: Path) -> None:
    """Write examples as one safetensors file, atomically."""
    tensors = {}
    for e in examples:
        tensors[f"{e.id}.data"] = torch.from_numpy(np.ascontiguousarray(e.data, np.float32))
        tensors[f"{e.id}.times"] = torch.from_numpy(np.ascontiguousarray(e.times, np.float64))
    meta = {"format": FORMAT, "layout": LAYOUT, "examples": [e.describe() for e in examples]}
    safefile.write(path, tensors, meta, key="slr_library")


def read_file(path: Path) -> list[Example]:
    """The examples of a library file, checked against this code's format and keypoint layout."""
    meta, tensors = safefile.read(path, LibraryError, "library of personal signs", FORMAT, key="slr_library")
    if meta.get("layout") != LAYOUT:
        raise LibraryError(
            f"{path}: made for another keypoint layout ({meta.get('layout')}); this code uses {LAYOUT}. "
            "Record the examples again with this version"
        )
    out = []
    for d in meta.get("examples", []):
        try:
            data, times = tensors[f"{d['id']}.data"].numpy(), tensors[f"{d['id']}.times"].numpy()
            ex = _checked_example(d["word"], data, times, d.get("source", ""))
        except KeyError as exc:
            raise LibraryError(f"{path}: example {d.get('id')!r} is incomplete ({exc} missing)") from None
        except LibraryError as exc:
            raise LibraryError(f"{path}: example {d.get('id')!r}: {exc}") from None
        ex.id, ex.added = str(d["id"]), float(d.get("added", 0.0))
        out.append(ex)
    return out
