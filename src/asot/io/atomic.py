"""Atomic file writes, and write errors that name the place.

A file written here is first written in full to a temporary file beside it (same folder, so
the same file system), flushed to disk, and then renamed over the destination with
:func:`os.replace`, which is atomic on POSIX and Windows: a reader sees the old file or the
new one, never a half-written one. If anything fails (a full disk, an interrupt), the temporary
file is removed and the destination is left as it was.

Write errors always carry the path: an :class:`OSError` raised without a file name gets the
destination as its ``filename``, and a full disk (``ENOSPC``) becomes :class:`DiskFullError`
naming the folder, so a command can print one line like
``runs/a: no space left on device``.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["DiskFullError", "atomic_write", "atomic_write_bytes", "atomic_write_text", "atomic_write_with", "is_disk_full", "naming_path"]

PathLike = str | os.PathLike


class DiskFullError(OSError):
    """No space left on the device of ``filename`` (a folder); nothing half-written was left."""

    def __init__(self, folder: PathLike) -> None:
        super().__init__(errno.ENOSPC, "no space left on device (nothing half-written was left; free space and rerun)", str(folder))


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) is an out-of-space error."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1
    return False


def naming_path(exc: OSError, path: PathLike) -> OSError:
    """``exc`` as an error that names ``path``: a full disk becomes :class:`DiskFullError` for
    ``path``'s folder; an error without a file name gets ``path`` as its file name."""
    if isinstance(exc, DiskFullError):
        return exc
    if is_disk_full(exc):
        folder = Path(path) if Path(path).is_dir() else Path(path).parent
        return DiskFullError(folder)
    if exc.filename is None:
        named = OSError(exc.errno, exc.strerror or str(exc), str(path))
        return named
    return exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_destination(path: Path) -> None:
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; expected a file path", str(path))
    for parent in path.parents:  # an existing file where a folder must be
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "is a file; expected a folder", str(parent))
            break


@contextmanager
def atomic_write(path: PathLike) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for binary writing; on a clean exit it is synced
    and renamed to ``path``; on any error (or interrupt) it is removed and ``path`` is unchanged.

    Errors are re-raised naming ``path`` (see :func:`naming_path`). The parent folder is created.
    """
    path = Path(path)
    _check_destination(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise naming_path(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise naming_path(exc, path) from None
        raise


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`). Returns the path."""
    with atomic_write(path) as fh:
        fh.write(data)
    return Path(path)


def atomic_write_text(path: PathLike, text: str) -> Path:
    """:func:`atomic_write_bytes` of UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_with(path: PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """``write(fh)`` into :func:`atomic_write` (e.g. ``lambda fh: torch.save(obj, fh)``)."""
    with atomic_write(path) as fh:
        write(fh)
    return Path(path)

