"""The app in a real headless Chromium: a fake camera plays a real sign clip into the live page,
and a clip is uploaded through the upload page. Screenshots go to test-artifacts/."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import pytest

from .conftest import DATA, REPO, needs_shared, popsign_clip

pytestmark = [needs_shared, pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SIGN = "apple"  # a real PopSign clip of a sign the bundled model recognises (it trained on it)
NEW_WORD = "bicycle"  # a real PopSign clip of a word outside the model's 250 signs (a personal word's)


def write_y4m(clip, out) -> None:
    """A y4m file for Chromium's fake camera (header C420, which Chromium accepts)."""
    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30
    with open(out, "wb") as f:
        header = False
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            h, w = frame.shape[:2]
            if not header:
                f.write(f"YUV4MPEG2 W{w} H{h} F{round(fps * 1000)}:1000 Ip A1:1 C420\n".encode())
                header = True
            f.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    cap.release()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("server")
    port = free_port()
    env = dict(os.environ, SLR_RUNS_DIR=str(tmp / "runs"), SLR_CACHE_DIR=str(tmp / "cache"),
               SLR_DATA_DIRS=str(DATA), HF_HUB_CACHE=str(tmp / "hf"), SLR_LIBRARY=str(tmp / "library"),
               PYTHONUNBUFFERED="1")  # fmt: skip
    log = open(tmp / "streamlit.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the app did not start:\n" + (tmp / "streamlit.log").read_text()[-3000:])
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def playwright():
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed; `make test` installs Debian's chromium (needs root or sudo)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def launch(playwright, tmp_path_factory, word: str):
    """A headless Chromium whose fake camera plays the studio clip of `word` in a loop."""
    y4m = tmp_path_factory.mktemp("camera") / f"{word}.y4m"
    write_y4m(popsign_clip(word), y4m)
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={y4m}"],
    )  # fmt: skip


@pytest.fixture(scope="module")
def browser(playwright, tmp_path_factory):
    b = launch(playwright, tmp_path_factory, SIGN)
    yield b
    b.close()


@pytest.fixture()
def new_word_browser(playwright, tmp_path_factory):
    """A browser whose camera signs a word the model does not know (a personal word is for those)."""
    b = launch(playwright, tmp_path_factory, NEW_WORD)
    yield b
    b.close()


def wait_while_progressing(page, done: str, limit_s: float = 900, stall_s: float = 120) -> None:
    """Wait until `done` (a regular expression) matches the page's text, for as long as the live page's
    frame count keeps growing (a loaded machine is slow, not stuck); fail when it stops growing for
    stall_s or after limit_s in all."""
    start = last_change = time.monotonic()
    last = -1
    while True:
        body = page.inner_text("body")
        if re.search(done, body):
            return
        counts = re.findall(r"(\d+) frames", body)
        frames = int(counts[-1]) if counts else 0
        now = time.monotonic()
        if frames != last:
            last, last_change = frames, now
        if now - last_change > stall_s or now - start > limit_s:
            pytest.fail(
                f"waited {now - start:.0f} s for {done!r}; frames processed: {frames}\n{body[-1500:]}"
            )
        page.wait_for_timeout(1000)  # poll


def stop_camera(page, frame, limit_s: float = 600) -> None:
    """Press the camera's STOP until the page says the camera stopped (on a loaded machine a press can
    land while the component redraws, and be lost); fail after limit_s."""
    started = time.monotonic()
    while "Camera stopped" not in page.inner_text("body"):
        if time.monotonic() - started > limit_s:
            pytest.fail("the camera did not stop:\n" + page.inner_text("body")[-2000:])
        stop = frame.get_by_role("button", name="STOP")
        if stop.count() and stop.first.is_visible():
            stop.first.click()
        page.wait_for_timeout(5000)  # poll: the page redraws within its refresh


def start_live_camera(server, browser):
    """A new page on the Live camera with its camera started; (page, the camera's frame)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(server + "/Live_camera")
    page.get_by_text("Live camera", exact=False).first.wait_for(timeout=60_000)
    frame = page.frame_locator("iframe[title*='webrtc']").first
    frame.get_by_role("button", name="START").click(timeout=60_000)
    return page, frame


def test_live_camera_recognises_a_sign(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page, frame = start_live_camera(server, browser)
    # The fake camera loops the real clip (the signer lowers her hands at its end).
    wait_while_progressing(page, rf"Recognised[\s\S]*{SIGN} ·")
    body = page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "live_camera.png"), full_page=True)
    # (the first pass of the looping clip may reach the server half-way, and give another sign)
    assert f"{SIGN} ·" in body and re.search(rf"Keywords: .*\b{SIGN}\b", body), body[-2000:]
    # the status line is redrawn with each refresh: wait for it rather than read it once
    # (on a loaded machine the line gives way to "This computer is behind", which says the same)
    wait_text(page, r"frames processed per second|This computer is behind", limit_s=120)
    # the sentence so far follows the keywords (the page redraws it within a refresh of a new sign)
    page.get_by_text("Sentence so far:", exact=False).first.wait_for(timeout=60_000)
    assert re.search(r"Sentence so far: \S", page.inner_text("body")), page.inner_text("body")[-2000:]
    # while the camera runs, a wrong sign can be taken back at once
    undo = page.get_by_role("button", name="Undo the last sign")
    assert undo.is_enabled() and page.get_by_role("button", name="Clear recognised signs").is_enabled()
    undo.click()
    wait_text(page, r"frames processed per second|This computer is behind|Recognised", limit_s=120)
    assert "Traceback" not in page.inner_text("body")
    wait_while_progressing(page, rf"Keywords: .*\b{SIGN}\b")  # the camera loops the clip: the sign again
    stop_camera(page, frame)
    # each sign listed is one keyword (a repetition cut in two is merged, not added twice; the camera
    # loops the clip, so the signer really signs it again and again), and the page can take back what it added
    wait_text(page, r"Camera stopped[\s\S]*Keywords: ")
    body = page.inner_text("body")
    listed = re.findall(rf"^{SIGN}\b.* · \d+% · ", body, flags=re.MULTILINE)
    said = re.search(r"Keywords: (.*)", body).group(1)
    keywords = [] if said == "none yet" else said.split(" · ")  # (none when the undone sign was the only one)
    assert len(listed) == len(keywords) or len(listed) == 10, (listed, keywords)  # the list shows the last 10
    if keywords:  # (Clear is offered only when there is something to clear)
        page.get_by_role("button", name="Clear recognised signs").click()
    wait_text(page, r"Keywords: none yet")


def test_upload_page_in_the_browser(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(server + "/Upload_clip")
    page.get_by_text("Upload a clip", exact=False).first.wait_for(timeout=60_000)
    page.locator("input[type=file]").set_input_files(str(popsign_clip(SIGN)))
    page.get_by_text("1 sign found", exact=False).wait_for(timeout=120_000)
    skeleton = page.locator("img[src*='/media/']").first
    skeleton.wait_for(timeout=60_000)
    page.wait_for_function("Array.from(document.images).some(i => i.src.includes('/media/') && i.complete)")
    page.screenshot(path=str(ARTIFACTS / "upload_clip.png"), full_page=True)
    # the results name the sign (the file name does too, so look at the result's own button)
    page.get_by_role("button", name=f"Add “{SIGN}”").wait_for(timeout=30_000)
    # the skeleton animation really arrives (the server serves the image, the browser decodes it)
    assert skeleton.evaluate("img => img.naturalWidth") > 100
    # a click on the sign's bar of the timeline plays the clip from that sign's start
    bar = page.locator(".vega-embed g.mark-rect path[aria-label*='row: signs']")
    label = bar.first.get_attribute("aria-label")
    assert f"name: {SIGN}" in label and "what: sign" in label  # the bar carries the sign's name
    assert page.get_by_text("The clip, from", exact=False).count() == 0
    bar.first.click()
    start, end = (float(re.search(rf"{k}: ([0-9.]+)", label).group(1)) for k in ("from", "to"))
    page.get_by_text(f"The clip, from {start:.1f} s to {end:.1f} s").wait_for(timeout=60_000)
    # the player holds that span alone (the whole clip is longer): it starts at the sign and stops at its end
    player = page.locator("video").first
    page.wait_for_function("() => { const v = document.querySelector('video'); return v && v.duration > 0 }")
    assert abs(player.evaluate("v => v.duration") - (end - start)) < 0.5
    page.get_by_role("button", name="Show the whole clip").click()
    page.get_by_text("The clip, from", exact=False).first.wait_for(state="detached", timeout=60_000)
    # each download is a valid file of its kind
    got = {}
    for label, suffix in (("ELAN (.eaf)", "eaf"), ("Captions (.srt)", "srt"), ("Captions (.vtt)", "vtt"),
                          ("JSON", "json"), ("Keypoints (.pose)", "pose")):  # fmt: skip
        with page.expect_download(timeout=120_000) as info:
            page.get_by_role("button", name=label).click()
        got[suffix] = Path(info.value.path()).read_bytes()
        assert info.value.suggested_filename == f"{SIGN}.{suffix}"
    from pympi.Elan import Eaf

    (ARTIFACTS / "upload.eaf").write_bytes(got["eaf"])
    assert [v for *_, v in Eaf(str(ARTIFACTS / "upload.eaf")).get_annotation_data_for_tier("signs")] == [SIGN]
    assert json.loads(got["json"])["events"][0]["label"] == SIGN
    assert got["vtt"].startswith(b"WEBVTT") and f"\n{SIGN}\n".encode() in got["srt"]
    from slr_core.capture.poseformat import read_pose

    (ARTIFACTS / "upload.pose").write_bytes(got["pose"])
    assert read_pose(ARTIFACTS / "upload.pose").hands_present().any()


def test_back_leaves_each_page_and_a_reload_keeps_the_keywords(server, browser):
    """Home -> Upload -> Live camera -> Translate, then Back: each press goes one page back (the page's
    state never pushes history entries); keywords typed on Translate survive a reload (a cookie)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server)
    page.get_by_text("Active model", exact=False).first.wait_for(timeout=60_000)
    visited = [server + "/"]
    for title, path in (
        ("Upload clip", "/Upload_clip"),
        ("Live camera", "/Live_camera"),
        ("Translate", "/Translate"),
    ):
        page.get_by_role("link", name=title).first.click()
        page.wait_for_url(server + path, timeout=60_000)
        page.get_by_role("heading", name=title.replace("Upload clip", "Upload a clip")).first.wait_for(
            timeout=60_000
        )
        visited.append(server + path)
    for back_to in reversed(visited[:-1]):
        page.go_back()
        page.wait_for_url(back_to, timeout=60_000)
        page.wait_for_timeout(1500)  # the page's script has run: the address must stay
        assert page.url == back_to
    page.goto(server + "/Translate")
    box = page.get_by_role("textbox", name="Add words")
    box.wait_for(timeout=60_000)
    box.fill("mom happy")
    page.get_by_role("button", name="Add").click()
    wait_text(page, r"2\.\s*happy")
    page.reload()
    wait_text(page, r"Keywords \(2\)[\s\S]*mom · happy")
    assert "?" not in page.url  # nothing written into the address


def test_dataset_explorer_shows_every_sample_the_same_size_beside_its_prediction(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "/Dataset_explorer")
    page.get_by_role("button", name="Show animation").wait_for(timeout=60_000)
    page.get_by_role("button", name="Show animation").click()
    image = page.locator("img[src*='/media/']").first
    image.wait_for(timeout=60_000)
    page.get_by_role("button", name="Classify").click()
    prediction = page.get_by_text("Prediction:", exact=False).first
    prediction.wait_for(timeout=60_000)
    box = image.bounding_box()
    assert box is not None and abs(box["width"] - 360) < 2 and box["height"] < 700, box
    said = prediction.bounding_box()
    assert said is not None and said["y"] < 900, said  # on screen beside it, not pushed below
    page.screenshot(path=str(ARTIFACTS / "dataset_explorer.png"), full_page=True)


@pytest.mark.parametrize("path, marker", [("", "Active model"), ("/Translate", "Keywords"),
                                          ("/Train", "New run"), ("/Dataset_explorer", "Dataset")])  # fmt: skip
def test_other_pages_render_without_errors(server, browser, path, marker):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + path)
    page.get_by_text(marker, exact=False).first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    assert "Traceback" not in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / f"page{path.replace('/', '_') or '_home'}.png"), full_page=True)


def test_home_and_translate_in_the_browser(server, browser):
    """The figure Home shows is the one the bench stored beside the model; on Translate a typed phrase
    becomes one keyword per word, and the sentence offered is the one a person picks."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(server)
    personal = json.loads((REPO / "models" / "asl250-webcam" / "personal.json").read_text())
    page.get_by_text(f"{personal['library']:.0%} of your next repetitions", exact=False).first.wait_for(
        timeout=60_000
    )
    page.goto(server + "/Translate")
    box = page.get_by_role("textbox", name="Add words")
    box.wait_for(timeout=60_000)
    box.fill("yesterday grandma cook food")
    page.get_by_role("button", name="Add").click()
    wait_text(page, r"4\.\s*food")  # four keywords, not one
    page.get_by_role("button", name="Translate", exact=True).click()
    page.get_by_text("pick the one you mean", exact=False).first.wait_for(timeout=60_000)
    page.get_by_text("Did Grandma cook food yesterday?", exact=True).first.wait_for()  # the question too
    page.get_by_text("Yesterday Grandma cooked food.", exact=True).first.click()
    wait_text(page, r"Yesterday Grandma cooked food\.\s*made by rules")  # the pick is the sentence shown
    page.screenshot(path=str(ARTIFACTS / "translate.png"), full_page=True)
    assert "Traceback" not in page.inner_text("body")
    # the pick survives leaving the page and coming back
    page.get_by_role("link", name="Home").first.click()
    page.get_by_text("Active model", exact=False).first.wait_for(timeout=60_000)
    page.get_by_role("link", name="Translate").first.click()
    wait_text(page, r"Yesterday Grandma cooked food\.\s*made by rules")
    # a typed phrase is never cut inside a word; what does not fit is said
    box = page.get_by_role("textbox", name="Add words")
    box.fill("my grandma and grandpa cook food yesterday " + "x" * 45)
    page.get_by_role("button", name="Add").click()
    wait_text(page, r"11\.\s*yesterday")
    assert "Left out of what you typed: " + "x" * 45 in page.inner_text("body")


def wait_text(page, pattern: str, limit_s: float = 120) -> None:
    """Poll until `pattern` (a regular expression) matches the page's text; fail showing the page."""
    started = time.monotonic()
    while not re.search(pattern, page.inner_text("body")):
        if time.monotonic() - started > limit_s:
            pytest.fail(f"no {pattern!r} in {limit_s:.0f} s:\n" + page.inner_text("body")[-2000:])
        page.wait_for_timeout(1000)


def test_my_signs_recorded_through_the_camera_then_recognised_live(server, new_word_browser):
    # (last in this file: from here on the server's library knows the word)
    browser = new_word_browser
    page = browser.new_page(viewport={"width": 1280, "height": 1200})
    page.goto(server + "/My_signs")
    page.get_by_text("Your library", exact=False).first.wait_for(timeout=60_000)
    word = page.get_by_role("textbox", name="Word")
    word.fill("gramps")  # the fake camera signs "bicycle": for this person that is how gramps looks
    word.press("Enter")
    wait_text(page, "a new word for the model")
    camera = page.frame_locator("iframe[title*='webrtc']").first
    camera.get_by_role("button", name="START").click(timeout=60_000)
    wait_text(page, r"[2-9] example\(s\) waiting", limit_s=900)  # each loop of the clip is one example
    camera.get_by_role("button", name="STOP").click()
    wait_text(page, r"Review \d+ example")
    page.screenshot(path=str(ARTIFACTS / "my_signs_review.png"), full_page=True)
    page.get_by_role("button", name="Save the kept examples").click()
    wait_text(page, r"Added \d+ example")
    live, frame = start_live_camera(server, browser)
    wait_while_progressing(live, r"gramps · personal")
    live.screenshot(path=str(ARTIFACTS / "live_camera_personal.png"), full_page=True)
    frame.get_by_role("button", name="STOP").click()
    # deleting a word asks first, says what went, and can be undone while the page is open
    page.reload()
    page.get_by_role("button", name="Delete this word").click()
    wait_text(page, r"Delete “gramps” and its \d+ example\(s\)\?")
    page.get_by_role("button", name="Delete", exact=True).click()
    wait_text(page, r"Deleted “gramps” and its \d+ example\(s\)")
    assert "No personal signs yet" in page.inner_text("body")
    page.get_by_role("button", name="Undo the delete").click()
    wait_text(page, r"Brought back “gramps”")
