"""Raw video in: decode and sample frames (:mod:`.decode`), embed them with a pretrained image
backbone (:mod:`.backbone`), write a dataset in the standard layout (:mod:`.extract`), and
segment a collection of videos end to end (:mod:`.pipeline`); :mod:`.synthetic` encodes test
videos of known scenes.

The decoder (``av``) and the model library (``transformers``) are optional dependencies
(``pip install 'asot[video]'``), imported only when a video is decoded or a backbone built;
the names below are resolved on first access (PEP 562), so ``import asot.video`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_SOURCES: dict[str, str] = {
    **{name: "asot.video.defaults" for name in ("BACKBONES", "DEFAULT_BACKBONE", "DEFAULT_FPS", "DEFAULT_IMAGE_SIZE", "VIDEO_EXTENSIONS")},
    **{name: "asot.video.decode" for name in ("VideoDecodeError", "VideoInfo", "find_videos", "iter_sampled_frames", "probe_video")},
    **{name: "asot.video.backbone" for name in ("BackboneError", "FrameEncoder", "load_backbone", "parse_backbone")},
    **{name: "asot.video.extract" for name in ("ExtractionReport", "FeatureConfig", "FeatureExtractionError", "extract_features",
                                               "read_sidecar")},
    **{name: "asot.video.synthetic" for name in ("SceneVideo", "write_scene_video")},
}  # fmt: skip

__all__ = sorted(_SOURCES)


def __getattr__(name: str) -> Any:
    if name not in _SOURCES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_SOURCES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
