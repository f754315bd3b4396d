"""Bad data that used to pass silently: damaged videos, checkpoints, parquet files and datasets, each
made for real here, and what the user is told."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

from slr_core.app.state import MAX_URL_KEYWORDS, decode_keywords
from slr_core.capture.extract import VideoError, extract_video
from slr_core.capture.keypoints import Keypoints, write_parquet
from slr_core.capture.landmarks import N_ROWS
from slr_core.cli import main as slr
from slr_core.datasets.cache import build_cache, cache_dir_for, load_or_build_cache
from slr_core.datasets.data import DatasetError, load_dataset
from slr_core.models.build import build_model
from slr_core.models.checkpoint import CheckpointError, describe, load_model, save_model
from slr_core.models.config import PRESETS, ModelConfig
from slr_core.training.runs import METRICS, drop_metrics_after

from .conftest import FULL_FIXTURE, SIGN_MAP, needs_shared, popsign_clip, read_rgb_frames

pytestmark = needs_shared


def test_a_truncated_mp4_with_its_index_in_front_is_called_damaged(tmp_path):
    import av

    frames, fps = read_rgb_frames(popsign_clip("hello"))
    path = tmp_path / "front.mp4"
    with av.open(
        str(path), "w", options={"movflags": "faststart"}
    ) as out:  # index first, as phones stream it
        stream = out.add_stream("libx264", rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, "rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # the index really is at the front
    assert len(extract_video(path)) == len(frames)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(VideoError, match="damaged or truncated"):
        extract_video(cut)
    with pytest.raises(VideoError, match="a folder"):
        extract_video(tmp_path)


def test_slr_predict_warns_about_a_clip_that_decoded_only_in_part(tmp_path, capsys):
    from .conftest import REPO, write_video

    frames, fps = read_rgb_frames(popsign_clip("hello"))
    avi = write_video(tmp_path / "full.avi", frames, fps, "mjpeg").read_bytes()
    cut = tmp_path / "cut.avi"  # cut late: kept, but the user is told
    cut.write_bytes(avi[: len(avi) * 3 // 4])
    model = REPO / "models" / "asl250-popsign-kaggle2"
    assert slr(["predict", str(cut), "--model", str(model), "--quiet", "--fps", "10"]) == 0
    assert "may be truncated" in capsys.readouterr().err


@pytest.fixture
def checkpoint(tmp_path):
    model = build_model(ModelConfig(**{**PRESETS["tiny"], "num_classes": 3}))
    return save_model(tmp_path / "m", model, describe(model.config, ["a", "b", "c"], name="t")), model


def test_checkpoints_with_bad_weights_or_headers(checkpoint, tmp_path):
    folder, model = checkpoint
    meta = json.loads((folder / "model.json").read_text())
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    next(v for v in weights.values() if v.is_floating_point())[0] = float("nan")
    (tmp_path / "nan").mkdir()
    save_file(weights, str(tmp_path / "nan" / "model.safetensors"), {"slr": json.dumps(meta)})
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        load_model(tmp_path / "nan")
    for field, value in (("num_heads", 0), ("dim", -4), ("drop", 1.5), ("num_heads", "four")):
        bad = dict(meta, model=dict(meta["model"], **{field: value}))
        (tmp_path / field).mkdir(exist_ok=True)
        save_file(
            dict(model.state_dict()), str(tmp_path / field / "model.safetensors"), {"slr": json.dumps(bad)}
        )
        with pytest.raises(CheckpointError, match=field) as err:
            load_model(tmp_path / field)
        assert str(tmp_path / field) in str(err.value)
    assert slr(["eval", "--model", str(tmp_path / "num_heads"), "--data", str(FULL_FIXTURE)]) == 2


def test_an_edited_model_json_is_named_as_ignored(checkpoint, capsys):
    folder, _ = checkpoint
    assert load_model(folder).notes == []
    desc = json.loads((folder / "model.json").read_text())
    desc["threshold"] = 0.9
    (folder / "model.json").write_text(json.dumps(desc))
    loaded = load_model(folder)
    assert loaded.threshold == 0.0  # the weights' own copy counts
    assert (
        "the copy inside model.safetensors is the one used" in loaded.notes[0]
        and "threshold" in loaded.notes[0]
    )


def fixture_copy(tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(FULL_FIXTURE, root)
    shutil.copy(SIGN_MAP, root / SIGN_MAP.name)
    return root


def test_empty_nan_and_infinite_parquets_are_skipped_with_reasons(tmp_path, capsys):
    root = fixture_copy(tmp_path)
    table = pd.read_csv(root / "train.csv")
    paths = [root / p for p in table["path"][:3]]
    write_parquet(Keypoints.empty(), paths[0])
    write_parquet(Keypoints(np.full((5, N_ROWS, 3), np.nan, np.float32)), paths[1])
    inf = np.random.default_rng(0).random((5, N_ROWS, 3)).astype(np.float32)
    inf[2, 500, 0] = np.inf
    write_parquet(Keypoints(inf), paths[2])
    cache = build_cache(load_dataset(root), tmp_path / "cache", progress=False)
    reasons = " | ".join(why for _, why in cache.skipped)
    assert len(cache) == 9 and "zero rows" in reasons and "NaN" in reasons and "infinite" in reasons
    assert slr(["cache", "--data", str(root), "--cache-dir", str(tmp_path / "c2")]) == 0
    assert capsys.readouterr().out.count("SKIPPED") == 3
    for p in (root / q for q in table["path"]):
        write_parquet(Keypoints.empty(), p)
    with pytest.raises(DatasetError, match="none of the 12 sequences"):
        build_cache(load_dataset(root), tmp_path / "cache3", progress=False)
    (root / "train.csv").write_text("path,participant_id,sequence_id,sign\n")  # the header alone
    with pytest.raises(DatasetError, match="train.csv: lists no sequences"):
        build_cache(load_dataset(root), tmp_path / "cache4", progress=False)


def test_a_changed_parquet_file_means_a_new_cache(tmp_path):
    root = fixture_copy(tmp_path)
    ds = load_dataset(root)
    first = load_or_build_cache(ds, tmp_path / "cache", progress=False)
    kp = ds.keypoints(0)
    write_parquet(Keypoints(kp.data[: len(kp) // 2], kp.fps), ds.path(0))  # same train.csv, other content
    again = load_or_build_cache(load_dataset(root), tmp_path / "cache", progress=False)
    assert cache_dir_for(ds, tmp_path / "cache") != first.path
    assert again.lengths()[0] == len(kp) // 2


def test_eval_without_a_sign_map_uses_the_models_signs(checkpoint, tmp_path, capsys):
    root = tmp_path / "nomap"
    shutil.copytree(FULL_FIXTURE, root)
    model = build_model(ModelConfig(**{**PRESETS["tiny"], "num_classes": 250}))
    names = list(json.loads(SIGN_MAP.read_text()))
    folder = save_model(tmp_path / "m250", model, describe(model.config, names))
    assert (
        slr(
            [
                "eval",
                "--model",
                str(folder),
                "--data",
                str(root),
                "--cache-dir",
                str(tmp_path / "c"),
                "--quiet",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "using the model's 250 signs" in out and "(n=12)" in out


def test_extract_names_a_clip_listed_twice(tmp_path, capsys):
    (tmp_path / "labels.csv").write_text("path,sign\nclips/a.mp4,hello\nclips/b.mp4,dog\nclips/a.mp4,hello\n")
    assert (
        slr(
            [
                "extract",
                str(tmp_path / "labels.csv"),
                "--out",
                str(tmp_path / "o"),
                "--sign-map",
                str(SIGN_MAP),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "'clips/a.mp4' is listed more than once (rows 2, 4)" in err


def test_resumed_runs_drop_the_steps_they_will_repeat(tmp_path):
    lines = [{"type": "step", "step": s} for s in range(1, 9)] + [{"type": "epoch", "epoch": 1, "step": 4}]
    (tmp_path / METRICS).write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"type": "st')
    assert drop_metrics_after(tmp_path, 5) == 4  # steps 6, 7, 8 and the cut line
    kept = [json.loads(x)["step"] for x in (tmp_path / METRICS).read_text().splitlines()]
    assert kept == [1, 2, 3, 4, 5, 4]


def test_url_keywords_are_capped():
    assert len(decode_keywords(",".join(["hello"] * 100_000))) == MAX_URL_KEYWORDS
    assert decode_keywords("a" * 10**6) == ["a" * 40]


def test_training_state_header_is_read_without_the_tensors(tmp_path):
    from slr_core.models.checkpoint import read_resume_step, save_training_state

    model = build_model(ModelConfig(**{**PRESETS["tiny"], "num_classes": 3}))
    opt = torch.optim.AdamW(model.parameters())
    save_training_state(tmp_path / "r.safetensors", model, opt, {"global_step": 17})
    assert read_resume_step(tmp_path / "r.safetensors") == 17


def test_arguments_and_settings_that_make_no_sense_are_refused(tmp_path, capsys):
    """Found by bench/bench_bad_inputs.py: they ran silently, or with a traceback."""
    clip = str(popsign_clip("please"))
    for bad in (["--fps", "-1"], ["--threshold", "2"], ["--processes", "0"]):
        with pytest.raises(SystemExit):
            slr(["predict", clip, *bad])
        assert "must be" in capsys.readouterr().err
    train = [
        "train",
        "--data",
        str(FULL_FIXTURE),
        "--out",
        str(tmp_path / "r"),
        "--cache-dir",
        str(tmp_path / "c"),
    ]
    assert slr([*train, "--set", "model.nothing=1"]) == 2
    assert "model.nothing is not a model setting" in capsys.readouterr().err
    assert slr(["train", "--out", str(tmp_path / "never"), "--resume"]) == 2
    assert "no run to resume there" in capsys.readouterr().err
