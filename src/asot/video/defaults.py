"""Defaults of the video commands, importable without torch or the video libraries (``--help``).

* :data:`DEFAULT_FPS` -- actions in procedural, lab or sports recordings last seconds, so 5 frames
  per second time segment boundaries to 0.2 s while embedding a third of the frames that the
  15 fps of the benchmark datasets' features would need;
* :data:`DEFAULT_BACKBONE` -- DINOv2 ViT-S/14: self-supervised features that transfer to unseen
  domains without fine-tuning, 22 M parameters (usable on a CPU), 384-d;
* :data:`BACKBONES` -- short backbone names: Hugging Face model id, config class and the config
  fields of that architecture (so ``random:<name>`` needs no download).
"""

from __future__ import annotations

from typing import Any

__all__ = ["BACKBONES", "DECODER", "DEFAULT_BACKBONE", "DEFAULT_FPS", "DEFAULT_IMAGE_SIZE", "RANDOM_PREFIX", "VIDEO_EXTENSIONS"]

DEFAULT_FPS = 5.0
DEFAULT_IMAGE_SIZE = 224
DEFAULT_BACKBONE = "dinov2-small"
RANDOM_PREFIX = "random:"
#: file name endings recognised as videos when a folder is given
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
#: the decoder recorded in the feature sidecars
DECODER = "pyav"
BACKBONES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "resnet18": ("microsoft/resnet-18", "ResNetConfig",
                 dict(embedding_size=64, hidden_sizes=[64, 128, 256, 512], depths=[2, 2, 2, 2], layer_type="basic")),
    "resnet50": ("microsoft/resnet-50", "ResNetConfig",
                 dict(embedding_size=64, hidden_sizes=[256, 512, 1024, 2048], depths=[3, 4, 6, 3], layer_type="bottleneck")),
    "dinov2-small": ("facebook/dinov2-small", "Dinov2Config",
                     dict(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, patch_size=14, image_size=518)),
    "dinov2-base": ("facebook/dinov2-base", "Dinov2Config",
                    dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, patch_size=14, image_size=518)),
}  # fmt: skip
