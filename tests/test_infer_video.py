"""infer.py --video: a video file (or a camera) in, the segmented video out, as people use
PP-HumanSeg on portraits and video calls; cv2 only."""

import subprocess
import sys

import cv2
import numpy as np
import pytest

from .conftest import GENERATED

pytestmark = pytest.mark.slow

COMBINATION = "fastscnn"  # the smallest model: export and a dozen frames take seconds
SCRIPTS = GENERATED / COMBINATION
FRAMES, WIDTH, HEIGHT = 12, 96, 64


def run_script(name, args, cwd):
    completed = subprocess.run([sys.executable, str(SCRIPTS / name), *args], cwd=cwd,
                               capture_output=True, text=True, timeout=300, check=False)
    return completed.returncode, completed.stdout, completed.stderr


def read_frames(path):
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """An exported (untrained) model and a short video of a moving bright square."""
    work = tmp_path_factory.mktemp("video")
    code, out, err = run_script("export.py", ["--save-dir", "export"], work)
    assert code == 0, out + err
    writer = cv2.VideoWriter(str(work / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10,
                             (WIDTH, HEIGHT))
    rng = np.random.default_rng(0)
    for index in range(FRAMES):
        frame = cv2.GaussianBlur(rng.integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8), (7, 7), 0)
        cv2.rectangle(frame, (5 + 4 * index, 10), (35 + 4 * index, 40), (250, 250, 250), -1)
        writer.write(frame)
    writer.release()
    # frame 0 as the video decodes it, segmented through --image
    cv2.imwrite(str(work / "frame0.png"), read_frames(work / "clip.mp4")[0])
    code, out, err = run_script("infer.py", ["--config", "export", "--image", "frame0.png",
                                             "--save-dir", "image"], work)
    assert code == 0, out + err
    return work


def test_video_frames_are_segmented_like_images(work):
    code, out, err = run_script("infer.py", ["--config", "export", "--video", "clip.mp4",
                                             "--save-dir", "result"], work)
    assert code == 0, out + err
    assert f"wrote {FRAMES} frames to" in out
    source, result = read_frames(work / "clip.mp4"), read_frames(work / "result" / "clip.mp4")
    assert len(result) == FRAMES and result[0].shape == (HEIGHT, WIDTH, 3)
    assert not list((work / "result").glob("*.partial*"))

    # the video's frame 0 is --image's overlay of it (up to the codec's loss)
    overlay = cv2.imread(str(work / "image" / "frame0_overlay.jpg")).astype(float)
    to_overlay = np.abs(result[0] - overlay).mean()
    to_source = np.abs(result[0] - source[0].astype(float)).mean()
    print(f"video frame vs overlay {to_overlay:.2f}, vs source frame {to_source:.2f}")
    assert to_overlay < 12 < to_source


def test_keep_classes_puts_the_rest_on_the_background(work):
    mask = cv2.imread(str(work / "image" / "frame0.png"), cv2.IMREAD_UNCHANGED)
    kept_class = int(np.bincount(mask.ravel()).argmax())  # the untrained model's commonest
    code, out, err = run_script("infer.py", [
        "--config", "export", "--video", "clip.mp4", "--save-dir", "kept", "--max-frames", "3",
        "--keep-classes", str(kept_class), "--background", "0,255,0"], work)
    assert code == 0, out + err
    frames = read_frames(work / "kept" / "clip.mp4")
    assert len(frames) == 3
    source = read_frames(work / "clip.mp4")[0].astype(float)
    # away from the mask's edges, where the codec blends the two sides
    kernel = np.ones((5, 5), np.uint8)
    kept = cv2.erode((mask == kept_class).astype(np.uint8), kernel).astype(bool)
    dropped = cv2.erode((mask != kept_class).astype(np.uint8), kernel).astype(bool)
    frame = frames[0].astype(float)
    print(f"kept pixels vs source {np.abs(frame[kept] - source[kept]).mean():.2f}, "
          f"dropped vs green {np.abs(frame[dropped] - [0, 255, 0]).mean():.2f}")
    assert kept.any() and np.abs(frame[kept] - source[kept]).mean() < 12
    if dropped.any():
        assert np.abs(frame[dropped] - [0, 255, 0]).mean() < 12


@pytest.mark.parametrize("args, message", [
    (["--video", "missing.mp4"], "missing.mp4: video not found"),
    (["--video", "97"], "camera 97: cannot open it as a video"),
    (["--video", "clip.mp4", "--keep-classes", "one"], "class ids such as 1 or 1,2"),
    (["--image", "frame0.png", "--keep-classes", "1"], "--max-frames go with --video"),
    (["--video", "clip.mp4", "--keep-classes", "1", "--background", "nothing.png"],
     "--background: nothing.png"),
])
def test_bad_video_arguments_are_one_line(work, args, message):
    code, out, err = run_script("infer.py", ["--config", "export", "--save-dir", "bad", *args],
                                work)
    assert code == 2, out + err
    assert message in err and "Traceback" not in err
    assert not list((work / "bad").glob("*.mp4"))
