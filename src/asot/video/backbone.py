r"""Pretrained image backbones that embed video frames (one vector per frame).

Models come from Hugging Face ``transformers`` (pure-PyTorch vision models: ResNet, DINOv2,
ViT, CLIP's image tower, ...); their weights live in the Hugging Face cache
(``~/.cache/huggingface``, ``HF_HOME``), downloaded on first use. ``transformers`` is imported
on first use only.

A frame batch ``x`` (``(n, H, W, 3)`` uint8 RGB, already resized) is embedded as
:math:`f(\,(x / 255 - \mu) / \sigma\,)` with the model's normalisation :math:`\mu, \sigma`
(ImageNet's unless the model's preprocessor config says otherwise) and :math:`f` the model's
pooled output: ``pooler_output`` (ResNet: global average pool; DINOv2 / ViT: the normalised
class token), else the mean of the last hidden states, flattened to ``(n, D)`` float32.

``random:<arch>`` builds the same architecture with random weights (seeded), through the same
code path; it needs no download for the short names in :data:`BACKBONES`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn

from asot.video.defaults import BACKBONES, DEFAULT_BACKBONE, RANDOM_PREFIX

__all__ = ["BackboneError", "BackboneSpec", "FrameEncoder", "load_backbone", "parse_backbone"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class BackboneError(ValueError):
    """A backbone that cannot be built: ``usage`` is True for a bad name (the command line is
    wrong), False for weights that are neither cached nor downloadable."""

    def __init__(self, message: str, *, usage: bool = True):
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class BackboneSpec:
    """A parsed ``--backbone`` value."""

    name: str  # as given, e.g. "dinov2-small", "random:resnet18", "facebook/dinov2-base"
    model_id: str  # Hugging Face model id
    pretrained: bool

    @property
    def arch(self) -> str:
        return self.name[len(RANDOM_PREFIX):] if not self.pretrained else self.name


def parse_backbone(name: str) -> BackboneSpec:
    """``NAME`` (a short name of :data:`BACKBONES` or a Hugging Face model id) or
    ``random:NAME``."""
    if not isinstance(name, str) or not name.strip():
        raise BackboneError(f"backbone must be a name such as {DEFAULT_BACKBONE!r} or 'random:resnet18', got {name!r}")
    name = name.strip()
    pretrained = not name.startswith(RANDOM_PREFIX)
    arch = name if pretrained else name[len(RANDOM_PREFIX):]
    if not arch:
        raise BackboneError(f"backbone {name!r}: expected random:<arch>, e.g. random:resnet18")
    model_id = BACKBONES[arch][0] if arch in BACKBONES else arch
    if arch not in BACKBONES and "/" not in arch:
        raise BackboneError(f"unknown backbone {arch!r}: use one of {', '.join(BACKBONES)} or a Hugging Face model id (owner/name)")
    return BackboneSpec(name=name, model_id=model_id, pretrained=pretrained)


class FrameEncoder(nn.Module):
    """uint8 RGB frames ``(n, H, W, 3)`` -> embeddings ``(n, D)`` float32 (see module docstring)."""

    def __init__(self, model: nn.Module, spec: BackboneSpec, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.model = model.eval()
        self.spec = spec
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be (n, H, W, 3) RGB, got shape {tuple(frames.shape)}")
        x = frames.permute(0, 3, 1, 2).to(self.mean.dtype) / 255.0
        x = (x - self.mean) / self.std
        if hasattr(self.model, "get_image_features"):  # two-tower models (CLIP, SigLIP): the image tower
            out = self.model.get_image_features(pixel_values=x)
        else:
            out = self.model(pixel_values=x)
        if not isinstance(out, torch.Tensor):
            pooled = getattr(out, "pooler_output", None)
            if pooled is None:
                hidden = out.last_hidden_state
                pooled = hidden.mean(dim=1) if hidden.ndim == 3 else hidden.mean(dim=(2, 3))
            out = pooled
        return out.flatten(1).float()


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def _unreachable_hub() -> str | None:
    """Why the Hugging Face hub cannot be reached (a 3 s connection probe), or None.

    Saves the hub client's retries (tens of seconds) on a machine without network; skipped
    behind a proxy, where a direct connection says nothing."""
    import socket
    from urllib.parse import urlsplit

    if any(os.environ.get(k) for k in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None
    url = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as err:
        return f"{host} unreachable: {err.strerror or err}"
    return None


def _fetch_hint(spec: BackboneSpec) -> str:
    return (f"fetch it on a machine with network access: python -c \"from transformers import AutoModel; "
            f"AutoModel.from_pretrained('{spec.model_id}')\" (then copy ~/.cache/huggingface), "
            f"or use --backbone random:{spec.arch} for random weights")  # fmt: skip


def _normalisation(model_id: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The model's image mean/std from its cached preprocessor config, else ImageNet's."""
    import json

    from huggingface_hub import try_to_load_from_cache

    try:
        path = try_to_load_from_cache(model_id, "preprocessor_config.json")
        if isinstance(path, str):
            with open(path, encoding="utf-8") as fh:
                cfg = json.load(fh)
            mean, std = cfg.get("image_mean"), cfg.get("image_std")
            if isinstance(mean, list) and isinstance(std, list) and len(mean) == len(std) == 3:
                return tuple(float(v) for v in mean), tuple(float(v) for v in std)
    except (OSError, ValueError):
        pass
    return IMAGENET_MEAN, IMAGENET_STD


def _pretrained(spec: BackboneSpec) -> nn.Module:
    from transformers import AutoModel

    try:
        return AutoModel.from_pretrained(spec.model_id, local_files_only=True)
    except OSError:
        pass  # not cached: download below (into the library's own cache)
    if _offline():
        raise BackboneError(f"backbone {spec.name!r} ({spec.model_id}) is not in the Hugging Face cache and HF_HUB_OFFLINE is set; "
                            + _fetch_hint(spec), usage=False)  # fmt: skip
    unreachable = _unreachable_hub()
    if unreachable:
        raise BackboneError(f"backbone {spec.name!r} ({spec.model_id}) is not in the Hugging Face cache and cannot be downloaded "
                            f"({unreachable}); " + _fetch_hint(spec), usage=False)  # fmt: skip
    try:
        return AutoModel.from_pretrained(spec.model_id)
    except OSError as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise BackboneError(f"backbone {spec.name!r} ({spec.model_id}) is not cached and could not be downloaded ({reason}); "
                            + _fetch_hint(spec), usage=False) from None  # fmt: skip


def _random(spec: BackboneSpec, seed: int) -> nn.Module:
    import transformers
    from transformers import AutoConfig, AutoModel

    if spec.arch in BACKBONES:
        _, config_class, fields = BACKBONES[spec.arch]
        config = getattr(transformers, config_class)(**fields)
    else:
        try:
            config = AutoConfig.from_pretrained(spec.model_id, local_files_only=True)
        except OSError:
            raise BackboneError(f"backbone {spec.name!r}: the architecture of {spec.model_id} is not cached; use a short name "
                                f"({', '.join(BACKBONES)}) or cache the model's config first", usage=False) from None  # fmt: skip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return AutoModel.from_config(config)


def load_backbone(name: str, *, seed: int = 0) -> FrameEncoder:
    """The frame encoder for ``name`` (see :func:`parse_backbone`), on the CPU, in eval mode.

    Pretrained weights are read from the Hugging Face cache, and downloaded into it when
    missing; offline and not cached is a one-line :class:`BackboneError` saying how to fetch
    them. ``random:<arch>`` initialises the architecture from ``seed``.
    """
    spec = parse_backbone(name)
    try:
        import transformers  # noqa: F401
    except ImportError:
        raise BackboneError("frame embedding needs the 'transformers' package: pip install 'asot[video]'", usage=False) from None
    model = _pretrained(spec) if spec.pretrained else _random(spec, seed)
    mean, std = _normalisation(spec.model_id) if spec.pretrained else (IMAGENET_MEAN, IMAGENET_STD)
    return FrameEncoder(model, spec, mean, std).eval()
