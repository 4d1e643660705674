"""Output safety: a command never overwrites its own inputs, nor (without ``overwrite``) a file
that it did not write in this run; "already done" means complete, not merely present.

* :func:`check_targets` -- before any work: every output path that exists is refused if it is
  one of the command's inputs (always, even with ``overwrite``: the same file, through any
  path or link), or if ``overwrite`` is not set.
* :func:`check_outside` -- an output folder must not be (inside) a protected folder, e.g. the
  dataset's ``groundTruth/``.
* :func:`label_file_complete`, :func:`npy_complete`, :func:`png_complete` -- whether an
  existing output is whole (what ``--skip-existing`` may keep).

Errors are :class:`OutputConflict` (a ``ValueError`` and a usage error: the command line asks
for it) naming the file and the way out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

__all__ = ["OutputConflict", "check_outside", "check_targets", "file_ids", "label_file_complete", "npy_complete", "png_complete"]

_PNG_END = b"IEND\xaeB`\x82"
_MAX_LISTED = 3


class OutputConflict(ValueError):
    """An output would replace an input or a file the command did not write (usage error)."""

    usage = True


def file_ids(paths: Iterable[str | os.PathLike[str]]) -> set[tuple[int, int]]:
    """``(device, inode)`` of each existing file: the identity of a file whatever path or link
    leads to it."""
    ids = set()
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            continue
        ids.add((st.st_dev, st.st_ino))
    return ids


def _listing(paths: list[Path]) -> str:
    shown = ", ".join(str(p) for p in paths[:_MAX_LISTED])
    return shown + (f" and {len(paths) - _MAX_LISTED} more" if len(paths) > _MAX_LISTED else "")


def check_targets(targets: Iterable[Path], *, inputs: set[tuple[int, int]] | Iterable[str | os.PathLike[str]] = (),
                  overwrite: bool = False, flag: str = "--overwrite") -> None:  # fmt: skip
    """Refuse outputs that exist: inputs always, any other file unless ``overwrite``.

    Args:
        targets: the paths the command is about to write.
        inputs: the command's input files (paths, or :func:`file_ids` of them).
        overwrite: replacing existing files that are not inputs is allowed.
        flag: what the message tells the user to pass to allow it.
    """
    input_ids = inputs if isinstance(inputs, set) else file_ids(inputs)
    clobbered: list[Path] = []
    existing: list[Path] = []
    for target in targets:
        target = Path(target)
        if not os.path.lexists(target):
            continue
        try:
            st = os.stat(target)
        except OSError:  # a dangling link: writing replaces the link itself
            existing.append(target)
            continue
        if (st.st_dev, st.st_ino) in input_ids:
            clobbered.append(target)
        else:
            existing.append(target)
    if clobbered:
        raise OutputConflict(f"{_listing(clobbered)}: the output would overwrite an input file of this command; "
                             "choose another output folder")  # fmt: skip
    if existing and not overwrite:
        n = len(existing)
        raise OutputConflict(f"{_listing(existing)}: {'the output exists' if n == 1 else f'{n} outputs exist'} and would be "
                             f"overwritten; pass {flag} to replace {'it' if n == 1 else 'them'}, or choose another output folder")  # fmt: skip


def check_outside(folder: Path, protected: Mapping[str, Path]) -> None:
    """``folder`` must not be one of ``protected`` (``{description: path}``) or inside it."""
    try:
        here = Path(folder).resolve()
    except OSError:
        return
    for what, path in protected.items():
        try:
            guarded = Path(path).resolve()
        except OSError:
            continue
        if here == guarded or guarded in here.parents:
            raise OutputConflict(f"{folder}: the output folder is {what} ({path}); its files would be replaced; "
                                 "choose another output folder")  # fmt: skip


def label_file_complete(path: Path, n_frames: int) -> bool:
    """Whether ``path`` is a whole groundTruth-format file for ``n_frames`` frames: exactly that
    many non-blank lines, ending in a newline (as asot writes them)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return False
    if not data.endswith(b"\n"):
        return False
    lines = data.split(b"\n")[:-1]
    return len(lines) == n_frames and all(line.strip() for line in lines)


def npy_complete(path: Path, shape: tuple[int, ...]) -> bool:
    """Whether ``path`` is a readable ``.npy`` array of ``shape`` with all its data."""
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return False
    return tuple(arr.shape) == tuple(shape)


def png_complete(path: Path) -> bool:
    """Whether ``path`` is a PNG file that ends with its end chunk."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            fh.seek(0, os.SEEK_END)
            if fh.tell() < 16:
                return False
            fh.seek(-8, os.SEEK_END)
            tail = fh.read(8)
    except OSError:
        return False
    return head == b"\x89PNG\r\n\x1a\n" and tail == _PNG_END
