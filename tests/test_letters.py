"""Fingerspelling: letters from real still images of hands (MediaPipe Hands), the bundled letter
model, training it, spelled words through the live session, and `slr spell`."""

import json

import numpy as np
import pandas as pd
import pytest

from slr_core.app.live import LiveSession
from slr_core.base.settings import letters_model
from slr_core.capture.landmarks import LEFT_HAND, N_ROWS, RIGHT_HAND
from slr_core.cli import main as slr
from slr_core.models.checkpoint import load_model
from slr_core.recognition.letters import HandFinder, LetterError, LetterModel, letter_features, read_image
from slr_core.recognition.predict import Classifier

from .conftest import DATA, REPO, needs_shared

pytestmark = needs_shared
MASSEY = DATA / "asl-letters-massey"
MODEL = REPO / "models" / "asl250-popsign-kaggle2"


@pytest.fixture(scope="module")
def table():
    return pd.read_csv(MASSEY / "labels.csv", dtype=str)


@pytest.fixture(scope="module")
def hands(table):
    """Real hands found in one person's images of c, a, b and the digit 5."""
    out = {}
    with HandFinder() as finder:
        for letter in ("c", "a", "b", "5"):
            rows = table[(table["label"] == letter) & (table["signer"] == "hand2")]["path"]
            for rel in rows:
                found = finder.find(read_image(MASSEY / rel))
                if found is not None:
                    out[letter] = found
                    break
    assert set(out) == {"c", "a", "b", "5"}
    return out


def test_the_bundled_model_reads_real_hands(hands):
    model = LetterModel.load(letters_model())
    assert {k: model.predict(h.points, h.left).letter for k, h in hands.items()} == {k: k for k in hands}
    card = (letters_model() / "README.md").read_text()
    assert "leave one person out" in card.lower() and "J and Z" in card


def test_features_do_not_care_about_size_place_or_side(hands):
    h = hands["a"].points
    f = letter_features(h, hands["a"].left)
    np.testing.assert_allclose(letter_features(h * 3 + 0.2, hands["a"].left), f, atol=1e-4)
    mirrored = h * np.array([-1.0, 1.0, 1.0], np.float32)
    np.testing.assert_allclose(letter_features(mirrored, not hands["a"].left), f, atol=1e-4)


def frame_with(hand) -> np.ndarray:
    """A 543-row frame holding only this hand, in the slot MediaPipe named."""
    frame = np.full((N_ROWS, 3), np.nan, np.float32)
    rows = LEFT_HAND.rows if hand.left else RIGHT_HAND.rows
    frame[rows] = hand.points
    return frame


def test_a_word_spelled_through_the_live_session(hands):
    session = LiveSession(
        Classifier(load_model(MODEL)), letters=LetterModel.load(letters_model()), mode="spelling"
    )
    t = 0.0
    empty = np.full((N_ROWS, 3), np.nan, np.float32)
    for letter in ("c", "a", "b"):
        for _ in range(15):  # held for half a second, with a little jitter
            f = frame_with(hands[letter])
            f[~np.isnan(f)] += np.random.default_rng(int(t * 100)).normal(0, 0.002, (~np.isnan(f)).sum())
            session.process_landmarks(f, t)
            t += 1 / 30
        if letter == "a":
            assert session.spelling() == "ca"  # shown letter by letter while spelling
    for _ in range(25):  # the hand drops
        session.process_landmarks(empty, t)
        t += 1 / 30
    events = session.drain()
    assert [(e.label, e.spelled) for e in events] == [("Cab", True)]  # a name keeps its capital
    with pytest.raises(ValueError, match="mode"):
        LiveSession(Classifier(load_model(MODEL)), mode="spelling")  # spelling needs a letter model


def spell_through(session, hands, letters: str) -> list:
    """Real letter hands held half a second each (a bounce before a repeated letter), then the hand drops."""
    t, empty = 0.0, np.full((N_ROWS, 3), np.nan, np.float32)
    for k, letter in enumerate(letters):
        h = hands[letter]
        palm = np.linalg.norm(h.points[9] - h.points[0])
        lift = (
            [np.sin(a) * 0.5 * palm for a in np.linspace(0, np.pi, 8)]
            if k and letters[k - 1] == letter
            else []
        )
        for dy in [*lift, *[0.0] * 15]:
            f = frame_with(h)
            f[RIGHT_HAND.rows if not h.left else LEFT_HAND.rows, 1] -= dy
            session.process_landmarks(f, t)
            t += 1 / 30
    for _ in range(25):
        session.process_landmarks(empty, t)
        t += 1 / 30
    return [(e.label, e.spelled) for e in session.drain()]


def test_automatic_mode_drops_one_letter_repeated(hands):
    """In "Both (automatic)" mode a word of one letter again and again is what a sign's movement looks
    like to the speller (bench_letters' auto part: "ooo" from hello on real signers): dropped there,
    kept when the user chose fingerspelling."""
    classifier, letters = Classifier(load_model(MODEL)), LetterModel.load(letters_model())
    assert spell_through(LiveSession(classifier, letters=letters, mode="spelling"), hands, "aaa") == [
        ("Aaa", True)
    ]
    assert spell_through(LiveSession(classifier, letters=letters, mode="auto"), hands, "aaa") == []
    assert spell_through(LiveSession(classifier, letters=letters, mode="auto"), hands, "cab") == [
        ("Cab", True)
    ]


def test_slr_spell_on_images(capsys, table, tmp_path):
    paths = [
        str(MASSEY / table[(table["label"] == c) & (table["signer"] == "hand1")]["path"].iloc[0])
        for c in "lw"
    ]
    (tmp_path / "not-an-image.jpg").write_text("hello")
    assert slr(["spell", *paths, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["letter"] for r in out] == ["l", "w"] and all(0 < r["probability"] <= 1 for r in out)
    assert slr(["spell", str(tmp_path / "not-an-image.jpg")]) == 2
    assert "not an image" in capsys.readouterr().err


def test_train_letters_small_and_bad_models(tmp_path, table, capsys):
    small = table[table["label"].isin(["a", "b", "l"]) & table["signer"].isin(["hand3", "hand4"])]
    small = small.assign(path=[str(MASSEY / p) for p in small["path"]])
    small.to_csv(tmp_path / "labels.csv", index=False)
    assert slr(["train-letters", "--data", str(tmp_path / "labels.csv"), "--out", str(tmp_path / "m"),
                "--epochs", "5", "--evaluate", "--quiet"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "leave one person out" in out and "hand3" in out
    model = LetterModel.load(tmp_path / "m")
    assert model.labels == ["a", "b", "l"] and "leave_one_person_out" in model.meta
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "letters.safetensors").write_bytes(b"\x80\x04 not weights")
    with pytest.raises(LetterError, match="not a readable letter model"):
        LetterModel.load(tmp_path / "bad")
