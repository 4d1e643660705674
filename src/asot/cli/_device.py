"""``--device`` for the commands that train: one flag on every command that computes.

Commands that run the solver or a model take a torch device (``cpu``, ``cuda``, ``cuda:1``).
Training goes through Lightning, which names the same thing with two settings, an accelerator
and a device selection; :func:`trainer_devices` maps one onto the other::

    --device cpu              -> accelerator "cpu",  devices 1
    --device cuda             -> accelerator "cuda", devices 1      (--devices 2: two GPUs)
    --device cuda:1           -> accelerator "cuda", devices [1]    (that GPU only)
    --device gpu / auto / mps -> Lightning's accelerator of that name

(``--accelerator`` is accepted as an alias of ``--device``.)
"""

from __future__ import annotations

from typing import Any

import typer

__all__ = ["DEVICE_HELP", "TRAIN_DEVICE_HELP", "DEVICES_HELP", "parse_devices", "trainer_devices"]

DEVICE_HELP = "torch device: cpu, cuda, cuda:1, ... (default: cpu)"
TRAIN_DEVICE_HELP = "device to train on: cpu, cuda, cuda:1, or a Lightning accelerator (gpu, mps, auto)"
DEVICES_HELP = "how many devices (or 'auto', or ids such as '0,1') to train on; several run data-parallel (default: 1)"


def parse_devices(value: str) -> Any:
    """``"2"`` -> 2, ``"auto"`` -> ``"auto"``, ``"0,1"`` -> ``"0,1"`` (Lightning's own forms)."""
    value = value.strip()
    return int(value) if value.isdigit() else value


def trainer_devices(device: str, devices: str | None) -> tuple[str, Any]:
    """Lightning's ``(accelerator, devices)`` for ``--device`` and ``--devices``.

    Raises:
        typer.BadParameter: ``cuda:<index>`` with a non-integer index, or an index together
            with ``--devices`` (the two would both choose the devices).
    """
    name, sep, index = device.strip().partition(":")
    accelerator = name.lower()
    if not sep:
        return accelerator, parse_devices(devices if devices is not None else "1")
    if not index.isdigit():
        raise typer.BadParameter(f"expected e.g. 'cuda' or 'cuda:1', got {device!r}", param_hint="--device")
    if devices is not None:
        raise typer.BadParameter(f"{device!r} names one device; give --device {name} with --devices {devices}",
                                 param_hint="--device")
    return accelerator, [int(index)]
