"""Frame-label files: groundTruth text files, mapping files, ``.npy`` label arrays.

Formats (spec ``ASOT.md`` sections 6 and 7):

* **groundTruth** -- one label per line, one line per frame (``ROOT/<dataset>/groundTruth/<video>``).
  Labels are class names, or integers where no mapping was given.
* **mapping** -- ``"<id> <name>"`` per line (``mapping/mapping.txt``). Many-to-one is allowed
  (50 Salads' ``mappingeval.txt`` gives several names one id): class identity is the id, and
  when an id is written back as a name the first name listed for it is used.
* **label array** -- a 1-D integer ``.npy`` array of class or cluster ids.

Writers are atomic: the content goes to a temporary file in the destination folder, which then
replaces the destination with :func:`os.replace`, so a reader never sees a half-written file.

Errors are :class:`LabelFileError` (a :class:`ValueError`) and name the file (and line).
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asot._arrays import to_numpy
from asot.io.arrays import NpyFileError, load_npy
from asot.io.atomic import atomic_write_bytes, atomic_write_text, atomic_write_with

__all__ = [
    "LabelFileError",
    "LabelMapping",
    "atomic_write_bytes",
    "atomic_write_text",
    "read_label_file",
    "read_labels",
    "read_mapping",
    "save_label_array",
    "write_json",
    "write_label_file",
]

PathLike = str | os.PathLike
_INT = re.compile(r"[+-]?\d+\Z")
_INTS = re.compile(r"[+-]?\d+(?:\n[+-]?\d+)*")


class LabelFileError(ValueError):
    """A label or mapping file that cannot be read as expected; names the file and line."""

    def __init__(self, path: PathLike | None, message: str, line: int | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.line = line
        where = "" if path is None else f"{path}{'' if line is None else f':{line}'}: "
        super().__init__(where + message)


# --------------------------------------------------------------------------------------------
# mapping files


@dataclass(frozen=True)
class LabelMapping:
    """Class names to integer ids, as read from a mapping file (many-to-one allowed).

    Attributes:
        name_to_id: ``{name: id}``.
        id_to_names: ``{id: (name, ...)}`` in file order; the first name is the canonical one.
        path: the file it was read from, if any.
    """

    name_to_id: Mapping[str, int]
    id_to_names: Mapping[int, tuple[str, ...]]
    path: Path | None = None

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[int, str]], path: PathLike | None = None) -> LabelMapping:
        """Build from ``(id, name)`` pairs; a name given two different ids is an error."""
        name_to_id: dict[str, int] = {}
        id_to_names: dict[int, list[str]] = {}
        for i, name in pairs:
            i = int(i)
            if name in name_to_id and name_to_id[name] != i:
                raise LabelFileError(path, f"label {name!r} has two ids, {name_to_id[name]} and {i}")
            if name not in name_to_id:
                name_to_id[name] = i
                id_to_names.setdefault(i, []).append(name)
        return cls(name_to_id, {i: tuple(n) for i, n in id_to_names.items()}, None if path is None else Path(path))

    @property
    def ids(self) -> list[int]:
        """The distinct ids, sorted."""
        return sorted(self.id_to_names)

    def __len__(self) -> int:
        return len(self.name_to_id)

    def __contains__(self, name: object) -> bool:
        return name in self.name_to_id

    def id_of(self, name: str) -> int:
        """The id of a class name (``KeyError`` if unknown)."""
        return self.name_to_id[name]

    def name_of(self, class_id: int) -> str:
        """The canonical (first listed) name of an id (``KeyError`` if unknown)."""
        return self.id_to_names[int(class_id)][0]

    def encode(self, names: Sequence[str], path: PathLike | None = None) -> np.ndarray:
        """Names to an ``int64`` id array; an unknown name raises :class:`LabelFileError`
        naming ``path``, the (1-based) line and the mapping file."""
        out = np.empty(len(names), dtype=np.int64)
        for t, name in enumerate(names):
            try:
                out[t] = self.name_to_id[name]
            except KeyError:
                source = f" in mapping {self.path}" if self.path is not None else ""
                message = f"unknown label {name!r} (not{source or ' in the mapping'})"
                raise LabelFileError(path, message, line=t + 1) from None
        return out

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Ids to canonical names (``KeyError`` naming the id if one is unknown)."""
        out = []
        for i in ids:
            try:
                out.append(self.id_to_names[int(i)][0])
            except KeyError:
                raise KeyError(f"id {int(i)} is not in the mapping" + (f" {self.path}" if self.path else "")) from None
        return out


def _read_text(path: PathLike) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")  # a byte-order mark (Windows editors) is dropped
    except FileNotFoundError:
        raise LabelFileError(path, "no such file") from None
    except IsADirectoryError:
        raise LabelFileError(path, "is a directory, expected a file") from None
    except UnicodeDecodeError:
        raise LabelFileError(path, "not a UTF-8 text file") from None


def read_mapping(path: PathLike) -> LabelMapping:
    """Read a mapping file of ``"<id> <name>"`` lines (blank lines ignored)."""
    pairs = []
    for n, line in enumerate(_read_text(path).splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not _INT.match(parts[0]):
            raise LabelFileError(path, f"expected '<id> <name>', got {line!r}", line=n)
        pairs.append((int(parts[0]), parts[1].strip()))
    if not pairs:
        raise LabelFileError(path, "empty mapping file")
    return LabelMapping.from_pairs(pairs, path)


# --------------------------------------------------------------------------------------------
# label files


def read_label_file(path: PathLike) -> list[str]:
    """Read a groundTruth-format file: one label per line (surrounding whitespace and trailing
    blank lines ignored; a blank line between labels is an error)."""
    lines = [line.strip() for line in _read_text(path).splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    for n, line in enumerate(lines, start=1):
        if not line:
            raise LabelFileError(path, "empty label (blank line)", line=n)
    return lines


def _as_int_array(arr: np.ndarray, path: PathLike) -> np.ndarray:
    if arr.ndim != 1:
        raise LabelFileError(path, f"expected a 1-D label array of shape (n_frames,), got shape {arr.shape}")
    if arr.size == 0 or np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    raise LabelFileError(path, f"expected integer labels, got dtype {arr.dtype}")


def read_labels(path: PathLike, mapping: LabelMapping | None = None) -> np.ndarray:
    """Frame labels of one video as an ``int64`` array ``(n_frames,)``.

    ``*.npy``: a 1-D integer array (integral floats accepted). Anything else: a groundTruth
    text file whose labels are all integers (taken as ids) or class names (encoded with
    ``mapping``, which is then required; unknown names are an error naming file and line).
    """
    path = Path(path)
    if path.suffix == ".npy":
        try:
            arr = load_npy(path)
        except FileNotFoundError:
            raise LabelFileError(path, "no such file") from None
        except NpyFileError as err:
            raise LabelFileError(path, err.reason) from None
        except (ValueError, OSError, EOFError) as err:
            raise LabelFileError(path, f"not a readable .npy array ({err or 'empty file'})") from None
        return _as_int_array(np.asarray(arr), path)
    names = read_label_file(path)
    if names and _INTS.fullmatch("\n".join(names)):  # one regex over the file, not one per line
        return np.array([int(s) for s in names], dtype=np.int64)
    if mapping is None:
        raise LabelFileError(path, "labels are names, but no mapping was given to turn them into ids")
    return mapping.encode(names, path)


# --------------------------------------------------------------------------------------------
# atomic writers (asot.io.atomic)


#: frames joined at a time by :func:`write_label_file`
_LINES_PER_BLOCK = 1 << 16
#: label ids below this (and none negative) are found by counting, not by sorting the frames
_DENSE_IDS = 1 << 16


def write_label_file(path: PathLike, labels: Any, mapping: LabelMapping | None = None) -> Path:
    """Write frame labels in the groundTruth format, atomically.

    ``labels``: ``(n_frames,)`` integer ids (numpy, torch or a list). With ``mapping`` each id
    is written as its canonical class name (``KeyError`` for an id not in it), else as an
    integer.
    """
    arr = _as_int_array(to_numpy(labels), path)
    # one line per distinct label, then the lines of a block of frames at a time, streamed to the
    # file: no Python string per frame and nothing of the whole video's size (a 2M-frame video
    # made ~120 MB of strings, then ~100 MB of sort buffers and the joined text)
    small = arr.size > 0 and 0 <= int(arr.min()) and int(arr.max()) < _DENSE_IDS
    ids = np.flatnonzero(np.bincount(arr)) if small else np.unique(arr)
    lines = [f"{t}\n".encode("utf-8") for t in (mapping.decode(ids) if mapping is not None else [str(int(v)) for v in ids])]

    def write(fh: Any) -> None:
        for lo in range(0, arr.size, _LINES_PER_BLOCK):
            fh.write(b"".join([lines[i] for i in np.searchsorted(ids, arr[lo : lo + _LINES_PER_BLOCK]).tolist()]))

    return atomic_write_with(path, write)


def save_label_array(path: PathLike, labels: Any) -> Path:
    """Save frame labels as a 1-D ``int64`` ``.npy`` array, atomically."""
    arr = _as_int_array(to_numpy(labels), path)
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return atomic_write_bytes(path, buf.getvalue())


def write_json(path: PathLike, obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as JSON (UTF-8, trailing newline), atomically; NaN/inf are refused."""
    return atomic_write_bytes(path, (json.dumps(obj, indent=indent, allow_nan=False) + "\n").encode("utf-8"))
