"""Datasets: loading, participant-disjoint splits, the cache, and `slr extract` on real clips."""

import json
import shutil
import time

import numpy as np
import pandas as pd
import pytest

from slr_core.capture.landmarks import PIPELINE_ROWS
from slr_core.cli import main as slr
from slr_core.datasets.cache import build_cache, cache_dir_for, load_or_build_cache, open_cache
from slr_core.datasets.data import UNKNOWN_LABEL, DatasetError, load_dataset, participant_folds, split_indices
from slr_core.datasets.extraction import extract_dataset

from .conftest import POPSIGN, SIGN_MAP, SUBSET, needs_shared


@needs_shared
def test_load_subset():
    ds = load_dataset(SUBSET)
    assert len(ds) == 518 and len(ds.sign_map) == 250
    assert ds.sign_map_path == SIGN_MAP.resolve()  # found in the parent folder
    assert set(ds.table["sign"]) == {"hello", "thankyou"}
    assert len(np.unique(ds.participants())) == 14
    targets = ds.targets()
    assert set(targets) == {ds.sign_map["hello"], ds.sign_map["thankyou"]}
    assert ds.labels == list(ds.sign_map)  # no _unknown clips here
    assert len(ds.keypoints(0)) > 0


@needs_shared
@pytest.mark.parametrize("k", [2, 3, 5])
def test_participant_folds_are_disjoint_balanced_and_deterministic(k):
    parts = load_dataset(SUBSET).participants()
    folds = participant_folds(parts, k, seed=1)
    assert np.array_equal(folds, participant_folds(parts, k, seed=1))
    for p in np.unique(parts):
        assert len(set(folds[parts == p])) == 1
    sizes = np.bincount(folds, minlength=k)
    assert (
        sizes.min() > 0
        and sizes.max() - sizes.min() <= np.bincount(np.unique(parts, return_inverse=True)[1]).max()
    )
    for f in range(k):
        train, val = split_indices(parts, f, k, seed=1)
        assert len(train) + len(val) == len(parts)
        assert not set(parts[train]) & set(parts[val])


def test_too_few_participants():
    with pytest.raises(DatasetError, match="only 2 participant"):
        participant_folds(np.array([1, 1, 2]), 3)


def _write_dataset(root, rows, sign_map=None):
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(root / "train.csv", index=False)
    if sign_map is not None:
        (root / "sign_to_prediction_index_map.json").write_text(json.dumps(sign_map))
    return root


def test_dataset_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset folder"):
        load_dataset(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no train.csv"):
        load_dataset(tmp_path / "empty")
    bad = _write_dataset(tmp_path / "cols", [{"path": "a.parquet", "sign": "hello"}], {"hello": 0})
    with pytest.raises(DatasetError, match="missing column.*participant_id"):
        load_dataset(bad)
    row = {"path": "a.parquet", "participant_id": 1, "sequence_id": 1, "sign": "helo"}
    typo = _write_dataset(tmp_path / "typo", [row], {"hello": 0, "bye": 1})
    with pytest.raises(DatasetError, match="not in the sign map: 'helo'"):
        load_dataset(typo)
    nomap = _write_dataset(tmp_path / "a" / "b" / "c" / "nomap", [row])
    with pytest.raises(DatasetError, match="no sign_to_prediction_index_map.json"):
        load_dataset(nomap)
    (tmp_path / "badmap").mkdir()
    (tmp_path / "badmap" / "m.json").write_text('{"hello": 3}')
    with pytest.raises(DatasetError, match="indices must be 0..0"):
        load_dataset(typo, tmp_path / "badmap" / "m.json")


@needs_shared
def test_cache_roundtrip_and_load_time(tmp_path):
    ds = load_dataset(SUBSET)
    cache = build_cache(ds, tmp_path, workers=1, progress=False)
    assert len(cache) == len(ds) and cache.skipped == []
    t0 = time.perf_counter()
    again = load_or_build_cache(ds, tmp_path, progress=False)  # must open, not rebuild
    assert time.perf_counter() - t0 < 2.0
    assert again.path == cache.path == cache_dir_for(ds, tmp_path)
    for i in (0, 17, 517):
        data, times = again.get(i)
        kp = ds.keypoints(int(again.keep[i]))
        expect = kp.data[:, PIPELINE_ROWS, :3]
        assert data.shape == expect.shape
        assert np.array_equal(data, expect, equal_nan=True) and np.array_equal(times, kp.times)


@needs_shared
def test_cache_skips_bad_files_and_rebuilds_when_the_dataset_changes(tmp_path):
    root = tmp_path / "ds"
    table = pd.read_csv(SUBSET / "train.csv").head(6)
    for p in table["path"]:
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SUBSET / p, root / p)
    (root / table["path"].iat[2]).write_bytes(b"broken")
    _write_dataset(root, table.to_dict("records"), json.loads(SIGN_MAP.read_text()))
    cache = load_or_build_cache(load_dataset(root), tmp_path / "c", progress=False)
    assert len(cache) == 5 and len(cache.skipped) == 1 and "not a readable parquet" in cache.skipped[0][1]
    assert cache.skipped[0][0].endswith(table["path"].iat[2])
    _write_dataset(root, table.head(4).to_dict("records"))  # the dataset changed
    rebuilt = load_or_build_cache(load_dataset(root), tmp_path / "c", progress=False)
    assert len(rebuilt) == 3 and rebuilt.path != cache.path
    (rebuilt.path / "index.npz").write_bytes(b"damaged")
    with pytest.raises(DatasetError, match="not a usable cache"):
        open_cache(rebuilt.path)
    assert len(load_or_build_cache(load_dataset(root), tmp_path / "c", progress=False)) == 3


@needs_shared
@pytest.mark.slow
def test_slr_extract_on_real_clips(tmp_path, capsys):
    labels = pd.read_csv(POPSIGN / "labels.csv", dtype=str, keep_default_na=False)
    pick = labels[labels["word"].isin(["hello", "apple", "about"])].copy()
    pick["path"] = [str(POPSIGN / p) for p in pick["path"]]
    bad = tmp_path / "clips" / "broken.mp4"
    bad.parent.mkdir()
    bad.write_bytes(b"\x00" * 2048)
    rows = pick.to_dict("records") + [{"path": "clips/broken.mp4", "word": "dog", "sign": "dog"}]
    csv = tmp_path / "labels.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    out = tmp_path / "dataset"
    code = slr(
        ["extract", str(csv), "--out", str(out), "--workers", "2", "--sign-map", str(SIGN_MAP), "--quiet"]
    )
    printed = capsys.readouterr().out
    assert code == 1  # a clip failed: a script must see it
    assert "3 clip(s) extracted" in printed and "1 failed" in printed and "broken.mp4" in printed
    ds = load_dataset(out)
    assert len(ds) == 3
    assert sorted(ds.table["sign"]) == sorted(["hello", "apple", UNKNOWN_LABEL])  # 'about' is not a sign
    assert ds.labels[-1] == UNKNOWN_LABEL
    kp = ds.keypoints(int(np.flatnonzero(ds.table["sign"] == "hello")[0]))
    assert kp.hands_present().sum() > 20
    # A second run resumes: nothing is extracted twice, the failure is reported again.
    report = extract_dataset(csv, out, workers=1, sign_map_path=SIGN_MAP, progress=False)
    assert report.written == 0 and report.skipped_existing == 3 and len(report.failures) == 1


def test_slr_extract_refuses_unknown_signs(tmp_path, capsys):
    (tmp_path / "map.json").write_text(json.dumps({"hello": 0, "bye": 1}))
    (tmp_path / "labels.csv").write_text("path,sign\nclips/a.mp4,hello\nclips/b.mp4,goodbye\n")
    code = slr(["extract", str(tmp_path / "labels.csv"), "--out", str(tmp_path / "o"),
                "--sign-map", str(tmp_path / "map.json")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "labels.csv" in err and "'goodbye'" in err and "Traceback" not in err
    (tmp_path / "nolabels.csv").write_text("file,label\na.mp4,hello\n")
    assert slr(["extract", str(tmp_path / "nolabels.csv"), "--out", str(tmp_path / "o"),
                "--sign-map", str(tmp_path / "map.json")]) == 2  # fmt: skip
    assert "missing column 'path'" in capsys.readouterr().err
