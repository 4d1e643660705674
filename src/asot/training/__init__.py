"""Training: the datamodule, the library pipeline (``train`` / ``predict``) and the demo."""

from asot.training.datamodule import ASOTDataModule, EpochSampler
from asot.training.options import RunOptions, TrainerOptions
from asot.training.pipeline import PipelineError, RunResult, fit_activity, kmeans_baseline, predict, train

__all__ = ["ASOTDataModule", "EpochSampler", "PipelineError", "RunOptions", "RunResult", "TrainerOptions", "fit_activity", "kmeans_baseline", "predict", "train"]
