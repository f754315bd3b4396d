"""MediaPipe Holistic on real video: containers, codecs, orientation, the live frame API, bad files."""

import numpy as np
import pytest

from slr_core.capture import landmarks as L
from slr_core.capture.extract import Extractor, VideoError, extract_video

from .conftest import needs_shared, popsign_clip, read_rgb_frames, set_display_rotation, write_video

pytestmark = needs_shared


def test_real_clip_finds_hands_and_sane_coordinates(hello_keypoints):
    kp = hello_keypoints
    assert kp.data.shape[1:] == (543, 3) and len(kp) == 63
    assert kp.fps == pytest.approx(29.97, abs=0.01)
    assert np.all(np.diff(kp.times) > 0) and kp.times[0] == 0.0
    hands = kp.hands_present()
    third = len(kp) // 3
    assert hands.mean() > 0.4  # the signer starts and ends with hands down
    assert hands[third : 2 * third].mean() > 0.8  # and signs in the middle of the clip
    # The hello sign is made with the right hand near the forehead: hand above the shoulders,
    # and the hand model's wrist agrees with the pose model's wrist.
    sign = kp.data[hands]
    rh_wrist = sign[:, L.RIGHT_HAND.start + L.WRIST, :2]
    pose_wrist = sign[:, L.POSE.start + 16, :2]
    ok = np.isfinite(rh_wrist).all(1)
    assert ok.mean() > 0.8
    assert np.median(np.linalg.norm(rh_wrist[ok] - pose_wrist[ok], axis=1)) < 0.06
    shoulders_y = np.nanmean(sign[:, L.SHOULDER_ROWS, 1])
    assert np.nanmedian(sign[:, L.RIGHT_HAND.rows, 1]) < shoulders_y
    lips = sign[:, L.LIPS_ROWS, :2]
    assert np.isfinite(lips).all() and 0.3 < np.nanmean(lips[..., 0]) < 0.7


def test_frame_by_frame_equals_file_extraction(hello_keypoints):
    frames, _ = read_rgb_frames(popsign_clip("hello"))
    with Extractor() as ex:
        live = np.stack([ex.process(f) for f in frames])
    assert np.array_equal(live, hello_keypoints.data, equal_nan=True)


@pytest.mark.parametrize(
    "suffix, codec, fps",
    [
        (".webm", "libvpx-vp9", 30),
        (".mov", "libx264", 30),
        (".mov", "libx265", 30),  # HEVC: a phone's default
        (".avi", "mjpeg", 15),
        (".mp4", "mpeg4", 25),
    ],
)
def test_other_containers_codecs_and_frame_rates(tmp_path, hello_keypoints, suffix, codec, fps):
    frames, src_fps = read_rgb_frames(popsign_clip("hello"))
    step = max(1, round(src_fps / fps))
    clip = write_video(tmp_path / f"hello{suffix}", frames[::step], fps, codec)
    progress = []
    kp = extract_video(clip, progress=lambda done, total: progress.append((done, total)))
    assert len(kp) == len(frames[::step]) and progress[-1][0] == len(kp)
    assert kp.fps == pytest.approx(fps, rel=0.05)
    assert kp.times[-1] == pytest.approx((len(kp) - 1) / fps, rel=0.1)
    hands = kp.hands_present()
    assert hands.mean() > 0.35
    ref = hello_keypoints.data[::step][: len(kp)]
    both = np.isfinite(ref[:, L.RIGHT_HAND.start, 0]) & np.isfinite(kp.data[:, L.RIGHT_HAND.start, 0])
    assert both.sum() >= 5
    diff = np.abs(ref[both][:, L.RIGHT_HAND.rows, :2] - kp.data[both][:, L.RIGHT_HAND.rows, :2])
    assert np.median(diff) < 0.03  # re-encoding moves the landmarks by a few pixels at most


def test_portrait_video(tmp_path):
    frames, fps = read_rgb_frames(popsign_clip("hello"))
    # A phone held upright: rotate the picture 90 degrees (a 360x640 portrait video).
    portrait = [np.ascontiguousarray(np.rot90(f, k=-1)) for f in frames]
    kp = extract_video(write_video(tmp_path / "portrait.mp4", portrait, fps, "libx264"))
    assert kp.hands_present()[len(kp) // 3 : 2 * len(kp) // 3].mean() > 0.6


def test_rotation_flag_of_a_phone_video_is_applied(tmp_path, hello_keypoints):
    """A phone keeps portrait video sideways and flags a 90 degree turn; the keypoints must come out
    of the upright picture, as they do for the same clip stored upright."""
    import cv2

    frames, fps = read_rgb_frames(popsign_clip("hello"))
    sideways = [np.ascontiguousarray(np.rot90(f, k=1)) for f in frames]  # stored turned left
    path = write_video(tmp_path / "phone.mp4", sideways, fps, "libx264")
    set_display_rotation(path, 90)
    cap = cv2.VideoCapture(str(path))
    assert cap.get(cv2.CAP_PROP_ORIENTATION_META) == 90  # the flag is there for OpenCV to read
    cap.release()
    kp = extract_video(path)
    assert (kp.meta["height"], kp.meta["width"]) == frames[0].shape[:2]
    ref = hello_keypoints
    both = kp.hands_present() & ref.hands_present()
    assert both.mean() > 0.4
    hand = L.RIGHT_HAND.rows
    gap = np.abs(kp.data[both][:, hand, :2] - ref.data[both][:, hand, :2])
    assert np.nanmedian(gap) < 0.02  # the same hand, where the upright clip has it


def test_video_without_a_person_gives_an_explicit_empty_result(tmp_path):
    rng = np.random.default_rng(0)
    frames = [np.full((240, 320, 3), 90, np.uint8) + rng.integers(0, 20, (240, 320, 3), dtype=np.uint8)
              for _ in range(12)]  # fmt: skip
    kp = extract_video(write_video(tmp_path / "empty_room.mp4", frames, 12, "libx264"))
    assert len(kp) == 12
    assert not kp.hands_present().any()
    assert not np.isfinite(kp.data).any()


def test_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("these are my notes, not a video\n" * 50)
    with pytest.raises(VideoError) as err:
        extract_video(path)
    assert str(path) in str(err.value)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.webm"
    path.write_bytes(b"")
    with pytest.raises(VideoError, match="empty"):
        extract_video(path)


def test_truncated_file(tmp_path):
    data = popsign_clip("hello").read_bytes()
    head = tmp_path / "head.mp4"  # an mp4 cut short: its index (moov) is missing
    head.write_bytes(data[: len(data) // 3])
    with pytest.raises(VideoError):
        extract_video(head)
    frames, fps = read_rgb_frames(popsign_clip("hello"))
    avi = write_video(tmp_path / "full.avi", frames, fps, "mjpeg").read_bytes()
    # a stream cut late: the frames before the cut still decode, kept with a warning
    cut = tmp_path / "cut.avi"
    cut.write_bytes(avi[: len(avi) * 3 // 4])
    kp = extract_video(cut)
    assert 0 < len(kp) < len(frames)
    assert "truncated" in kp.meta["warning"]
    early = tmp_path / "early.avi"  # cut before half its frames: too little left to call it that clip
    early.write_bytes(avi[: len(avi) // 3])
    with pytest.raises(VideoError, match="damaged or truncated"):
        extract_video(early)


def test_missing_file(tmp_path):
    with pytest.raises(VideoError, match="no such file"):
        extract_video(tmp_path / "nope.mp4")


def test_frame_api_checks_its_input():
    with Extractor() as ex, pytest.raises(ValueError, match="RGB uint8"):
        ex.process(np.zeros((10, 10), np.float32))


@needs_shared
def test_keypoints_at_a_lower_frame_rate(extractor):
    full = extract_video(popsign_clip("hello"), extractor)
    half = extract_video(popsign_clip("hello"), extractor, max_fps=15)
    assert full.fps > 20  # a 30 fps studio clip
    assert abs(len(half) - len(full) / 2) <= 2  # MediaPipe saw every other frame
    assert np.diff(half.times).min() >= 1 / 15 - 0.5 / full.fps
    assert half.meta["decoded"] == len(full) and "warning" not in half.meta  # every frame was still decoded
    assert len(extract_video(popsign_clip("hello"), extractor, max_fps=60)) == len(
        full
    )  # above the clip's rate


def test_a_clip_split_across_processes_joins_in_order(tmp_path, hello_keypoints):
    """Two processes, each with its own Holistic, read the two halves of a real clip (a clip twice
    the hello clip, so each half holds a whole sign): every frame once, in order, hands in both
    halves where one process finds them."""
    from slr_core.capture.extract import extract_split

    frames, fps = read_rgb_frames(popsign_clip("hello"))
    clip = write_video(tmp_path / "twice.mp4", frames + frames, fps, "libx264")
    single = extract_video(clip)
    progress = []
    split = extract_split(clip, 2, progress=lambda done, total: progress.append((done, total)))
    assert len(split) == len(single) == 2 * len(frames) and split.meta["processes"] == 2
    assert np.allclose(split.times, single.times)
    assert progress[-1] == (len(split), len(split))
    half = len(frames)
    assert np.array_equal(split.data[:half], single.data[:half], equal_nan=True)  # the first part is the same
    assert split.hands_present()[half:].sum() >= single.hands_present()[half:].sum() - 2
    halved = extract_split(clip, 2, max_fps=15)  # and at a lower frame rate
    assert abs(len(halved) - len(single) / 2) <= 3 and halved.meta["decoded"] == len(single)


def test_clips_read_at_once_share_the_cores(monkeypatch, extractor):
    """The app's sessions share one budget of keypoint processes: a long clip gets what is free,
    at least one; a clip read while others hold the cores is read by one process, not split."""
    from slr_core.capture import extract

    budget = extract.ProcessBudget(3)
    with budget.take(2) as a, budget.take(5) as b, budget.take(1) as c:
        assert (a, b, c) == (2, 1, 1) and budget.used == 4
    assert budget.used == 0
    monkeypatch.setattr(extract, "BUDGET", budget)
    monkeypatch.setattr(extract, "SPLIT_MIN_S", 1.0)  # the 2 s clip counts as long
    with budget.take(2):  # another upload holds 2 of the 3
        kp = extract_video(popsign_clip("hello"), extractor, processes=3)
    assert "processes" not in kp.meta and kp.hands_present().any() and budget.used == 0
    monkeypatch.setenv("SLR_CLIP_PROCESSES", "64")
    assert extract.ProcessBudget().total == 64  # one clip may always have what the setting gives it


def test_only_long_clips_are_split(extractor):
    kp = extract_video(popsign_clip("hello"), extractor, processes=2)  # 2 s: not worth a process
    assert "processes" not in kp.meta


def test_a_damaged_clip_split_across_processes(tmp_path):
    from slr_core.capture.extract import extract_split

    frames, fps = read_rgb_frames(popsign_clip("hello"))
    avi = write_video(tmp_path / "full.avi", frames * 2, fps, "mjpeg").read_bytes()
    early = tmp_path / "early.avi"
    early.write_bytes(avi[: len(avi) // 3])
    with pytest.raises(VideoError, match="damaged or truncated"):
        extract_split(early, 2)
