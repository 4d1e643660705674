"""Lightning checkpoint I/O that writes every checkpoint atomically (imports Lightning; loaded
only when training starts, see :func:`asot.training.checkpointing.atomic_checkpoint_io`).

A module-level class, so that distributed launchers can pickle the trainer's strategy.
"""

from __future__ import annotations

from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from asot.io.atomic import atomic_write_with

__all__ = ["AtomicCheckpointIO"]


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` into a temporary file beside the checkpoint, then rename; a full disk is a
    :class:`~asot.io.atomic.DiskFullError` naming the folder and leaves no partial file."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO.save_checkpoint: storage_options is not supported")
        atomic_write_with(path, lambda fh: torch.save(checkpoint, fh))
