"""Sign events as a stream gives them, one sign once: a performance read twice (the hands dip out of
the signing space half-way, or two windows agree a moment apart) is merged into one event, in the clip
path and on the live page alike."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class SignEvent:
    label: str
    confidence: float
    top5: list[tuple[str, float]]
    start: float  # seconds, first frame of the sign
    end: float  # seconds, last frame of the sign
    emitted_at: float = 0.0  # stream time when the recogniser emitted it
    personal: bool = False  # recognised from the person's own examples (a library word)
    spelled: bool = False  # fingerspelled, letter by letter (spelling.Speller)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["top5"] = [[name, round(p, 4)] for name, p in self.top5]
        return d

    def line(self) -> str:
        top = ", ".join(f"{n} {p:.2f}" for n, p in self.top5)
        mark = " (personal)" if self.personal else ""
        return f"{self.start:6.2f}-{self.end:6.2f}s  {self.label + mark:16s} {self.confidence:.2f}   top-5: {top}"


# One sign read twice: the recogniser can cut one performance into two events when the hands dip out of
# the signing space half-way (bed, stuck: 0.6 s apart in their studio clips; arm, face, jeans, say: 0.2 s;
# apple 42%, then apple 93% 0.3 s later, live). An event of the same sign starting at most this long after
# the last one ended is the same sign. Measured on the 247 studio clips each alone through the clip path
# (the previous model): exactly its own sign 239 -> 245 (the other two: bedroom read as bed, then bedroom).
REPEAT_GAP_S = 1.0


def merge_repeats(
    events: list[SignEvent], new: list[SignEvent], gap_s: float = REPEAT_GAP_S
) -> list[SignEvent]:
    """Add new events to the list (in place); one that repeats the last event (the same sign, starting
    within gap_s of its end) is merged into it, keeping the more confident reading and the whole span.
    Returns the events that are new signs."""
    fresh: list[SignEvent] = []
    for e in new:
        last = events[-1] if events else None
        if last is not None and last.label == e.label and e.start - last.end <= gap_s:
            kept = e if e.confidence > last.confidence else last
            kept.start, kept.end = min(last.start, e.start), max(last.end, e.end)
            events[-1] = kept
            if fresh and fresh[-1] is last:
                fresh[-1] = kept
            continue
        events.append(e)
        fresh.append(e)
    return fresh
