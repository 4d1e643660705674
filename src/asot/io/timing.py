"""Frame times of a video: an explicit frame rate, or the sidecar ``features/<video>.json``.

The sidecar (written by ``asot features``, or by hand for sensor / pose recordings) is a JSON
object; two of its fields are read here, both optional:

* ``fps`` -- frames (feature rows) per second;
* ``timestamps`` -- one time in seconds per feature row, non-decreasing.

Other fields (``source``, ``backbone``, ``decoder``, ``duration``, ...) are ignored. Time of
frame ``t``: ``timestamps[t]``, else ``t / fps``. The end of the last frame is its time plus one
frame period (``1 / fps``, else the median step of the timestamps); with neither it is unknown.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asot.io.labels import LabelFileError

__all__ = ["FrameTiming", "check_fps", "read_frame_timing", "sidecar_path"]


def check_fps(fps: Any, where: str = "fps") -> float:
    """``fps`` as a float > 0 (``ValueError`` naming ``where`` otherwise)."""
    try:
        value = float(fps)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected a frame rate > 0 (frames per second), got {fps!r}") from None
    if isinstance(fps, bool) or not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{where}: expected a frame rate > 0 (frames per second), got {fps!r}")
    return value


@dataclass(frozen=True)
class FrameTiming:
    """Frame times: ``timestamps`` ``(N,)`` seconds and/or a frame rate ``fps``."""

    fps: float | None = None
    timestamps: np.ndarray | None = None

    def seconds(self, n_frames: int) -> list[float | None] | None:
        """Times of frames ``0 .. N`` (index ``N`` = the end of the last frame), or ``None``."""
        if self.timestamps is not None:
            ts = [float(t) for t in self.timestamps]
            if self.fps is not None:
                step: float | None = 1.0 / self.fps
            elif len(ts) > 1:
                step = float(np.median(np.diff(ts)))
            else:
                step = None
            return ts + [None if step is None else ts[-1] + step]
        if self.fps is not None:
            return [t / self.fps for t in range(n_frames + 1)]
        return None


def sidecar_path(feature_path: str | os.PathLike[str]) -> Path:
    """``<folder>/<video>.json`` beside a feature file ``<folder>/<video>.npy|.txt``."""
    return Path(feature_path).with_suffix(".json")


def read_frame_timing(feature_path: str | os.PathLike[str] | None, n_frames: int, fps: float | None = None) -> FrameTiming | None:
    """The timing of one video: ``fps`` when given (it wins), else its sidecar, else ``None``.

    Raises:
        LabelFileError: a sidecar that is not a JSON object, an ``fps`` that is not > 0, or
            ``timestamps`` that are not ``n_frames`` finite non-decreasing numbers (naming the
            file and field).
    """
    if fps is not None:
        return FrameTiming(fps=check_fps(fps))
    if feature_path is None:
        return None
    path = sidecar_path(feature_path)
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise LabelFileError(path, f"unreadable sidecar (expected a JSON object with 'fps' / 'timestamps': {err})") from None
    if not isinstance(doc, dict):
        raise LabelFileError(path, "expected a JSON object with 'fps' and/or 'timestamps'")
    rate = doc.get("fps")
    if rate is not None:
        try:
            rate = check_fps(rate, f"{path}: field 'fps'")
        except ValueError as err:
            raise LabelFileError(None, str(err)) from None
    stamps = doc.get("timestamps")
    ts = None
    if stamps is not None:
        try:
            ts = np.asarray(stamps, dtype=np.float64)
        except (TypeError, ValueError):
            ts = None
        if ts is None or ts.ndim != 1 or not np.isfinite(ts).all():
            raise LabelFileError(path, "field 'timestamps': expected a list of numbers (seconds), one per feature row")
        if ts.size != n_frames:
            raise LabelFileError(path, f"field 'timestamps': {ts.size} times for {n_frames} feature rows")
        if ts.size > 1 and (np.diff(ts) < 0).any():
            i = int(np.flatnonzero(np.diff(ts) < 0)[0]) + 1
            raise LabelFileError(path, f"field 'timestamps': time {i} ({ts[i]}) is before time {i - 1} ({ts[i - 1]})")
    if rate is None and ts is None:
        return None
    return FrameTiming(fps=rate, timestamps=ts)
