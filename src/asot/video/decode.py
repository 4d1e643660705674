r"""Video files -> frames sampled at a fixed rate, with the decoder's own timestamps.

Decoding uses PyAV (``av``), the maintained Python binding of FFmpeg whose wheels bundle the
FFmpeg libraries, so mp4 / avi / mov / mkv / webm (H.264, HEVC, VP8/9, AV1, MPEG-4, ...) decode
with nothing else installed. ``av`` is imported on first use only.

**Sampling at** ``fps``. With decoded frame times :math:`t_0 \le t_1 \le \dots` (seconds, from
the stream's presentation timestamps) and the grid :math:`g_k = t_0 + k / \text{fps}`, the
sampled frames are, for each :math:`k`, the first decoded frame with
:math:`t_i \ge g_k - \tfrac{1}{2}\Delta` (:math:`\Delta` = one native frame period), each frame
taken at most once. A rate at or above the native one therefore keeps every frame; the
recorded timestamps are always the decoder's :math:`t_i` of the kept frames, never the grid.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asot.video.defaults import VIDEO_EXTENSIONS

__all__ = [
    "VideoDecodeError",
    "VideoInfo",
    "find_videos",
    "iter_sampled_frames",
    "probe_video",
]

class VideoDecodeError(ValueError):
    """A video that cannot be opened or decoded (the message names the file)."""


@dataclass(frozen=True)
class VideoInfo:
    """Container metadata of a video's first video stream."""

    path: Path
    width: int
    height: int
    native_fps: float | None  # the stream's average frame rate, None when the container has none
    duration: float | None  # seconds, None when the container does not say
    n_frames: int | None  # frame count from the container (0/None when it does not say)
    codec: str

    def expected_samples(self, fps: float) -> int | None:
        """Roughly how many frames sampling at ``fps`` keeps (for progress bars)."""
        if self.duration is None:
            return None
        rate = min(fps, self.native_fps) if self.native_fps else fps
        return max(1, int(np.ceil(self.duration * rate - 1e-6)))


def find_videos(inputs: Iterable[os.PathLike | str]) -> list[Path]:
    """Video files named by ``inputs``: files as given, folders searched recursively for the
    :data:`VIDEO_EXTENSIONS` (sorted). A missing path is a :class:`FileNotFoundError`."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such video file or folder")
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    return list(unique)


def _open(path: Path):  # type: ignore[no-untyped-def]
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as err:
        raise VideoDecodeError(f"{path}: cannot open as a video ({_reason(err)})") from None
    if not container.streams.video:
        container.close()
        raise VideoDecodeError(f"{path}: has no video stream")
    return container


def _reason(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


def _info(path: Path, container) -> VideoInfo:  # type: ignore[no-untyped-def]
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    native = float(rate) if rate else None
    duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000  # av.time_base: microseconds
    return VideoInfo(path=path, width=int(stream.codec_context.width or 0), height=int(stream.codec_context.height or 0),
                     native_fps=native, duration=duration, n_frames=int(stream.frames) or None,
                     codec=stream.codec_context.name)  # fmt: skip


def probe_video(path: os.PathLike | str) -> VideoInfo:
    """The container metadata of ``path`` (nothing decoded)."""
    path = Path(path)
    container = _open(path)
    try:
        return _info(path, container)
    finally:
        container.close()


def iter_sampled_frames(
    path: os.PathLike | str, fps: float, size: int | Sequence[int] | None = None, *, chunk: int = 64
) -> Iterator[tuple[VideoInfo, np.ndarray, np.ndarray]]:
    """Decode ``path`` and yield ``(info, frames, timestamps)`` chunks of up to ``chunk`` sampled
    frames: ``frames`` ``(n, H, W, 3)`` uint8 RGB (resized to ``size`` = ``S`` or ``(H, W)`` by
    FFmpeg's scaler when given), ``timestamps`` ``(n,)`` float64 seconds from the decoder.

    Streams: memory stays at one chunk whatever the video's length. A file that cannot be
    opened, has no video stream, or fails mid-stream raises :class:`VideoDecodeError`; a video
    with no decodable frame too.
    """
    import av

    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps!r}")
    path = Path(path)
    if size is not None:
        height, width = (int(size), int(size)) if np.isscalar(size) else (int(size[0]), int(size[1]))
    container = _open(path)
    try:
        info = _info(path, container)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        step = 1.0 / fps
        tolerance = 0.5 / info.native_fps if info.native_fps else 1e-6
        next_time: float | None = None
        frames: list[np.ndarray] = []
        times: list[float] = []
        n_kept = 0
        try:
            for frame in container.decode(stream):
                t = frame.time
                if t is None:
                    continue
                if next_time is None:
                    next_time = t
                if t + tolerance < next_time:
                    continue
                while next_time <= t + tolerance:
                    next_time += step
                if size is None:
                    array = frame.to_ndarray(format="rgb24")
                else:
                    array = frame.to_ndarray(format="rgb24", width=width, height=height)
                frames.append(array)
                times.append(float(t))
                if len(frames) == chunk:
                    n_kept += len(frames)
                    yield info, np.stack(frames), np.asarray(times, dtype=np.float64)
                    frames, times = [], []
        except (av.FFmpegError, OSError, ValueError) as err:
            raise VideoDecodeError(f"{path}: decoding failed after {n_kept + len(frames)} sampled frames ({_reason(err)})") from None
        if frames:
            n_kept += len(frames)
            yield info, np.stack(frames), np.asarray(times, dtype=np.float64)
        if n_kept == 0:
            raise VideoDecodeError(f"{path}: no decodable video frame")
    finally:
        container.close()
