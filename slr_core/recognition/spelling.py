"""Fingerspelling in a stream: held letter shapes in, letters and spelled words out.

A letter counts when it leads the letter model's probabilities, averaged over `hold_s` seconds, with
at least `min_probability`. The same letter again (the two l's of "hello") needs a release in between
(a moment of another or no clear letter) or a small bounce (the wrist moves by `bounce` palm
lengths and settles again). The word ends when the hand is gone for `end_s` seconds (dropped out of
the picture, or lowered below the signing space); a word of one letter is kept as a letter only.

Frames come from the live camera or a clip, with the dominant hand's 21 points (x, y, z in one unit)
or None when there is no hand. ``Speller`` keeps no MediaPipe or model state of its own beyond the
letter model it is given.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .letters import LetterModel


@dataclass
class SpellConfig:
    hold_s: float = 0.3  # a letter held this long counts
    min_probability: float = 0.45  # chosen on spelled words of bench seed 1 (CER 0.084 -> 0.062)
    bounce: float = 0.3  # palm lengths the wrist moves for a repeated letter
    still: float = 0.25  # palm lengths the wrist may wander while a letter is held
    end_s: float = 0.5  # no hand this long ends the word


@dataclass
class SpelledLetter:
    letter: str
    probability: float
    start: float
    end: float


@dataclass
class SpelledWord:
    letters: list[SpelledLetter] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(x.letter for x in self.letters)

    @property
    def start(self) -> float:
        return self.letters[0].start if self.letters else 0.0

    @property
    def end(self) -> float:
        return self.letters[-1].end if self.letters else 0.0

    def to_dict(self) -> dict:
        return {"word": self.text, "start": self.start, "end": self.end,
                "letters": [x.__dict__ for x in self.letters]}  # fmt: skip


class Speller:
    """Push the dominant hand frame by frame; get letters as they count and words as they end.

    The letter model's probabilities are averaged over the last `hold_s` seconds; a letter counts
    when it leads that average with at least `min_probability` (a hold, robust to a frame or two of
    doubt). Words are letters: digits are left out unless `digits` is set (0/o, 2/v and 6/w share
    their hand shapes)."""

    def __init__(self, model: LetterModel, config: SpellConfig | None = None, digits: bool = False) -> None:
        self.model = model
        self.cfg = config or SpellConfig()
        keep = [i for i, c in enumerate(model.labels) if digits or not c.isdigit()]
        self._keep = np.array(keep)
        self._names = [model.labels[i] for i in keep]
        self.reset()

    def reset(self) -> None:
        self.word = SpelledWord()
        self._window: deque[tuple[float, np.ndarray, np.ndarray]] = deque()  # (time, probabilities, wrist)
        self._palm = 1.0  # the hand's palm length, in its points' unit
        self._last_emitted: str | None = None
        self._released = True  # another letter (or none) led since the last one counted
        self._anchor: np.ndarray | None = None  # wrist where the last letter counted
        self._moved = False  # the wrist bounced since then
        self._last_hand: float | None = None

    def push(
        self, hand: np.ndarray | None, t: float, left: bool = False
    ) -> tuple[list[SpelledLetter], list[SpelledWord]]:
        """One frame: (letters that counted now, words that ended now)."""
        if hand is None or not np.isfinite(hand).all():
            words = (
                self._end_word()
                if self._last_hand is not None and t - self._last_hand > self.cfg.end_s
                else []
            )
            self._window.clear()
            self._released = True
            return [], words
        self._last_hand = t
        probs = self.model.point_probabilities(hand, left)[0][self._keep]
        probs = probs / max(float(probs.sum()), 1e-9)
        self._window.append((t, probs, hand[0].copy()))
        while self._window and t - self._window[0][0] > self.cfg.hold_s:
            self._window.popleft()
        self._track_bounce(hand)
        if t - self._window[0][0] < self.cfg.hold_s * 0.75:  # most of hold_s (frames come unevenly)
            return [], []  # not held long enough to judge
        mean = np.mean([p for _, p, _ in self._window], axis=0)
        k = int(mean.argmax())
        letter, p = self._names[k], float(mean[k])
        if letter != self._last_emitted or p < self.cfg.min_probability:
            self._released = True  # a held moment of another letter, or of no clear one
        if p < self.cfg.min_probability or not self._still():
            return [], []
        if letter == self._last_emitted and not (self._released or self._moved):
            return [], []
        done = SpelledLetter(letter, p, self._window[0][0], t)
        self.word.letters.append(done)
        self._last_emitted, self._released, self._moved = letter, False, False
        self._anchor = hand[0].copy()
        self._window.clear()  # holding on does not count the letter again
        return [done], []

    def _still(self) -> bool:
        """The wrist has settled over the window (a letter is held, not passed through)."""
        wrists = np.stack([w for _, _, w in self._window])
        return float(np.linalg.norm(wrists.max(0) - wrists.min(0))) <= self.cfg.still * self._palm

    def _track_bounce(self, hand: np.ndarray) -> None:
        self._palm = float(np.linalg.norm(hand[9] - hand[0])) or 1.0
        if self._anchor is not None and np.linalg.norm(hand[0] - self._anchor) > self.cfg.bounce * self._palm:
            self._moved = True

    def _end_word(self) -> list[SpelledWord]:
        word = self.word
        self.reset()
        return [word] if len(word.letters) >= 2 else []

    def flush(self) -> list[SpelledWord]:
        """End of the stream: the word in progress."""
        return self._end_word()


AUTO_MIN_LETTERS = 3  # automatic mode: a spelled word this long wins over a sign made over the same time


def plausible_spelling(word: SpelledWord) -> bool:
    """Automatic mode (spelling beside signs): a word of at least two different letters. One letter
    again and again ("ooo") is what a sign's movement looks like to the speller: the hand shape
    held while the wrist moves and settles (bench_letters' "auto" part measured it on real signs)."""
    return len({x.letter for x in word.letters}) >= 2


def dominant_hand(data: np.ndarray, aspect: float = 1.0) -> tuple[np.ndarray, bool]:
    """The hand seen in more frames of a (T, 543 | 94, 3) sequence, as (T, 21, 3) points in one unit
    (y times the picture's height over its width), NaN where missing; and whether it is the left."""
    from ..capture.landmarks import PIPELINE_HANDS, to_pipeline_rows

    rows = to_pipeline_rows(np.asarray(data, np.float32))
    seen = [int(np.isfinite(rows[:, h, 0]).any(1).sum()) for h in PIPELINE_HANDS]
    left = seen[0] > seen[1]
    hand = rows[:, PIPELINE_HANDS[0 if left else 1], :3].copy()
    hand[..., 1] *= aspect
    return hand, left


def spell_sequence(model: LetterModel, data: np.ndarray, times: np.ndarray, aspect: float = 1.0,
                   config: SpellConfig | None = None) -> list[SpelledWord]:  # fmt: skip
    """The words spelled in a whole sequence (a clip's keypoints)."""
    hand, left = dominant_hand(data, aspect)
    speller = Speller(model, config)
    words: list[SpelledWord] = []
    for h, t in zip(hand, times):
        words += speller.push(h if np.isfinite(h).all() else None, float(t), left)[1]
    return words + speller.flush()
