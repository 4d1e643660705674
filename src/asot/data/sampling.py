r"""Frame sampling and batching (spec section 4).

* ``train``: the video is cut into ``n`` equal bins and one frame is drawn uniformly at random
  inside each bin (sorted, so temporal order is kept);
* ``val``: ``n`` evenly spaced frames (deterministic);
* ``test``: every frame.

A video with at most ``n`` frames contributes all of its frames in every mode; the collate pads
it (``mask`` False). Randomness comes only from :class:`numpy.random.Generator` objects seeded
from ``(seed, epoch, index, draw)`` -- never the global numpy RNG -- so the frames drawn do not
depend on the number of DataLoader workers or on which worker loads which video.

Example::

    ds = FrameDataset(videos, mode="train", n_frames=256, seed=0)
    loader = DataLoader(ds, batch_size=2, shuffle=True, collate_fn=collate_videos)
    for epoch in range(epochs):
        ds.set_epoch(epoch)                      # new frames each epoch, in every worker
        for batch in loader:
            batch.features  # (B, N, D) float32, N = longest sample in the batch
            batch.mask      # (B, N) bool, True on real frames
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from asot.data.dataset import Video

__all__ = ["IGNORE_INDEX", "MODES", "Batch", "FrameDataset", "FrameSample", "collate_videos", "sample_frames"]

#: label value of padded frames and of frames without labels (``torch.nn.functional.cross_entropy`` default)
IGNORE_INDEX = -100
#: padding value of ``Batch.frame_indices``
PAD_FRAME = -1
MODES = ("train", "val", "test")


def sample_frames(n_total: int, n_samples: int | None, mode: str, rng: np.random.Generator | None = None) -> np.ndarray:
    """Indices of the frames one video contributes (spec section 4).

    Args:
        n_total: frames in the video (``>= 1``).
        n_samples: frames to take (``None``: all, as in ``test``).
        mode: ``"train"`` (one uniform frame per equal bin; needs ``rng``), ``"val"`` (evenly
            spaced, first and last frame included) or ``"test"`` (all frames).
        rng: generator for ``train``.

    Returns:
        ``(min(n_samples, n_total),)`` int64 indices, strictly increasing (all frames,
        ``arange(n_total)``, when ``n_total <= n_samples`` or in ``test`` mode).
    """
    if mode not in MODES:
        raise ValueError(f"sample_frames: mode must be one of {MODES}, got {mode!r}")
    if isinstance(n_total, bool) or not isinstance(n_total, (int, np.integer)) or n_total < 1:
        raise ValueError(f"sample_frames: expected n_total >= 1, got {n_total!r}")
    if n_samples is not None and (isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1):
        raise ValueError(f"sample_frames: expected n_samples >= 1 or None, got {n_samples!r}")
    if mode == "test" or n_samples is None or n_total <= n_samples:
        return np.arange(n_total, dtype=np.int64)
    if mode == "val":
        return np.round(np.linspace(0, n_total - 1, n_samples)).astype(np.int64)
    if rng is None:
        raise ValueError("sample_frames: mode 'train' needs a numpy Generator (rng)")
    # bin k covers [edges[k], edges[k+1]); every bin holds >= 1 frame since n_total > n_samples
    edges = (np.arange(n_samples + 1, dtype=np.int64) * n_total) // n_samples
    widths = np.diff(edges)
    return edges[:-1] + np.floor(rng.random(n_samples) * widths).astype(np.int64)


class FrameSample(NamedTuple):
    """One video's sampled frames, as returned by :class:`FrameDataset`.

    Attributes:
        features: ``(n, D)`` float32 tensor.
        labels: ``(n,)`` int64 tensor (``IGNORE_INDEX`` where the video has no labels).
        frame_indices: ``(n,)`` int64 tensor, positions of the frames in the full video.
        n_total: frames in the full video.
        name: video name.
        activity: video activity.
        radius: the whole video's structure radius ``r_b`` when one was measured for it
            (``radius="auto"``, :mod:`asot.ot.radius`), else NaN.
    """

    features: torch.Tensor
    labels: torch.Tensor
    frame_indices: torch.Tensor
    n_total: int
    name: str
    activity: str
    radius: float = float("nan")


class Batch(NamedTuple):
    """A padded batch from :func:`collate_videos`.

    Attributes:
        features: ``(B, N, D)`` float32, zero on padding; ``N`` is the longest sample.
        mask: ``(B, N)`` bool, True on real frames.
        labels: ``(B, N)`` int64 class ids, ``IGNORE_INDEX`` (-100) on padding / unlabelled videos.
        frame_indices: ``(B, N)`` int64 positions in the full videos, ``-1`` on padding.
        lengths: ``(B,)`` int64 sampled frames per video.
        n_total: ``(B,)`` int64 frames of the full videos.
        names: the ``B`` video names.
        activities: the ``B`` activities.
        radii: ``(B,)`` float64 whole-video structure radii ``r_b`` (NaN where none was measured).
    """

    features: torch.Tensor
    mask: torch.Tensor
    labels: torch.Tensor
    frame_indices: torch.Tensor
    lengths: torch.Tensor
    n_total: torch.Tensor
    names: list[str]
    activities: list[str]
    radii: torch.Tensor | None = None


class FrameDataset(Dataset):
    """A torch ``Dataset`` of videos that yields sampled frames (spec section 4).

    Args:
        videos: :class:`~asot.data.dataset.Video` records (e.g. a ``VideoCollection``).
        mode: ``"train"``, ``"val"`` or ``"test"`` (see :func:`sample_frames`).
        n_frames: frames per video in train/val (256 in the paper); ignored in test.
        seed: base seed of the train-mode sampling.
        radii: one measured whole-video structure radius per video (``None`` / NaN: none), carried
            by every sample of that video (``radius="auto"`` training clips).

    Item ``i`` in train mode draws from ``numpy.random.default_rng((seed, epoch, i, draw))``
    where ``epoch`` is set by :meth:`set_epoch` and ``draw`` counts this process's reads of item
    ``i`` since the last :meth:`set_epoch` (so repeated reads differ, and a run that calls
    ``set_epoch`` every epoch draws the same frames whatever the number of workers).
    """

    def __init__(self, videos: Sequence[Video], mode: str = "train", n_frames: int | None = 256, seed: int = 0,
                 radii: Sequence[float] | None = None) -> None:  # fmt: skip
        if mode not in MODES:
            raise ValueError(f"FrameDataset: mode must be one of {MODES}, got {mode!r}")
        if n_frames is not None and (isinstance(n_frames, bool) or not isinstance(n_frames, int) or n_frames < 1):
            raise ValueError(f"FrameDataset: expected n_frames >= 1 or None, got {n_frames!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"FrameDataset: expected a non-negative integer seed, got {seed!r}")
        self.videos = list(videos)
        if not self.videos:
            raise ValueError("FrameDataset: no videos")
        if radii is not None and len(radii) != len(self.videos):
            raise ValueError(f"FrameDataset: expected one radius per video ({len(self.videos)}), got {len(radii)}")
        self.radii = None if radii is None else [float(r) for r in radii]
        self.mode = mode
        self.n_frames = n_frames
        self.seed = int(seed)
        self.epoch = 0
        self._draws: dict[int, int] = {}

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch (new random frames in train mode); resets the per-item draw counters."""
        self.epoch = int(epoch)
        self._draws = {}

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> FrameSample:
        video = self.videos[index]
        rng = None
        if self.mode == "train":
            draw = self._draws.get(index, 0)
            self._draws[index] = draw + 1
            rng = np.random.default_rng((self.seed, self.epoch, int(index), draw))
        idx = sample_frames(video.n_frames, self.n_frames, self.mode, rng)
        feats = torch.from_numpy(np.ascontiguousarray(video.features[idx], dtype=np.float32))
        if video.labels is not None:
            labels = torch.from_numpy(np.asarray(video.labels[idx], dtype=np.int64))
        else:
            labels = torch.full((len(idx),), IGNORE_INDEX, dtype=torch.int64)
        radius = float("nan") if self.radii is None else self.radii[index]
        return FrameSample(feats, labels, torch.from_numpy(idx), video.n_frames, video.name, video.activity, radius)


def collate_videos(samples: Sequence[FrameSample]) -> Batch:
    """Pad a list of :class:`FrameSample` to the longest one.

    Returns:
        :class:`Batch` with ``features (B, N, D)``, ``mask (B, N)`` bool, ``labels (B, N)``
        (``IGNORE_INDEX`` on padding), ``frame_indices (B, N)`` (``-1`` on padding).
    """
    if len(samples) == 0:
        raise ValueError("collate_videos: empty batch")
    dims = {s.features.shape[1] for s in samples}
    if len(dims) != 1:
        raise ValueError(f"collate_videos: videos have different feature dims {sorted(dims)}")
    b, n, d = len(samples), max(s.features.shape[0] for s in samples), dims.pop()
    features = torch.zeros(b, n, d, dtype=torch.float32)
    mask = torch.zeros(b, n, dtype=torch.bool)
    labels = torch.full((b, n), IGNORE_INDEX, dtype=torch.int64)
    frames = torch.full((b, n), PAD_FRAME, dtype=torch.int64)
    for i, s in enumerate(samples):
        m = s.features.shape[0]
        features[i, :m] = s.features
        mask[i, :m] = True
        labels[i, :m] = s.labels
        frames[i, :m] = s.frame_indices
    return Batch(
        features=features,
        mask=mask,
        labels=labels,
        frame_indices=frames,
        lengths=mask.sum(dim=1),
        n_total=torch.tensor([s.n_total for s in samples], dtype=torch.int64),
        names=[s.name for s in samples],
        activities=[s.activity for s in samples],
        radii=torch.tensor([float(s.radius) for s in samples], dtype=torch.float64),
    )
