"""RGB frames into a video file with PyAV (which streamlit-webrtc brings): the clips the tests and the
benchmarks make (other codecs, sizes and frame rates of real signing, joined clips, damaged files)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def write_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    fps: float = 30,
    codec: str = "libx264",
    bit_rate: int | None = None,
) -> Path:
    """Encode (H, W, 3) uint8 RGB frames (a list or a generator; the first sets the size, cut to even
    numbers) with `codec` (libx264, libvpx-vp9, mjpeg, mpeg4, ...); bit_rate None: the encoder's own."""
    import av

    path = Path(path)
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise ValueError(f"{path}: no frames to write")
    h, w = (int(n) - int(n) % 2 for n in first.shape[:2])  # the encoders want even sizes
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=round(fps))
        if not isinstance(stream, av.VideoStream):
            raise ValueError(f"{codec} is not a video codec")
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        if bit_rate:
            stream.bit_rate = bit_rate
        for rgb in itertools.chain([first], it):
            picture = np.ascontiguousarray(np.asarray(rgb)[:h, :w])
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, "rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def cut(src: str | Path, start: float, end: float, dst: str | Path) -> Path:
    """The part of a clip from `start` to `end` seconds (to the frame), as an H.264 mp4 any browser
    plays: a sign's span on its own (the player seeks only to whole seconds)."""
    from .extract import _read_frames, open_video

    cap, fps, _ = open_video(src)
    frames = (
        f
        for t, f in itertools.takewhile(lambda tf: tf[0] <= end + 1e-6, _read_frames(cap, fps))
        if t >= start
    )
    return write_video(dst, frames, fps)
