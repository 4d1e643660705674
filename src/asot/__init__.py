"""asot: temporally consistent action segmentation with optimal transport.

Implements ASOT (Xu & Gould, CVPR 2024); the public API follows section 7 of its specification:

* solver: :class:`SolverConfig`, :func:`solve`, :class:`ASOTSolver`, :class:`ASOTResult`,
  :func:`temporal_prior`, :func:`structure_product`;
* evaluation: :mod:`asot.metrics` (Hungarian matching, MoF / F1 / mIoU, edit, F1@k);
* post-processing: :func:`segment_videos`, baseline decoders (:func:`get_decoder`);
* learning: :func:`train` (with :class:`RunOptions` / :class:`TrainerOptions`), :func:`predict`,
  :class:`ASOTModule`, :class:`ASOTDataModule`;
* data: :func:`load_dataset`, :func:`generate_dataset`, presets (:func:`get_preset`).
"""

from __future__ import annotations

import importlib
from typing import Any

#: where each public name is defined; ``import asot`` loads none of them (torch, Lightning, numba
#: and scipy take seconds to import): a name is imported on first access (PEP 562)
_SOURCES: dict[str, str] = {
    # solver
    "SolverConfig": "asot.ot.config",
    "ASOTProblem": "asot.ot.problem",
    "ASOTResult": "asot.ot.solver",
    "ASOTSolver": "asot.ot.solver",
    "solve": "asot.ot.solver",
    "structure_product": "asot.ot.structure",
    "temporal_prior": "asot.ot.structure",
    # metrics
    **{name: "asot.metrics" for name in (
        "mof", "miou", "segment_f1", "f1_legacy_sampled", "frame_accuracy", "edit_score", "f1_at_overlap",
        "hungarian_match", "segmentation_report", "SegmentationMetrics")},
    # unsupervised learning pipeline
    "ASOTModule": "asot.models",
    "MLPEncoder": "asot.models",
    "ASOTDataModule": "asot.training",
    "PipelineError": "asot.training",
    "train": "asot.training",
    "predict": "asot.training",
    "RunOptions": "asot.training.options",
    "TrainerOptions": "asot.training.options",
    # post-processing and baseline decoders
    "segment_videos": "asot.postprocess",
    "compare_decoders": "asot.postprocess",
    "to_cost": "asot.scores",
    **{name: "asot.decoders" for name in (
        "decode", "get_decoder", "DECODERS", "Decoder", "Decoded", "ASOTDecoder", "ArgmaxDecoder", "SinkhornDecoder",
        "ViterbiDecoder", "MedianDecoder")},
    # data and presets
    **{name: "asot.data" for name in (
        "load_dataset", "Video", "VideoCollection", "DatasetError", "FrameDataset", "collate_videos", "Batch",
        "SyntheticConfig", "generate_dataset", "DEMO", "TINY")},
    "Preset": "asot.presets",
    "get_preset": "asot.presets",
    "preset_names": "asot.presets",
}

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
    "RunOptions",
    "TrainerOptions",
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



def __getattr__(name: str) -> Any:
    """``asot.<name>``: the public name from its module, or the submodule ``asot.<name>``."""
    if name == "metrics" or name not in _SOURCES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise  # the submodule exists but one of its imports is missing
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        return module  # the import system has set it as an attribute of the package
    value = getattr(importlib.import_module(_SOURCES[name]), name)
    globals()[name] = value  # later accesses are plain attribute lookups
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
