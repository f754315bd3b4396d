"""The formats researchers and captioners use, round trip on real files: ELAN (.eaf) out of
`slr predict` and read back by pympi, an .eaf made by pympi into `slr extract --eaf` and `slr eval`,
.pose written and read by pose-format, SRT and WebVTT opened by FFmpeg (PyAV's libavformat), and the
bad inputs of each."""

import json
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest
from pympi.Elan import Eaf

from slr_core.capture import videofile
from slr_core.capture.keypoints import read_parquet
from slr_core.capture.poseformat import read_keypoints, read_pose, write_pose
from slr_core.cli import main as slr
from slr_core.recognition import exports
from slr_core.recognition.streaming import SignEvent

from .conftest import FULL_FIXTURE, SIGN_MAP, needs_shared, popsign_clip, read_rgb_frames

pytestmark = needs_shared
WORDS = ("hello", "please", "bed")
GLOSSES = {"hello": "HELLO", "please": "please.", "bed": " Bed "}  # case, punctuation, spaces


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A real video of three studio clips one after another, annotated in an .eaf made by pympi (the
    way ELAN users' files are), with the spans of the three signs."""
    root = tmp_path_factory.mktemp("corpus")
    frames, spans, t, fps = [], [], 0.0, None
    for w in WORDS:
        f, rate = read_rgb_frames(popsign_clip(w))
        fps = fps or rate
        spans.append((t, t + len(f) / fps, w))
        frames += f
        t += len(f) / fps
    videofile.write_video(root / "signer1.mp4", frames, fps, "libx264", bit_rate=2_000_000)
    eaf = Eaf(author="test")
    eaf.add_linked_file(
        (root / "signer1.mp4").resolve().as_uri(), relpath="signer1.mp4", mimetype="video/mp4"
    )
    eaf.add_tier("glosses", part="Signer One")
    eaf.add_tier("notes")
    eaf.remove_tier("default")
    for a, b, w in spans:
        eaf.add_annotation("glosses", int(a * 1000) + 1, int(b * 1000) - 1, GLOSSES[w])
    eaf.add_annotation("notes", 10, 500, "a note")
    eaf.to_file(str(root / "signer1.eaf"))
    return root, spans


def fixture_parquet() -> Path:
    table = pd.read_csv(FULL_FIXTURE / "train.csv")
    return FULL_FIXTURE / table["path"].iat[0]


def test_pose_files_round_trip_through_pose_format(tmp_path):
    from pose_format import Pose

    kp = read_parquet(fixture_parquet())
    kp.meta.update(width=640, height=480)
    path = write_pose(kp, tmp_path / "x.pose")
    pose = Pose.read(path.read_bytes())  # pose-format's own reader
    names = [c.name for c in pose.header.components]
    assert names == ["POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"]
    assert pose.body.data.shape == (len(kp), 1, 543, 3) and pose.body.fps == kp.fps
    right = names.index("RIGHT_HAND_LANDMARKS")
    start = sum(len(c.points) for c in pose.header.components[:right])
    seen = pose.body.confidence[:, 0, start] > 0
    wrist = kp.data[:, 522]  # the Kaggle layout's right wrist
    assert (seen == np.isfinite(wrist[:, 0])).all()
    np.testing.assert_allclose(pose.body.data[seen, 0, start, 0], wrist[seen, 0] * 640, rtol=1e-5)
    back = read_pose(path)
    assert back.data.shape == kp.data.shape and (np.isnan(back.data) == np.isnan(kp.data)).all()
    np.testing.assert_allclose(back.data[np.isfinite(back.data)], kp.data[np.isfinite(kp.data)], atol=1e-5)
    assert read_keypoints(path).meta == {"width": 640, "height": 480}


def test_a_dataset_of_pose_files_is_read_like_parquet(tmp_path, capsys):
    """.pose files listed in a train.csv: the cache, `slr eval` and the Dataset explorer read them."""
    table = pd.read_csv(FULL_FIXTURE / "train.csv")
    for i, rel in enumerate(table["path"]):
        new = Path(rel).with_suffix(".pose")
        write_pose(read_parquet(FULL_FIXTURE / rel), tmp_path / new)
        table.loc[i, "path"] = str(new)
    table.to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / SIGN_MAP.name).write_text(SIGN_MAP.read_text())
    assert slr(["eval", "--model", "models/asl250-popsign-kaggle2", "--data", str(tmp_path), "--quiet",
                "--cache-dir", str(tmp_path / "cache")]) == 0  # fmt: skip
    pose_out = capsys.readouterr().out
    assert slr(["eval", "--model", "models/asl250-popsign-kaggle2", "--data", str(FULL_FIXTURE), "--quiet",
                "--cache-dir", str(tmp_path / "cache")]) == 0  # fmt: skip
    parquet_out = capsys.readouterr().out
    assert "(n=12)" in pose_out and pose_out.splitlines()[-1] == parquet_out.splitlines()[-1]


def test_damaged_or_foreign_pose_files_are_refused_by_name(tmp_path, capsys):
    bad = tmp_path / "bad.pose"
    bad.write_bytes(b"\x00\x01not a pose")
    assert slr(["predict", str(bad)]) == 2
    assert f"{bad}: not a readable .pose file" in capsys.readouterr().err
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    other = PoseHeader(
        0.1,
        PoseHeaderDimensions(100, 100, 1),
        [PoseHeaderComponent("BODY_25", ["a", "b"], [], [(0, 0, 0)], "XYC")],
    )
    body = NumPyPoseBody(25, np.zeros((3, 1, 2, 2), np.float32), np.ones((3, 1, 2), np.float32))
    with open(tmp_path / "openpose.pose", "wb") as f:
        Pose(other, body).write(f)
    assert slr(["predict", str(tmp_path / "openpose.pose")]) == 2
    assert "not MediaPipe Holistic keypoints (no POSE_LANDMARKS" in capsys.readouterr().err


def test_predict_writes_every_format_and_the_eaf_reads_back(tmp_path, capsys):
    """Keypoints through `slr predict --format ...`: the .eaf read by pympi has the events' spans, the
    captions open in FFmpeg as subtitle streams, the .pose gives the same signs again."""
    clip = fixture_parquet()
    assert slr(["predict", str(clip), "--json"]) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    assert events, "the bundled model finds no sign in the fixture's first sequence"
    for fmt in ("eaf", "srt", "vtt", "json", "pose"):
        assert slr(["predict", str(clip), "--format", fmt, "--out", str(tmp_path / f"found.{fmt}")]) == 0
        assert not list(tmp_path.glob("*.tmp"))  # nothing half-written left behind
    eaf = Eaf(str(tmp_path / "found.eaf"))
    assert eaf.adocument["VERSION"] == "3.0" and set(eaf.get_tier_names()) == {"signs", "top-5", "sentence"}
    signs = sorted(eaf.get_annotation_data_for_tier("signs"))
    assert [v for _, _, v in signs] == [e["label"] for e in events]
    for (a, b, _), e in zip(signs, events):
        assert abs(a - e["start"] * 1000) <= 1 and b > a
    top5 = sorted(eaf.get_annotation_data_for_tier("top-5"))
    assert top5[0][2].startswith(f"{events[0]['label']} ")
    assert eaf.get_annotation_data_for_tier("sentence")[0][2]  # the English sentence
    for fmt in ("srt", "vtt"):
        with av.open(str(tmp_path / f"found.{fmt}")) as container:
            assert len(container.streams.subtitles) == 1
            cues = [p for p in container.demux(container.streams.subtitles[0]) if p.size]
        assert len(cues) == len(events) + 1  # each sign, then the sentence
    assert slr(["predict", str(tmp_path / "found.pose"), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)["events"]
    assert [e["label"] for e in again] == [e["label"] for e in events]
    assert slr(["predict", str(clip), "--format", "pose"]) == 2  # binary: needs --out
    assert "give --out FILE.pose" in capsys.readouterr().err


def test_captions_escape_what_webvtt_reserves():
    e = SignEvent("a<b>&c", 0.9, [("a<b>&c", 0.9)], 0.0, 1.0)
    text = exports.vtt_text(exports.Found([e], sentence="Tom --> Ann"))
    assert text.startswith("WEBVTT\n") and "a&lt;b&gt;&amp;c" in text and "Tom --&gt; Ann" in text
    assert all("-->" not in line for line in text.splitlines() if ":" not in line)  # only in the timings
    overlapping = [SignEvent("x", 0.9, [], 0.0, 2.0), SignEvent("y", 0.9, [], 1.0, 1.5)]
    spans = exports._spans(overlapping)
    assert spans[0][1] <= spans[1][0]  # captions and ELAN annotations of one tier never overlap


def test_an_elan_corpus_becomes_a_dataset_that_slr_eval_reads(corpus, tmp_path, capsys):
    root, spans = corpus
    out = tmp_path / "kp"
    code = slr(["extract", "--eaf", str(root), "--tier", "glosses", "--out", str(out), "--sign-map", str(SIGN_MAP),
                "--workers", "1", "--quiet"])  # fmt: skip
    said = capsys.readouterr().out
    assert code == 0 and "3 annotation(s) extracted" in said, said
    table = pd.read_csv(out / "train.csv")
    assert table["sign"].tolist() == list(WORDS) and table["word"].tolist() == ["HELLO", "please.", "Bed"]
    assert table["participant_id"].nunique() == 1  # one PARTICIPANT on the tier: one person
    for (a, b, _), start, end in zip(spans, table["start"], table["end"]):
        assert abs(start - a) < 0.01 and abs(end - b) < 0.01
    assert slr(["eval", "--model", "models/asl250-webcam", "--data", str(out), "--quiet"]) == 0
    assert "(n=3)" in capsys.readouterr().out
    # again: nothing to do, the same dataset
    assert slr(["extract", "--eaf", str(root), "--tier", "glosses", "--out", str(out), "--sign-map", str(SIGN_MAP),
                "--quiet"]) == 0  # fmt: skip
    assert "0 annotation(s) extracted, 3 already there" in capsys.readouterr().out
    # no --tier with two tiers annotated: said, by file; nothing extracted at all: exit 2
    assert (
        slr(
            [
                "extract",
                "--eaf",
                str(root),
                "--out",
                str(tmp_path / "x"),
                "--sign-map",
                str(SIGN_MAP),
                "--quiet",
            ]
        )
        == 2
    )
    assert "2 tiers with annotations (glosses, notes); choose one with --tier" in capsys.readouterr().err


def test_bad_elan_files_are_named_and_the_rest_goes_on(corpus, tmp_path, capsys):
    root, spans = corpus
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "signer1.mp4").write_bytes((root / "signer1.mp4").read_bytes())
    eaf = Eaf(author="test")
    eaf.add_tier("glosses")
    eaf.remove_tier("default")
    (h0, h1, _), (p0, p1, _), (b0, b1, _) = spans
    ms = lambda t: int(t * 1000)  # noqa: E731
    eaf.add_annotation("glosses", ms(h0) + 1, ms(h1) - 1, "hello")
    eaf.add_annotation("glosses", ms(h0) + 200, ms(h0) + 400, "hello")  # overlaps the one before
    eaf.add_annotation("glosses", ms(p0) + 1, ms(p1) - 1, "xyzzy")  # no such sign
    eaf.add_annotation("glosses", ms(b0) + 1, ms(b1) + 3000, "bed")  # 3 s past the video's end
    eaf.add_annotation("glosses", ms(b1) + 5000, ms(b1) + 6000, "bed")  # after the video
    eaf.add_linked_file("file:///elsewhere/signer1.mp4", relpath="signer1.mp4", mimetype="video/mp4")
    eaf.to_file(str(folder / "signer1.eaf"))
    (folder / "broken.eaf").write_text("<ANNOTATION_DOCUMENT><HEADER>")
    lonely = Eaf(author="test")
    lonely.add_tier("glosses")
    lonely.add_annotation("glosses", 0, 1000, "hello")
    lonely.to_file(str(folder / "no_video.eaf"))
    empty = Eaf(author="test")
    empty.add_tier("glosses")
    empty.to_file(str(folder / "empty.eaf"))
    out = tmp_path / "kp"
    code = slr(["extract", "--eaf", str(folder), "--tier", "glosses", "--out", str(out), "--sign-map", str(SIGN_MAP),
                "--quiet"])  # fmt: skip
    said = capsys.readouterr().out
    assert code == 0 and "1 annotation(s) extracted" in said, said
    assert "broken.eaf: not a readable ELAN file" in said
    assert "no_video.eaf: its video was not found" in said
    assert "empty.eaf: the tier 'glosses' has no annotations" in said
    assert "overlaps the annotation before it" in said
    assert "starts after the video ends" in said and "past the video's end" in said
    assert "glosses with no sign in the sign map or gloss map: 'xyzzy' (1)" in said
    assert pd.read_csv(out / "train.csv")["sign"].tolist() == ["hello"]
    # a gloss map takes the unknown gloss
    (tmp_path / "glosses.csv").write_text("gloss,sign\nXYZZY,please\n")
    assert slr(["extract", "--eaf", str(folder), "--tier", "glosses", "--out", str(out), "--sign-map", str(SIGN_MAP),
                "--gloss-map", str(tmp_path / "glosses.csv"), "--quiet"]) == 0  # fmt: skip
    assert "1 annotation(s) extracted, 1 already there" in capsys.readouterr().out
    assert pd.read_csv(out / "train.csv")["sign"].tolist() == ["hello", "please"]
    assert slr(["extract", "--eaf", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert slr(["extract", str(tmp_path / "labels.csv"), "--eaf", str(folder), "--out", str(out)]) == 2
