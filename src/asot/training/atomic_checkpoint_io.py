"""The Lightning pieces of a run's checkpoints (imports Lightning; loaded only when training
starts, see :mod:`asot.training.checkpointing`): atomic checkpoint I/O, and a checkpoint
callback that survives the run folder's staging.

Module-level classes, so that distributed launchers can pickle the trainer.
"""

from __future__ import annotations

from typing import Any

import os

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.pytorch.callbacks import ModelCheckpoint

from asot.io.atomic import atomic_write_with
from asot.io.runfolder import NEW_NAME, SIDE_RUNS

__all__ = ["AtomicCheckpointIO", "RunCheckpoint", "published_dirpath"]


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` into a temporary file beside the checkpoint, then rename; a full disk is a
    :class:`~asot.io.atomic.DiskFullError` naming the folder and leaves no partial file."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO.save_checkpoint: storage_options is not supported")
        atomic_write_with(path, lambda fh: torch.save(checkpoint, fh))


class RunCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` that recognises its own folder after the run was built in
    ``RUN/.asot-new`` and swapped in, or after a side run (``RUN/.asot-order``,
    ``RUN/.asot-restarts/seed-<s>``) was moved into the run: the saved paths are moved with it,
    so that a resumed run still prunes the epoch checkpoints of before (Lightning drops that
    state when the folder name differs)."""

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        saved = state_dict.get("dirpath")
        if saved and self.dirpath and saved != self.dirpath:
            if os.path.normpath(published_dirpath(saved)) == os.path.normpath(self.dirpath):
                state_dict = _moved_state(state_dict, saved, self.dirpath)
        super().load_state_dict(state_dict)


def published_dirpath(path: str) -> str:
    """``path`` without the staging and side-run folders (``.asot-new``, ``.asot-order``,
    ``.asot-restarts/<restart>``): where a checkpoint folder written there lives once moved into
    the run folder."""
    restarts, order = SIDE_RUNS
    parts: list[str] = []
    skip_next = False
    for part in path.split(os.sep):
        if skip_next:
            skip_next = False
        elif part == restarts:
            skip_next = True  # and the restart's own folder
        elif part not in (NEW_NAME, order):
            parts.append(part)
    return os.sep.join(parts)


def _moved_state(state: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    def move(path: Any) -> Any:
        return new + path[len(old):] if isinstance(path, str) and path.startswith(old) else path

    out = dict(state, dirpath=new)
    for key in ("best_model_path", "kth_best_model_path", "last_model_path"):
        if key in out:
            out[key] = move(out[key])
    if isinstance(out.get("best_k_models"), dict):
        out["best_k_models"] = {move(k): v for k, v in out["best_k_models"].items()}
    return out
