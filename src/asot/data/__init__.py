"""Data: the standard dataset layout (spec section 6), frame sampling (spec section 4) and the
built-in synthetic benchmark generator."""

from asot.data.dataset import (
    DATASET_KINDS,
    DatasetError,
    Video,
    VideoCollection,
    dataset_kind,
    load_dataset,
    parse_activity,
    read_features,
    read_ground_truth,
    read_mapping,
    standardise_features,
)
from asot.data.sampling import IGNORE_INDEX, Batch, FrameDataset, FrameSample, collate_videos, sample_frames
from asot.data.synthetic import DEMO, TINY, SyntheticConfig, generate_dataset, load_prototypes

__all__ = [
    "DATASET_KINDS",
    "DEMO",
    "IGNORE_INDEX",
    "TINY",
    "Batch",
    "DatasetError",
    "FrameDataset",
    "FrameSample",
    "SyntheticConfig",
    "Video",
    "VideoCollection",
    "collate_videos",
    "dataset_kind",
    "generate_dataset",
    "load_dataset",
    "load_prototypes",
    "parse_activity",
    "read_features",
    "read_ground_truth",
    "read_mapping",
    "sample_frames",
    "standardise_features",
]
