"""asot: temporally consistent action segmentation with optimal transport.

Implements ASOT (Xu & Gould, CVPR 2024). The method is specified in ``../shared/spec/ASOT.md``;
the public API follows its section 7:

* solver: :class:`SolverConfig`, :func:`solve`, :class:`ASOTSolver`, :class:`ASOTResult`,
  :func:`temporal_prior`, :func:`structure_product`;
* evaluation: :mod:`asot.metrics` (Hungarian matching, MoF / F1 / mIoU, edit, F1@k);
* post-processing: :func:`segment_videos`, baseline decoders (:func:`get_decoder`);
* learning: :func:`train`, :func:`predict`, :class:`ASOTModule`, :class:`ASOTDataModule`;
* data: :func:`load_dataset`, :func:`generate_dataset`, presets (:func:`get_preset`).
"""

from asot import metrics
from asot.config import SolverConfig
from asot.data import (
    DEMO,
    TINY,
    Batch,
    DatasetError,
    FrameDataset,
    SyntheticConfig,
    Video,
    VideoCollection,
    collate_videos,
    generate_dataset,
    load_dataset,
)
from asot.metrics import (
    SegmentationMetrics,
    edit_score,
    f1_at_overlap,
    f1_legacy_sampled,
    frame_accuracy,
    hungarian_match,
    miou,
    mof,
    segment_f1,
    segmentation_report,
)
from asot.decoders import (
    DECODERS,
    ArgmaxDecoder,
    ASOTDecoder,
    Decoded,
    Decoder,
    MedianDecoder,
    SinkhornDecoder,
    ViterbiDecoder,
    decode,
    get_decoder,
)
from asot.postprocess import compare_decoders, segment_videos
from asot.presets import Preset, get_preset, preset_names
from asot.scores import to_cost
from asot.problem import ASOTProblem
from asot.solver import ASOTResult, ASOTSolver, solve
from asot.structure import structure_product, temporal_prior

__all__ = [
    # solver
    "SolverConfig",
    "ASOTProblem",
    "ASOTResult",
    "ASOTSolver",
    "solve",
    "structure_product",
    "temporal_prior",
    # metrics
    "metrics",
    "mof",
    "miou",
    "segment_f1",
    "f1_legacy_sampled",
    "frame_accuracy",
    "edit_score",
    "f1_at_overlap",
    "hungarian_match",
    "segmentation_report",
    "SegmentationMetrics",
    # unsupervised learning pipeline
    "ASOTModule",
    "MLPEncoder",
    "ASOTDataModule",
    "PipelineError",
    "train",
    "predict",
    # post-processing and baseline decoders
    "segment_videos",
    "compare_decoders",
    "to_cost",
    "decode",
    "get_decoder",
    "DECODERS",
    "Decoder",
    "Decoded",
    "ASOTDecoder",
    "ArgmaxDecoder",
    "SinkhornDecoder",
    "ViterbiDecoder",
    "MedianDecoder",
    # data and presets
    "load_dataset",
    "Video",
    "VideoCollection",
    "DatasetError",
    "FrameDataset",
    "collate_videos",
    "Batch",
    "SyntheticConfig",
    "generate_dataset",
    "DEMO",
    "TINY",
    "Preset",
    "get_preset",
    "preset_names",
]
__version__ = "0.1.0"

# The learning pipeline pulls in Lightning (seconds to import): load it on first use only.
_LAZY = {
    "ASOTModule": "asot.models",
    "MLPEncoder": "asot.models",
    "ASOTDataModule": "asot.training",
    "PipelineError": "asot.training",
    "train": "asot.training",
    "predict": "asot.training",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'asot' has no attribute {name!r}")
