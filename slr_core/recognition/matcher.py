"""Personal signs recognised next to the model's own: a classifier that also knows a library.

Each example in the library is embedded by the base model (the pooled features its head reads),
together with ENROL_COPIES altered copies of it (other speeds, small turns of the body and hands,
other hand sizes: how the same person signs a little differently each time); a window is compared
with all of them by cosine similarity, and a word's score is its closest one's. The word wins when
that score reaches the word's own threshold, which comes from the library itself: how closely the
word's examples match each other (leave one out, the recorded examples only), never below
MIN_SIMILARITY. When the window's arm path (`trajectory`) and the word's examples' can be compared,
the bar is MOVEMENT_STRICTER higher, and a match below it (at least MOVEMENT_MIN_SIMILARITY) wins when
the movement agrees: the path is within MOVEMENT_MAX_DISTANCE of one of the word's examples and not
MOVEMENT_RATIO times nearer to another word's. Otherwise the base classifier answers, with
its own rejection. Adding an example costs one batch of forward passes and one path;
nothing is retrained, and a new base model simply re-embeds the stored keypoints.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ..features.augment import AugmentConfig, augment
from ..features.preprocess import preprocess, stack
from ..features.trajectory import distances, path
from .library import Example, Library
from .predict import Classifier, Guess, predict_features, top_signs

# A match must be at least this close (cosine), whatever the examples say. Measured with bench_personal
# (3 examples of hello and thankyou per signer, 14 signers, the protocol-A model; chosen on 7 of the
# signers for at most 1% of other signs taken, then measured on all): with the altered copies, 0.80
# gives 0.746 of a signer's other repetitions right, 0.9% of the studio clips of other signs and of
# words outside the vocabulary taken for a library word; without copies the best was 0.75: 0.672.
MIN_SIMILARITY = 0.80
AGREEMENT_MARGIN = 0.05  # below the examples' own agreement by at most this much
ENROL_COPIES = 8  # altered copies embedded with each example
# Movement as a second opinion (bench_personal: 1 and 3 examples of hello and thankyou per signer,
# chosen on the 7 dev-half signers with the base model alone). A path within 1.0-1.5 (DTW per step, in
# shoulder widths) of the word's nearest example: 3 examples 0.735 -> 0.915, 1 example 0.478 ->
# 0.827-0.870, and not one more studio clip of other signs or held-out unknown word taken; at 2.0 they
# start to be taken (1 example: 3% and 6%). A limit from the word's own examples instead (1.2 times the
# farthest any of them is from its nearest partner) gave 0.883 and needs 2 examples. A minimum
# similarity of 0.6 instead of 0.5 checks half as many windows and loses about half a point. Another
# word vetoes only when its example is MOVEMENT_RATIO times nearer (asking the path to be nearest to the
# word's own examples of all: 0.915; a veto at 1.2, 1.5, 2 times or none: 0.967, 0.973, 0.973, 0.973).
# When the path can be checked, the embedding alone needs MOVEMENT_STRICTER more (0, 0.03, 0.05, 0.08:
# 3 examples 0.973, 0.962, 0.962, 0.957; studio clips of other signs taken 1.2%, 0.3%, 0%, 0%; held-out
# words outside the vocabulary 2.2%, 1.8%, 1.5%, 1.2%, the base model alone 1.0%).
MOVEMENT_MIN_SIMILARITY = 0.65
MOVEMENT_MAX_DISTANCE = 1.2
MOVEMENT_RATIO = 2.0  # another word's example this many times nearer vetoes the check
# Since bench_personal --parts falsetake (a word taught from k = 3 webcam users' clips of one sign, tried
# on the 2,200 clips of other signs; the older bundled model as base): a near miss is confirmed only at a
# similarity of 0.65 or more (it was 0.5) and when its path is within the limit of more than half of
# the word's examples (one example: that one). Other signs' clips taken, hello / thankyou / no / yes /
# please: 8.0 / 10.8 / 17.5 / 10.2 / 5.2% before, 2.4 / 4.2 / 0.4 / 0.9 / 0.7% after (similarity 0.65
# alone: 2.6 / 7.7 / 8.7 / 1.9 / 1.4%; the majority alone: 7.4 / 4.6 / 0.7 / 5.4 / 2.6%): examples of
# different people move differently, and a clip near one of them is not yet like the word.
MOVEMENT_STRICTER = 0.05  # added to a word's threshold when the movement can be checked
# A personal match gives way to a sign the model is sure of: with this probability or more for another
# sign, the model answers (a word taught from apple clips must not take a clip the model reads as drink at
# 96%). First for near misses accepted on their movement alone; since bench_personal --parts falsetake,
# for every match (a close match took a mom clip the model was 95% sure of). bench_personal (protocol-A base, 3 examples): a word taught
# from one studio clip took 26.3% of the other studio clips the model gets right when near misses never
# gave way; 1.3% giving way at 0.9, 0% at 0.7 and 0.5. The signers' own words: 0.958 never, 0.958 at
# 0.9, 0.954 at 0.7, 0.946 at 0.5 (dev half 0.967 at 0.9 and 0.7, 0.963 at 0.5): 0.7 ends the
# takeover for 0.4 points.
MODEL_SURE = 0.7
# The copies: a person's own variation, not another camera (no mirror, no phone framing, few lost points).
ENROL_AUGMENT = AugmentConfig(p_mirror=0.0, p_phone=0.0, p_cutout=0.0, p_dropout=0.2)


@dataclass
class WordStats:
    """How a word's examples agree with each other and which other word they come closest to."""

    word: str
    examples: int
    agreement: float  # mean over examples of the best similarity to another example of the word
    threshold: float  # what a window needs to be this word
    nearest_word: str | None  # the other library word closest to this one's examples
    nearest_similarity: float
    movement_threshold: float | None = None  # the farthest path that confirms a near miss (None: no
    # confirmation, no example with the shoulders in view)

    @property
    def confusable(self) -> bool:
        """Another word's examples look as alike to this word as its own examples do."""
        return self.nearest_word is not None and self.nearest_similarity >= self.threshold


@dataclass
class PersonalMatch:
    word: str
    similarity: float
    threshold: float
    example_id: str
    movement: bool = False  # a near miss whose movement agrees with the word's examples

    @property
    def accepted(self) -> bool:
        return self.similarity >= self.threshold or self.movement


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


class PersonalClassifier(Classifier):
    """The base model's guesses, plus the library's words. Same interface as Classifier."""

    def __init__(
        self,
        loaded,
        library: Library,
        threshold: float | None = None,
        device="cpu",
        movement: bool = True,
        model_sure: float | None = MODEL_SURE,
    ) -> None:
        super().__init__(loaded, threshold, device)
        self.library = library
        self.movement = movement  # confirm near misses by their movement (off: the embedding alone)
        self.model_sure = model_sure  # None: a near miss confirmed by its movement never gives way
        self._cache: dict[str, np.ndarray] = {}  # example id -> unit embedding (this model's)
        self._path_cache: dict[str, np.ndarray | None] = {}  # example id -> its arm path (no model)
        self.refresh()

    def refresh(self) -> None:
        """Embed examples added since the last call and recompute the words' thresholds."""
        vectors, words, ids, recorded = [], [], [], []
        for e in self.library.examples:
            if e.id not in self._cache:
                v = self.embed_example(e)
                if v is None:
                    continue
                self._cache[e.id] = v
            rows = len(self._cache[e.id])  # the example, then its copies
            vectors.append(self._cache[e.id])
            words += [e.word] * rows
            ids += [e.id] * rows
            recorded += [True] + [False] * (rows - 1)
        self._vectors = np.concatenate(vectors) if vectors else np.zeros((0, 1), np.float32)
        self._words, self._ids = np.array(words), ids
        self._recorded = np.array(recorded, bool)  # the rows of the recorded examples themselves
        self._refresh_paths()
        self.stats = {w: self._word_stats(w) for w in dict.fromkeys(words)}

    def _refresh_paths(self) -> None:
        """The arm paths of the embedded examples (computed once per example)."""
        paths, words = [], []
        for e in self.library.examples:
            if e.id not in self._cache:
                continue  # no hands, not embedded: not a word's example either
            if e.id not in self._path_cache:
                self._path_cache[e.id] = path(e.data)
            mine = self._path_cache[e.id]
            if mine is not None:
                paths.append(mine)
                words.append(e.word)
        self._paths = np.stack(paths) if paths else np.zeros((0, 1, 1), np.float32)
        self._path_words = np.array(words)

    def _movement_threshold(self, word: str) -> float | None:
        """How far a path may be from the word's nearest example to confirm a near miss (None when
        none of the word's examples has a path)."""
        return MOVEMENT_MAX_DISTANCE if (self._path_words == word).any() else None

    def embed_example(self, e: Example) -> np.ndarray | None:
        """Unit embeddings (1 + copies, D) of an example and its altered copies (None without hands).
        The copies are drawn from the example's id, so they are the same every time."""
        rng = np.random.default_rng(zlib.crc32(e.id.encode()))
        first = preprocess(e.data, e.times, self.length)
        if first.empty:
            return None
        feats = [first]
        for _ in range(ENROL_COPIES):
            f = preprocess(*augment(e.data, e.times, rng, ENROL_AUGMENT), self.length)
            if not f.empty:
                feats.append(f)
        out = predict_features(self.model, stack(feats, self.length), device=self.device, embed=True)
        assert out.embedding is not None
        return _unit(out.embedding.astype(np.float32))

    def _word_stats(self, word: str) -> WordStats:
        mine = (self._words == word) & self._recorded
        own = self._vectors[mine]
        sims = own @ own.T
        np.fill_diagonal(sims, -np.inf)
        agreement = float(sims.max(1).mean()) if len(own) > 1 else float("nan")
        threshold = (
            max(MIN_SIMILARITY, agreement - AGREEMENT_MARGIN) if len(own) > 1 else MIN_SIMILARITY + 0.05
        )
        nearest, best = None, -1.0
        others = (self._words != word) & self._recorded
        if others.any():
            cross = own @ self._vectors[others].T  # (mine, others)
            j = int(cross.max(0).argmax())
            nearest, best = str(self._words[others][j]), float(cross.max())
        return WordStats(
            word, int(mine.sum()), agreement, float(min(threshold, 0.995)), nearest, best,
            self._movement_threshold(word),
        )  # fmt: skip

    def match(self, embedding: np.ndarray, data: np.ndarray | None = None) -> PersonalMatch | None:
        """The library word closest to an embedding (None for an empty library); given the window's
        landmarks, a near miss is checked against the word's movement."""
        if not len(self._ids):
            return None
        sims = self._vectors @ _unit(embedding.astype(np.float32))
        k = int(sims.argmax())
        word = str(self._words[k])
        m = PersonalMatch(word, float(sims[k]), self.stats[word].threshold, self._ids[k])
        checkable = self.movement and self.stats[word].movement_threshold is not None
        if (
            checkable
            and data is not None
            and MOVEMENT_MIN_SIMILARITY <= m.similarity < m.threshold + MOVEMENT_STRICTER
        ):
            mine = path(data)
            if mine is not None:  # the path can speak: the embedding alone must clear a higher bar
                m.threshold += MOVEMENT_STRICTER
                m.movement = self._moves(word, mine)
        return m

    def moves_like(self, word: str, data: np.ndarray) -> bool:
        """Whether a window's arm path is close enough to one of `word`'s examples, and not far nearer
        to another word's."""
        mine = path(data) if self.stats[word].movement_threshold is not None else None
        return mine is not None and self._moves(word, mine)

    def _moves(self, word: str, mine: np.ndarray) -> bool:
        limit = self.stats[word].movement_threshold
        assert limit is not None
        d = distances(mine, self._paths)
        mine_d = d[self._path_words == word]
        own = float(mine_d.min())
        near = int((mine_d <= limit).sum())  # more than half of the word's examples must be near
        others = d[self._path_words != word]
        return 2 * near > len(mine_d) and (not len(others) or own <= MOVEMENT_RATIO * float(others.min()))

    def guess(self, data: np.ndarray, times: np.ndarray, threshold: float | None = None) -> Guess | None:
        out = self.outputs(data, times)
        if out is None:
            return None
        probs = self.probabilities_of(out)
        m = self.match(out["embedding"][0].float().cpu().numpy(), data)
        model = self.decide(probs, threshold)
        if m is not None and m.accepted and not self.gives_way(m, model):
            others = [(n, p) for n, p in top_signs(probs, self.labels) if n != m.word][:4]
            index = self.labels.index(m.word) if m.word in self.labels else -1
            return Guess(index, m.word, m.similarity, True, [(m.word, m.similarity), *others], personal=True)
        return model

    def gives_way(self, m: PersonalMatch, model: Guess) -> bool:
        """Whether a personal match yields to another sign the model accepts with at least `model_sure`
        probability: whatever the match (a near miss confirmed by its movement, or a close one), a sign
        the model is sure of is not taken by a personal word (a word taught from other people's clips of
        one sign took a clip the model read as mom at 95%)."""
        sure = self.model_sure is not None and model.accepted and model.probability >= self.model_sure
        return sure and model.label != m.word
