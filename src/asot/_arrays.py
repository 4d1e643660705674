"""Array conversion: the one place that turns torch tensors (and array-likes) into numpy arrays.

It never imports torch: a tensor can only exist once torch has been imported, so the check looks
torch up in ``sys.modules`` and modules that do not need torch stay light to import.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = ["is_tensor", "to_numpy"]


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (``False`` whenever torch has not been imported)."""
    torch = sys.modules.get("torch")
    return torch is not None and torch.is_tensor(x)


def to_numpy(x: Any, dtype: Any = None) -> np.ndarray:
    """``x`` as a numpy array: a tensor is detached and brought to the CPU first (no copy for a
    CPU tensor that needs none); anything else goes through ``np.asarray(x, dtype)``."""
    if is_tensor(x):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)
