"""Reading ``.npy`` files with errors that say what is wrong with the file.

NumPy reads a file without the ``.npy`` header as a pickle, so random bytes are reported as
"pickled data" (false, and a security hint where none applies). :func:`load_npy` checks the
header first: a file that is not ``.npy`` at all, an empty file, an object (pickled) array and a
truncated array each get their own message naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["NPY_MAGIC", "NpyFileError", "load_npy"]

#: the first bytes of every .npy file
NPY_MAGIC = b"\x93NUMPY"


class NpyFileError(ValueError):
    """A ``.npy`` file that cannot be read; ``reason`` is the message without the path."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


def load_npy(path: str | os.PathLike[str], *, mmap_mode: Any = None) -> np.ndarray:
    """``np.load(path, allow_pickle=False)`` with one-line :class:`NpyFileError` messages naming
    ``path`` (a missing file stays :class:`FileNotFoundError`)."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(len(NPY_MAGIC))
    if not head:
        raise NpyFileError(path, "empty file (0 bytes), expected a .npy array")
    if head != NPY_MAGIC:
        raise NpyFileError(path, f"not a .npy file (no NumPy header: it starts with {head!r}); "
                                 "expected an array saved with numpy.save")  # fmt: skip
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except ValueError as err:
        if "pickle" in str(err).lower() or "object arrays" in str(err).lower():
            raise NpyFileError(path, "holds an object (pickled) array, which is not loaded for safety; "
                               "save a numeric array instead") from None  # fmt: skip
        raise NpyFileError(path, f"truncated or damaged .npy file ({' '.join(str(err).split())})") from None
    except (EOFError, OSError) as err:
        raise NpyFileError(path, f"truncated or damaged .npy file ({err or 'no data after the header'})") from None
