r"""Synthetic encoded videos of known scenes (tests, examples): a real decode -> embed -> segment check.

Scene :math:`k` is a textured picture: a background colour :math:`c_k` plus a sinusoidal
grating of its own orientation :math:`\theta_k` and spatial frequency :math:`f_k` (a few
scenes get a checkerboard instead), drawn on a canvas larger than the frame. Each frame shows
a window of that canvas that drifts slowly (camera motion: a few pixels, sinusoidal in time)
with Gaussian pixel noise added, and is encoded by FFmpeg (through PyAV, H.264 by default).
A video is a list of ``(scene, seconds)`` pairs; scenes may repeat, within and across videos.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asot.runs import run_starts

__all__ = ["COLLECTION", "COLLECTION_SCENES", "NEW_VIDEOS", "SceneVideo", "scene_palette", "score_segmentation", "write_collection", "write_scene_video"]

#: a small collection: 3 videos of 4, 5 and 6 scenes out of 5, scenes repeated within and
#: across videos; ``(scene, seconds)`` per segment
COLLECTION: dict[str, list[tuple[int, float]]] = {
    "rec0": [(0, 4), (1, 3), (2, 4), (3, 3)],
    "rec1": [(1, 3), (4, 4), (0, 3), (2, 3), (4, 3)],
    "rec2": [(3, 3), (0, 4), (4, 3), (1, 3), (3, 3), (2, 4)],
}
COLLECTION_SCENES = 5
#: a further video of the same scenes in another order (segmenting new videos with a run)
NEW_VIDEOS: dict[str, list[tuple[int, float]]] = {"new0": [(2, 3), (3, 3), (1, 3), (4, 3), (0, 3)]}


@dataclass(frozen=True)
class SceneVideo:
    """What :func:`write_scene_video` wrote: the file, its frame rate, and the ground truth
    as scene ids per frame and as ``(scene, start_s, end_s)`` segments."""

    path: Path
    fps: int
    frame_labels: np.ndarray  # (n_frames,) int64
    segments: tuple[tuple[int, float, float], ...]

    @property
    def boundaries(self) -> list[float]:
        """Seconds at which one scene changes into the next."""
        return [start for _, start, _ in self.segments[1:]]


def scene_palette(n_scenes: int, seed: int = 0) -> list[dict[str, float | np.ndarray | bool]]:
    """``n_scenes`` visually distinct scene descriptions (hue-spread colours, gratings)."""
    rng = np.random.default_rng(seed)
    scenes = []
    for k in range(n_scenes):
        hue = k / n_scenes
        colour = 0.5 + 0.4 * np.cos(2 * np.pi * (hue + np.array([0.0, 1 / 3, 2 / 3])))
        scenes.append({
            "colour": colour * 255.0,
            "theta": np.pi * ((k * 0.382) % 1.0),
            "freq": 0.06 + 0.18 * ((k * 0.618) % 1.0),
            "checker": bool(k % 3 == 2),
            "phase": float(rng.uniform(0, 2 * np.pi)),
        })  # fmt: skip
    return scenes


def _canvas(scene: dict, size: int, margin: int) -> np.ndarray:
    side = size + 2 * margin
    y, x = np.mgrid[0:side, 0:side].astype(np.float64)
    if scene["checker"]:
        cell = max(2, int(round(1.0 / scene["freq"])))
        pattern = (((x // cell) + (y // cell)) % 2) * 2 - 1
    else:
        u = x * np.cos(scene["theta"]) + y * np.sin(scene["theta"])
        pattern = np.sin(2 * np.pi * scene["freq"] * u + scene["phase"])
    img = scene["colour"][None, None, :] + 60.0 * pattern[..., None] * np.array([1.0, 0.8, 0.6])
    return img


def write_scene_video(
    path: os.PathLike | str,
    segments: Sequence[tuple[int, float]],
    *,
    n_scenes: int | None = None,
    fps: int = 10,
    size: int = 64,
    noise: float = 12.0,
    motion: float = 3.0,
    codec: str = "libx264",
    seed: int = 0,
) -> SceneVideo:
    """Encode a video of ``segments`` = ``[(scene, seconds), ...]`` at ``fps`` frames per second,
    ``size`` x ``size`` pixels, pixel noise of std ``noise`` (0-255 scale) and a camera drift of
    up to ``motion`` pixels. ``n_scenes`` (default: the largest scene id + 1) fixes the palette,
    so the same scene id looks the same in every video of one palette."""
    import av

    if not segments:
        raise ValueError("segments must list at least one (scene, seconds) pair")
    n_scenes = n_scenes or max(s for s, _ in segments) + 1
    palette = scene_palette(n_scenes, seed=0)
    margin = int(np.ceil(motion)) + 1
    canvases = {s: _canvas(palette[s], size, margin) for s, _ in segments}
    rng = np.random.default_rng(seed)
    labels: list[int] = []
    spans: list[tuple[int, float, float]] = []
    for scene, seconds in segments:
        n = int(round(seconds * fps))
        if n < 1:
            raise ValueError(f"a segment of {seconds} s at {fps} fps has no frame")
        start = len(labels) / fps
        labels.extend([scene] * n)
        spans.append((int(scene), start, len(labels) / fps))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for i, scene in enumerate(labels):
            t = i / fps
            dx = margin + motion * np.sin(2 * np.pi * t / 7.0)
            dy = margin + motion * np.sin(2 * np.pi * t / 5.0 + 1.0)
            ox, oy = int(round(dx)), int(round(dy))
            frame = canvases[scene][oy : oy + size, ox : ox + size] + rng.normal(0.0, noise, (size, size, 3))
            image = np.clip(frame, 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return SceneVideo(path=path, fps=fps, frame_labels=np.asarray(labels, dtype=np.int64), segments=tuple(spans))


def write_collection(folder: os.PathLike | str, plans: dict[str, Sequence[tuple[int, float]]] | None = None, *,
                     n_scenes: int = COLLECTION_SCENES, seed: int = 0, **options) -> dict[str, SceneVideo]:  # fmt: skip
    """Write ``folder/<name>.mp4`` for every ``name -> segments`` of ``plans`` (default
    :data:`COLLECTION`) with one palette; video ``i`` gets noise seed ``seed + i``."""
    plans = COLLECTION if plans is None else plans
    return {name: write_scene_video(Path(folder) / f"{name}.mp4", plan, n_scenes=n_scenes, seed=seed + i, **options)
            for i, (name, plan) in enumerate(plans.items())}  # fmt: skip


def score_segmentation(video: SceneVideo, labels: Sequence[int] | np.ndarray, timestamps: Sequence[float] | np.ndarray) -> tuple[float, list[float]]:
    """How well ``labels`` (one cluster id per sampled frame at ``timestamps`` seconds) segment
    ``video``: MoF in percent with this video's own Hungarian matching, and for every true scene
    change the distance in seconds to the predicted change of the same rank (``[inf]`` when the
    numbers of changes differ). A predicted change is the timestamp of its first frame."""
    from asot.metrics import mof

    labels = np.asarray(labels)
    times = np.asarray(timestamps, dtype=np.float64)
    if labels.shape != times.shape:
        raise ValueError(f"labels {labels.shape} and timestamps {times.shape} differ in length")
    truth = video.frame_labels[np.clip(np.round(times * video.fps).astype(np.int64), 0, len(video.frame_labels) - 1)]
    changes = run_starts(labels)[1:]
    predicted = [float(times[i]) for i in changes]
    true = video.boundaries
    errors = [abs(p - t) for p, t in zip(predicted, true)] if len(predicted) == len(true) else [float("inf")]
    return 100.0 * mof(labels, truth), errors
