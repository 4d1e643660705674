"""Raw video in: decode and sample frames (:mod:`.decode`), embed them with a pretrained image
backbone (:mod:`.backbone`), write a dataset in the standard layout (:mod:`.extract`), and
segment a collection of videos end to end (:mod:`.pipeline`).

The decoder (``av``) and the model library (``transformers``) are optional dependencies
(``pip install 'asot[video]'``), imported only when a video is decoded or a backbone built.
"""

from asot.video.backbone import BACKBONES, DEFAULT_BACKBONE, BackboneError, load_backbone, parse_backbone
from asot.video.decode import DEFAULT_FPS, VIDEO_EXTENSIONS, VideoDecodeError, find_videos, iter_sampled_frames, probe_video
from asot.video.extract import ExtractionReport, FeatureConfig, FeatureExtractionError, extract_features, read_sidecar

__all__ = [
    "BACKBONES",
    "DEFAULT_BACKBONE",
    "DEFAULT_FPS",
    "VIDEO_EXTENSIONS",
    "BackboneError",
    "ExtractionReport",
    "FeatureConfig",
    "FeatureExtractionError",
    "VideoDecodeError",
    "extract_features",
    "find_videos",
    "iter_sampled_frames",
    "load_backbone",
    "parse_backbone",
    "probe_video",
    "read_sidecar",
]
