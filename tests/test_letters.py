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


LETTERS_WEBCAM = DATA / "letters-webcam" / "letters.csv"


def landmark_sample(tmp_path, rows_per_letter: int = 3, letters=("a", "b", "l", "y")):
    """A few real rows of letters-webcam (its layout: person, repository, letter, x0, y0, ... x20, y20)."""
    table = pd.read_csv(LETTERS_WEBCAM)
    table = (
        table[table["letter"].str.lower().isin(letters)].groupby(["person", "letter"]).head(rows_per_letter)
    )
    path = tmp_path / "rows.csv"
    table.to_csv(path, index=False)
    return path, table


def test_spell_reads_a_landmark_file_row_by_row(tmp_path, capsys):
    path, table = landmark_sample(tmp_path)
    assert slr(["spell", "--landmarks", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(table) and [r["row"] for r in rows] == list(range(2, len(table) + 2))
    assert all(r["letter"] in LetterModel.load(letters_model()).labels for r in rows)
    assert [r["letter_given"] for r in rows] == table["letter"].str.lower().tolist()
    assert slr(["spell", "--landmarks", str(path)]) == 0
    said = capsys.readouterr().out
    assert f"{path}: " in said and f"of {len(table)} rows read as their letter" in said
    # the same hands mirrored (a selfie camera, or the other hand) read the same with a 2D reader
    from slr_core.training.letters import read_landmark_rows

    model = LetterModel.load(letters_model())
    data = read_landmark_rows(path)
    if model.representation != "3d":
        flipped = data.points * np.float32([-1, 1, 1])
        np.testing.assert_allclose(model.point_probabilities(flipped, False, False),
                                   model.point_probabilities(data.points, False, False), atol=1e-5)  # fmt: skip


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.drop(columns=["x7"]), "missing column(s) x7"),
        (lambda t: t.assign(x21=0.0), "unknown coordinate column(s) x21"),
        (lambda t: t.assign(x3=["oops"] + list(t["x3"][1:])), "row 2, column x3: 'oops' is not a number"),
        (lambda t: t.assign(y5=list(t["y5"][:2]) + [None] + list(t["y5"][3:])), "row 4, column y5"),
        (
            lambda t: t.assign(letter=list(t["letter"][:1]) + ["ä"] + list(t["letter"][2:])),
            "row 3: letter 'ä' is not one of a-z",
        ),
        (lambda t: t.iloc[:0], "no rows"),
    ],
)
def test_bad_landmark_files_are_one_line_naming_the_file_and_row(tmp_path, capsys, change, message):
    path, table = landmark_sample(tmp_path)
    change(table).to_csv(path, index=False)
    assert slr(["spell", "--landmarks", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err and len(err.strip().splitlines()) == 1, err


def test_an_empty_landmark_file(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    assert slr(["spell", "--landmarks", str(tmp_path / "empty.csv")]) == 2
    assert "an empty file" in capsys.readouterr().err


def test_train_letters_on_photos_and_landmark_rows_together(tmp_path, table, capsys):
    """A tiny real run over Massey photos and letters-webcam rows, reading both (2D points for every hand,
    the 3D shape where there is depth)."""
    small = table[table["label"].isin(["a", "b", "l", "y"]) & table["signer"].isin(["hand3"])]
    small = small.assign(path=[str(MASSEY / p) for p in small["path"]])
    small.to_csv(tmp_path / "labels.csv", index=False)
    rows, _ = landmark_sample(tmp_path, 5)
    out = tmp_path / "m"
    assert slr(["train-letters", "--data", str(tmp_path / "labels.csv"), "--data", str(rows), "--out", str(out),
                "--epochs", "3", "--quiet"]) == 0  # fmt: skip
    said = capsys.readouterr().out
    assert "from 2 source(s)" in said and "both" in said
    model = LetterModel.load(out)
    assert model.representation == "both" and model.labels == ["a", "b", "l", "y"]
    assert slr(["spell", "--landmarks", str(rows), "--model", str(out)]) == 0
    assert "rows read as their letter" in capsys.readouterr().out
