r"""Segment tables: ``segments.csv`` and ``segments.json``, one row per segment of every video.

Everything that writes label files (``asot train``, ``asot predict``, ``asot segment``,
:func:`asot.train`, :func:`asot.predict`, :func:`asot.segment_videos`) writes them beside the
labels. Columns (:data:`COLUMNS`):

==============  ===================================================================================
``video``       video name (the label file's name)
``segment``     0-based index of the segment in its video
``label``       the class name (with a mapping), else ``action_<id>``
``id``          the integer label id (cluster or class id) written in the label file
``start_frame`` first frame of the segment
``end_frame``   one past its last frame (end exclusive): ``frames = end_frame - start_frame``
``start_s``     start time in seconds; ``end_s`` the end time (the start of the next frame)
``frames``      number of frames
``confidence``  mean over the segment's frames of the coupling mass of its label, each frame's
                coupling row normalised to sum 1: :math:`\frac{1}{|S|}\sum_{t \in S} T_{t,\ell} / \sum_k T_{t,k}`
                (in ``[0, 1]``; empty for a decoder without a coupling)
==============  ===================================================================================

Seconds come from an explicit frame rate (``--fps``), else from the per-video sidecar
``features/<video>.json`` (``timestamps``, else ``fps``: :mod:`asot.io.timing`); without either
the two seconds columns are empty (CSV) / ``null`` (JSON): never invented. Both files are written
atomically. :func:`expand_segments` turns a table back into per-frame labels.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from asot.io.labels import LabelFileError, atomic_write_text
from asot.io.timing import FrameTiming
from asot.runs import run_length_decode, run_length_encode

__all__ = [
    "COLUMNS",
    "SEGMENTS_CSV",
    "SEGMENTS_JSON",
    "SEGMENT_TABLES",
    "coupling_confidence",
    "default_label_name",
    "expand_segments",
    "foreign_tables",
    "merged_with_previous",
    "read_segment_table",
    "segment_rows",
    "write_segment_tables",
]

SEGMENTS_CSV = "segments.csv"
SEGMENTS_JSON = "segments.json"
#: the two table files (readers of label folders skip them)
SEGMENT_TABLES = (SEGMENTS_CSV, SEGMENTS_JSON)
COLUMNS = ("video", "segment", "label", "id", "start_frame", "end_frame", "start_s", "end_s", "frames", "confidence")
CONFIDENCE_DOC = "mean over the segment of the coupling mass of its label, each frame's coupling row normalised to sum 1"
_INT_COLUMNS = ("segment", "id", "start_frame", "end_frame", "frames")
_FLOAT_COLUMNS = ("start_s", "end_s", "confidence")


def default_label_name(label_id: int) -> str:
    """The name of a label id without a mapping: ``action_<id>``."""
    return f"action_{int(label_id)}"


#: rows of a coupling converted to float64 at a time by :func:`coupling_confidence`
_CONFIDENCE_ROWS = 1 << 16


def coupling_confidence(coupling: Any, labels: Any) -> np.ndarray:
    r"""Per-frame confidence :math:`T_{t,\ell_t} / \sum_k T_{t,k}` of the labels ``(N,)`` under a
    coupling ``(N, K)`` (each row normalised to a probability); 0 for a row without mass."""
    from asot._arrays import to_numpy

    t = to_numpy(coupling)
    lab = to_numpy(labels).astype(np.int64, copy=False)
    if t.ndim != 2 or lab.shape != (t.shape[0],):
        raise ValueError(f"coupling_confidence: expected a (N, K) coupling and (N,) labels, got {t.shape} and {lab.shape}")
    out = np.empty(lab.size, dtype=np.float64)
    for lo in range(0, lab.size, _CONFIDENCE_ROWS):  # float64 a block of rows at a time, not a copy of the whole coupling
        block, lb = np.asarray(t[lo : lo + _CONFIDENCE_ROWS], dtype=np.float64), lab[lo : lo + _CONFIDENCE_ROWS]
        mass = block.sum(axis=1)
        picked = block[np.arange(lb.size), np.clip(lb, 0, max(t.shape[1] - 1, 0))]
        safe = np.where(mass > 0, mass, 1.0)
        out[lo : lo + lb.size] = np.where((mass > 0) & (lb >= 0), picked / safe, 0.0)
    return out


def segment_rows(video: str, labels: Any, *, confidence: Any = None, timing: FrameTiming | None = None,
                 names: Mapping[int, str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The rows of one video's segments (see the module doc for the columns).

    Args:
        labels: ``(N,)`` integer label ids.
        confidence: ``(N,)`` per-frame confidence (:func:`coupling_confidence`), or ``None``.
        timing: frame times (``None``: the seconds columns are ``None``).
        names: id -> class name (default ``action_<id>``).
    """
    from asot._arrays import to_numpy

    lab = to_numpy(labels).astype(np.int64).reshape(-1)
    runs = run_length_encode(lab)
    conf = None if confidence is None else to_numpy(confidence, dtype=np.float64).reshape(-1)
    if conf is not None and conf.shape != lab.shape:
        raise ValueError(f"video {video!r}: {conf.size} confidences for {lab.size} frames")
    seconds = None if timing is None else timing.seconds(lab.size)
    rows = []
    for i, (k, s, e) in enumerate(zip(runs.labels.tolist(), runs.starts.tolist(), runs.ends.tolist())):
        name = names.get(k) if names is not None else None
        rows.append({
            "video": video, "segment": i, "label": name if name is not None else default_label_name(k), "id": k,
            "start_frame": s, "end_frame": e,
            "start_s": None if seconds is None or seconds[s] is None else round(float(seconds[s]), 6),
            "end_s": None if seconds is None or seconds[e] is None else round(float(seconds[e]), 6),
            "frames": e - s,
            "confidence": None if conf is None else round(float(conf[s:e].mean()), 6),
        })  # fmt: skip
    return rows


def _csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in COLUMNS])
    return buf.getvalue()


def write_segment_tables(folder: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]]) -> tuple[Path, Path]:
    """Write ``folder/segments.csv`` and ``folder/segments.json`` (each atomically). Returns both paths."""
    folder = Path(folder)
    rows = [dict(r) for r in rows]
    doc = {"columns": list(COLUMNS), "end_frame": "exclusive", "confidence": CONFIDENCE_DOC, "segments": rows}
    json_path = atomic_write_text(folder / SEGMENTS_JSON, json.dumps(doc, indent=1, allow_nan=False) + "\n")
    csv_path = atomic_write_text(folder / SEGMENTS_CSV, _csv_text(rows))
    return csv_path, json_path


def _parse(value: Any, column: str, path: Path, line: int) -> Any:
    if column in _INT_COLUMNS:
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise LabelFileError(path, f"column {column!r}: expected an integer, got {value!r}", line=line) from None
    if column in _FLOAT_COLUMNS:
        if value is None or value == "":
            return None
        try:
            out = float(value)
        except (TypeError, ValueError):
            raise LabelFileError(path, f"column {column!r}: expected a number or empty, got {value!r}", line=line) from None
        if not math.isfinite(out):
            raise LabelFileError(path, f"column {column!r}: expected a finite number, got {value!r}", line=line)
        return out
    if not isinstance(value, str) or not value:
        raise LabelFileError(path, f"column {column!r}: expected a non-empty text, got {value!r}", line=line)
    return value


def read_segment_table(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of a ``segments.csv`` or ``segments.json`` (validated; errors name the file and line/row)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LabelFileError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise LabelFileError(path, f"unreadable ({err})") from None
    if path.suffix == ".json":
        try:
            raw = json.loads(text)["segments"]
        except (ValueError, KeyError, TypeError):
            raise LabelFileError(path, "expected a JSON object with a 'segments' list (a segments.json)") from None
        numbered = [(i + 1, r) for i, r in enumerate(raw)]
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise LabelFileError(path, f"missing column(s) {missing}; expected the header {','.join(COLUMNS)}", line=1)
        numbered = [(n + 2, r) for n, r in enumerate(reader)]
    rows = []
    for line, raw_row in numbered:
        if not isinstance(raw_row, dict) or any(c not in raw_row for c in COLUMNS):
            raise LabelFileError(path, f"row {line}: expected the fields {list(COLUMNS)}", line=line)
        rows.append({c: _parse(raw_row[c], c, path, line) for c in COLUMNS})
    return rows


def expand_segments(table: str | os.PathLike[str] | Iterable[Mapping[str, Any]], *, by: str = "id") -> dict[str, np.ndarray]:
    """Per-frame labels of every video of a segment table (a path or rows), in table order.

    ``by="id"``: ``(N,)`` int64 ids (the integer label files); ``by="label"``: ``(N,)`` arrays
    of the label names (the label files written with a mapping). Segments must tile each video
    from frame 0 in order (``ValueError`` naming the video otherwise).
    """
    if by not in ("id", "label"):
        raise ValueError(f"expand_segments: by must be 'id' or 'label', got {by!r}")
    rows = read_segment_table(table) if isinstance(table, (str, os.PathLike)) else list(table)
    per_video: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        per_video.setdefault(str(row["video"]), []).append(row)
    out: dict[str, np.ndarray] = {}
    for video, segs in per_video.items():
        values = np.array([r[by] for r in segs], dtype=np.int64 if by == "id" else object)
        try:
            out[video] = run_length_decode(values, [r["start_frame"] for r in segs], [r["end_frame"] for r in segs])
        except ValueError as err:
            raise ValueError(f"segment table, video {video!r}: {err}") from None
    return out


def foreign_tables(folder: str | os.PathLike[str]) -> list[Path]:
    """The table paths in ``folder`` that exist but were not written by :func:`write_segment_tables`
    (a command may replace its own tables, never someone else's file of that name)."""
    folder = Path(folder)
    out = []
    for name in SEGMENT_TABLES:
        path = folder / name
        if not path.exists():
            continue
        try:
            if name == SEGMENTS_JSON:
                ours = json.loads(path.read_text(encoding="utf-8")).get("columns") == list(COLUMNS)
            else:
                with open(path, encoding="utf-8") as fh:
                    ours = fh.readline().strip() == ",".join(COLUMNS)
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            ours = False
        if not ours:
            out.append(path)
    return out


def merged_with_previous(folder: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]], keep: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``rows`` plus the rows of the previous ``folder/segments.json`` for the videos in ``keep``
    that ``rows`` does not cover (videos written into the folder by an earlier command whose label
    files are still there), previous videos first. An unreadable previous table adds nothing."""
    folder = Path(folder)
    now = {r["video"] for r in rows}
    wanted = set(keep) - now
    previous: list[dict[str, Any]] = []
    if wanted and (folder / SEGMENTS_JSON).is_file():
        try:
            previous = [r for r in read_segment_table(folder / SEGMENTS_JSON) if r["video"] in wanted]
        except LabelFileError:
            previous = []
    return previous + [dict(r) for r in rows]
