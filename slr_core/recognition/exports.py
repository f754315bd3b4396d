"""What was recognised in a clip, in the formats researchers and captioners already use.

* ``eaf``: an ELAN annotation file (``pympi-ling`` writes it): the media file linked; a tier
  ``signs`` with each recognised sign over its time span; a tier ``top-5`` with the same spans and
  the five best signs with their confidence; a tier ``sentence`` with the English sentence over
  the whole signing. ELAN opens it next to the video, and a person corrects it there.
* ``srt`` (the ``srt`` package) and ``vtt`` (WebVTT, by its specification): one caption per sign as
  it occurs, then the sentence as a closing caption.
* ``json``: the events, as ``slr predict --json`` prints them.
* ``pose``: the keypoints themselves (``capture.poseformat``).

``export`` writes any of them atomically (a temporary file renamed over the target): a file is
either whole or not there.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from ..base.errors import SLRError
from ..capture.keypoints import Keypoints
from .streaming import SignEvent

FORMATS = ("eaf", "srt", "vtt", "json", "pose")
TEXT_FORMATS = ("eaf", "srt", "vtt", "json")
MIME = {"eaf": "text/xml", "srt": "application/x-subrip", "vtt": "text/vtt", "json": "application/json",
        "pose": "application/octet-stream"}  # fmt: skip
SIGNS_TIER, TOP5_TIER, SENTENCE_TIER = "signs", "top-5", "sentence"
SENTENCE_CAPTION_S = 3.0  # how long the closing caption with the sentence stays
MIN_SPAN_S = 0.04  # an annotation or caption lasts at least this long (ELAN needs begin < end)
VIDEO_MIME = {
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".avi": "video/x-msvideo",
}


class ExportError(SLRError, ValueError):
    """What was found cannot be written in the asked format; the message says why."""


@dataclass
class Found:
    """A clip's results, as exports read them."""

    events: list[SignEvent]
    keypoints: Keypoints | None = None
    media: str = ""  # the clip's file name or path, linked from an .eaf
    sentence: str = ""
    model: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def duration(self) -> float:
        kp = self.keypoints
        ends = [e.end for e in self.events]
        return max([kp.duration if kp is not None else 0.0, *ends, 0.0])


def _spans(events: list[SignEvent]) -> list[tuple[float, float]]:
    """Each event's (start, end), at least MIN_SPAN_S long and never overlapping the next one's start."""
    out = []
    for k, e in enumerate(events):
        start, end = max(float(e.start), 0.0), max(float(e.end), float(e.start) + MIN_SPAN_S)
        if k + 1 < len(events):
            end = min(end, max(float(events[k + 1].start), start + 0.001))
        out.append((start, end))
    return out


def _top5(e: SignEvent) -> str:
    return "; ".join(f"{name} {p:.2f}" for name, p in e.top5)


def to_eaf(found: Found):
    """A pympi Eaf of the found signs (tiers signs, top-5, sentence; the media linked)."""
    from pympi.Elan import Eaf

    eaf = Eaf(author="slr (sign-language recognition)")
    # EAF 3.0, the format ELAN writes today (what is written here is the same in 2.8, pympi's default)
    eaf.adocument.update({"VERSION": "3.0", "FORMAT": "3.0",
                          "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"})  # fmt: skip
    if found.media and Path(found.media).suffix.lower() in VIDEO_MIME:
        suffix = Path(found.media).suffix.lower()
        eaf.add_linked_file(Path(found.media).resolve().as_uri() if Path(found.media).exists() else found.media,
                            relpath=Path(found.media).name, mimetype=VIDEO_MIME.get(suffix, "video/mp4"))  # fmt: skip
    for tier in (SIGNS_TIER, TOP5_TIER, SENTENCE_TIER):
        eaf.add_tier(tier)
    eaf.remove_tier("default")
    spans = _spans(found.events)
    for e, (a, b) in zip(found.events, spans):
        ms = (int(round(a * 1000)), int(round(b * 1000)))
        if ms[1] <= ms[0]:
            ms = (ms[0], ms[0] + 1)
        eaf.add_annotation(SIGNS_TIER, *ms, value=e.label + (" (personal)" if e.personal else ""))
        eaf.add_annotation(TOP5_TIER, *ms, value=_top5(e))
    if found.sentence and spans:
        start, end = int(round(spans[0][0] * 1000)), int(round(spans[-1][1] * 1000))
        eaf.add_annotation(SENTENCE_TIER, start, max(end, start + 1), value=found.sentence)
    return eaf


def eaf_text(found: Found) -> str:
    """The .eaf file's XML."""
    from pympi.Elan import to_string

    return "<?xml version='1.0' encoding='UTF-8'?>\n" + to_string(to_eaf(found))


def _captions(found: Found) -> list[tuple[float, float, str]]:
    """(start, end, text) of each caption: the signs as they occur, then the sentence."""
    spans = _spans(found.events)
    caps = [(a, b, e.label) for e, (a, b) in zip(found.events, spans)]
    if found.sentence and spans:
        start = spans[-1][1] + 0.001
        caps.append((start, start + SENTENCE_CAPTION_S, found.sentence))
    return caps


def srt_text(found: Found) -> str:
    """SubRip captions (the srt package composes them)."""
    import srt

    subs = [srt.Subtitle(index=i, start=timedelta(seconds=a), end=timedelta(seconds=b), content=text)
            for i, (a, b, text) in enumerate(_captions(found), start=1)]  # fmt: skip
    return srt.compose(subs)


def _vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _vtt_escape(text: str) -> str:
    """Cue text as WebVTT needs it: &, < and > escaped; no blank line or '-->' inside a cue."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "->")
    return " ".join(text.split())


def vtt_text(found: Found) -> str:
    """WebVTT captions (https://www.w3.org/TR/webvtt1/): a header, then one cue per caption."""
    lines = ["WEBVTT", ""]
    for i, (a, b, text) in enumerate(_captions(found), start=1):
        lines += [str(i), f"{_vtt_time(a)} --> {_vtt_time(b)}", _vtt_escape(text), ""]
    return "\n".join(lines)


def json_text(found: Found) -> str:
    kp = found.keypoints
    return json.dumps({"clip": found.media, "model": found.model,
                       "frames": len(kp) if kp is not None else None,
                       "hand_frames": int(kp.hands_present().sum()) if kp is not None else None,
                       "duration": found.duration, "sentence": found.sentence or None,
                       "events": [e.to_dict() for e in found.events], **found.extra}, indent=1)  # fmt: skip


def text(found: Found, fmt: str) -> str:
    """One of the text formats as a string."""
    makers = {"eaf": eaf_text, "srt": srt_text, "vtt": vtt_text, "json": json_text}
    if fmt not in makers:
        raise ExportError(f"{fmt!r} is not a text format ({', '.join(makers)})")
    return makers[fmt](found)


def data(found: Found, fmt: str) -> bytes:
    """The file's bytes in any format (what the Upload page offers to download)."""
    if fmt == "pose":
        import tempfile

        if found.keypoints is None:
            raise ExportError("no keypoints to write as .pose")
        from ..capture.poseformat import write_pose

        with tempfile.TemporaryDirectory(prefix="slr-pose-") as tmp:
            return write_pose(found.keypoints, Path(tmp) / "found.pose").read_bytes()
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return text(found, fmt).encode("utf-8")


def export(found: Found, fmt: str, path: str | Path) -> Path:
    """Write the found signs in a format to a file, atomically; returns the path."""
    path = Path(path)
    content = data(found, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
