"""Optional thumbnails: one small JPEG per segment, for runs made from video files.

A video made by ``asot features`` has a sidecar ``features/[<activity>/]<video>.json`` naming its
source file (``source``) and the sampled frames' times (``timestamps``, seconds) or ``fps``. When
that file exists and a decoder (PyAV) is installed, the frame in the middle of each segment of
the first prediction row is decoded, shrunk to :data:`THUMB_WIDTH` pixels and embedded as a data
URI; otherwise nothing is added (the report is complete without them). At most
:data:`MAX_THUMBNAIL_VIDEOS` videos get thumbnails, to keep the file small.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["add_thumbnails", "MAX_THUMBNAIL_VIDEOS", "THUMB_WIDTH"]

THUMB_WIDTH = 160
MAX_THUMBNAIL_VIDEOS = 200


def _sidecar(video: str, feature_dirs: Sequence[Path]) -> dict[str, Any] | None:
    for folder in feature_dirs:
        for path in (folder / f"{video}.json", *folder.glob(f"*/{video}.json")):
            if path.is_file():
                try:
                    value = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    return None
                if isinstance(value, dict) and value.get("source"):
                    source = Path(value["source"])
                    value["source"] = source if source.is_absolute() else (path.parent / source)
                    return value
    return None


def _frames_at(source: Path, seconds: list[float]) -> list[bytes | None]:
    """JPEG bytes of the frame shown at each time (PyAV); ``None`` where decoding fails."""
    import av  # optional dependency

    out: list[bytes | None] = [None] * len(seconds)
    order = sorted(range(len(seconds)), key=lambda i: seconds[i])
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        frames = container.decode(stream)
        j = 0
        last = None
        for frame in frames:
            t = float(frame.time or 0.0)
            while j < len(order) and seconds[order[j]] <= t:
                out[order[j]] = _jpeg(frame.to_image())
                j += 1
            last = frame
            if j >= len(order):
                break
        while j < len(order) and last is not None:  # times past the last frame: the last frame
            out[order[j]] = _jpeg(last.to_image())
            j += 1
    return out


def _jpeg(image: Any) -> bytes:
    h = max(1, round(image.height * THUMB_WIDTH / max(image.width, 1)))
    buffer = io.BytesIO()
    image.convert("RGB").resize((THUMB_WIDTH, h)).save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


def add_thumbnails(data: Any, feature_dirs: Sequence[Path]) -> int:
    """Add ``data.thumbnails[video][row]`` for videos with a decodable source; returns how many
    videos got them (0 without a decoder or sidecars). PyAV is imported only to decode a video:
    importing it costs 15 MB of resident memory, for nothing in a run without video files."""
    if importlib.util.find_spec("av") is None:
        return 0
    rows = [r for r in data.rows if r != "GT"][:1]
    done = 0
    for video in data.videos:
        if done >= MAX_THUMBNAIL_VIDEOS or not rows:
            break
        sidecar = _sidecar(video["name"], feature_dirs)
        if sidecar is None or not Path(sidecar["source"]).is_file():
            continue
        stamps = sidecar.get("timestamps")
        fps = sidecar.get("fps") or video.get("fps")
        track = video["tracks"][rows[0]]
        n = video["n"]
        mids = []
        for i in range(0, len(track), 2):
            start, end = track[i], track[i + 2] if i + 2 < len(track) else n
            mid = (start + end - 1) // 2
            if isinstance(stamps, list) and len(stamps) == n:
                mids.append(float(stamps[mid]))
            elif fps:
                mids.append(mid / float(fps))
            else:
                mids = []
                break
        if not mids:
            continue
        try:
            jpegs = _frames_at(Path(sidecar["source"]), mids)
        except Exception:  # noqa: BLE001 - an undecodable video only loses its thumbnails
            continue
        data.thumbnails[video["name"]] = {rows[0]: [None if j is None else "data:image/jpeg;base64," + base64.b64encode(j).decode()
                                                    for j in jpegs]}  # fmt: skip
        done += 1
    if done:
        data.notes.append(f"thumbnails: the middle frame of each {rows[0]} segment, for {done} video(s)")
    return done
