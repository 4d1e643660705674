"""LightningDataModule over the dataset reader (spec section 4 sampling).

* train: ``n_frames`` per video, one uniformly at random inside each of ``n_frames`` equal
  bins, new frames every epoch; videos shuffled by a seeded, epoch-dependent permutation
  (:class:`EpochSampler`, so a resumed run sees exactly the batches of an uninterrupted one);
* val: ``n_frames`` evenly spaced frames per video;
* test / predict / k-means init: every frame of every video, one video per batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Iterable

import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, Sampler

from asot.data.dataset import Video, load_dataset
from asot.data.sampling import FrameDataset, collate_videos

__all__ = ["ASOTDataModule", "EpochSampler"]


class EpochSampler(Sampler[int]):
    """Seeded per-epoch permutation (or identity); ``set_epoch`` also reaches the dataset.

    Lightning calls ``set_epoch`` on the sampler before every training epoch, so the frames
    drawn by :class:`~asot.data.sampling.FrameDataset` depend only on ``(seed, epoch)``.
    """

    def __init__(self, dataset: FrameDataset, *, shuffle: bool = True, seed: int = 0) -> None:
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        self.dataset.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self) -> Iterator[int]:
        if not self.shuffle:
            return iter(range(len(self.dataset)))
        gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(len(self.dataset), generator=gen).tolist())


class ASOTDataModule(LightningDataModule):
    """Data of one training run (typically one activity).

    Args:
        videos: :class:`~asot.data.Video` records (train = val = test: the unsupervised protocol).
        n_frames: frames per video for train / val (256 in the paper).
        batch_size: videos per training / validation batch.
        seed: seed of the train-mode frame sampling and shuffling.
        num_workers: DataLoader workers (0: load in the main process).
    """

    def __init__(self, videos: Sequence[Video], *, n_frames: int = 256, batch_size: int = 2, seed: int = 0, num_workers: int = 0) -> None:
        super().__init__()
        self.videos = list(videos)
        if not self.videos:
            raise ValueError("ASOTDataModule: no videos")
        self.n_frames = int(n_frames)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.num_workers = int(num_workers)
        #: measured whole-video structure radii, one per video (set by the model at fit start
        #: with ``radius="auto"``); training and validation clips carry them
        self.video_radii: list[float] | None = None

    @classmethod
    def from_folder(
        cls, root: str | Path, dataset: str, *, activities: str | Iterable[str] | None = None, standardise: bool = False, **kwargs
    ) -> "ASOTDataModule":
        """Read ``ROOT/<dataset>`` with :func:`asot.data.load_dataset`."""
        return cls(load_dataset(root, dataset, activities=activities, standardise=standardise), **kwargs)

    @property
    def dim(self) -> int:
        return self.videos[0].dim

    def _loader(self, mode: str, batch_size: int, sampler: Sampler | None = None) -> DataLoader:
        radii = self.video_radii if mode in ("train", "val") else None  # test: whole videos, measured there
        ds = FrameDataset(self.videos, mode=mode, n_frames=self.n_frames, seed=self.seed, radii=radii)
        if mode == "train":
            sampler = EpochSampler(ds, shuffle=True, seed=self.seed)
        return DataLoader(
            ds, batch_size=batch_size, sampler=sampler, shuffle=False, collate_fn=collate_videos,
            num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", self.batch_size)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", self.batch_size)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", 1)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", 1)

    def init_dataloader(self) -> DataLoader:
        """All training frames, for the k-means initialisation of the action embeddings."""
        return self._loader("test", 1)
