r"""The ASOT LightningModule (spec section 4): encoder + action embeddings trained with
stop-gradient ASOT pseudo-labels, evaluated with ASOT segmentation.

Per batch (features ``(B, N, D_in)``, mask ``(B, N)``)::

    X = f_theta(features)                  # (B, N, D), unit rows
    A = normalize(actions)                 # (K, D), unit rows (before every use)
    log P = log_softmax(X A^T / tau)
    T = ASOT(1 - X A^T + rho R)            # no gradient, the TRAIN solver config
    loss = mean over valid frames of -sum_j T_ij log P_ij

Validation / test segment with ASOT under the EVAL solver config (same cost ``1 - X A^T + rho R``)
and compute full and per-video MoF / F1 / mIoU with :mod:`asot.metrics`. The module logs only
through ``self.log`` (``train/loss``, ``val/mof`` ...); it makes no figures and writes no files.

The two solver settings are injected as two :class:`~asot.ot.config.SolverConfig` instances.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from lightning.pytorch import LightningModule
from torch import nn
from torch.nn import functional as F

from asot.ot.config import SolverConfig
from asot.data.sampling import IGNORE_INDEX
from asot.metrics.modular import MeanIoU, MoF, SegmentF1
from asot.models.encoder import MLPEncoder
from asot.models.kmeans import KMEANS_MAX_FRAMES  # noqa: F401 - kept importable here (its earlier home)
from asot.presets import Preset
from asot.ot.radius import DEFAULT_RADIUS, RadiusPolicy, is_recurring, measure_radius
from asot.ot.solver import solve
from asot.ot.structure import batched_temporal_prior
from asot.runs import min_run

__all__ = ["ASOTModule", "METRIC_NAMES"]

METRIC_NAMES = ("mof", "f1", "miou")


def _as_config(value: SolverConfig | Mapping[str, Any]) -> SolverConfig:
    if isinstance(value, SolverConfig):
        return value
    if isinstance(value, Mapping):
        return SolverConfig.from_dict(dict(value))
    raise TypeError(f"expected a SolverConfig or a dict of its fields, got {type(value).__name__}")


class _StageMetrics:
    """Full and per-video MoF / F1 / mIoU accumulators of one stage."""

    def __init__(self, exclude: Sequence[int]) -> None:
        self.metrics = {
            (protocol, name): cls(per_video=protocol == "per_video", exclude=exclude)
            for protocol in ("full", "per_video")
            for name, cls in zip(METRIC_NAMES, (MoF, SegmentF1, MeanIoU))
        }

    def reset(self) -> None:
        for m in self.metrics.values():
            m.reset()

    def update(self, pred: list[np.ndarray], gt: list[np.ndarray]) -> None:
        for m in self.metrics.values():
            m.update(pred, gt)

    def compute(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {"full": {}, "per_video": {}}
        for (protocol, name), m in self.metrics.items():
            out[protocol][name] = 100.0 * float(m.compute())
        return out


def _whole_videos(batches: Iterable[Any]) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``(features (1, N, D), mask (1, N))`` of every video in ``batches``, unpadded, in order."""
    for batch in batches:
        for i, n in enumerate(batch.mask.sum(dim=1).tolist()):
            yield batch.features[i : i + 1, :n], batch.mask[i : i + 1, :n]


class ASOTModule(LightningModule):
    """Encoder + action embeddings learned with ASOT pseudo-labels (Xu & Gould, CVPR 2024).

    Args:
        layer_sizes: MLP sizes ``(input, hidden, output)``.
        n_clusters: number of actions ``K`` (>= 1).
        train_solver: ASOT settings for the training pseudo-labels.
        eval_solver: ASOT settings for validation / test segmentation.
        rho: temporal-prior weight (``rho R`` added to the cost in training and evaluation).
        rho_auto: decide the prior after the k-means init from how often the actions recur in
            each training video (:meth:`measure_videos`): ``rho`` when they appear about once
            per video, 0 when they recur (:data:`asot.ot.radius.RECURRENCE_THRESHOLD`).
        prior_centred: ``R`` compares the centres of frames and equal parts
            (:func:`asot.temporal_prior`, ``centred=True``); ``False`` is the paper's prior.
        min_run_radii: :meth:`segment` leaves no run shorter than ``round(c r_b N_b)`` frames,
            ``c`` this factor and ``r_b`` the video's structure radius (0: the solver's labels).
        temperature: softmax temperature ``tau``.
        lr, weight_decay: Adam settings.
        kmeans_init: initialise the action embeddings by k-means on the encoder's outputs over
            the training frames at the start of fit (``False``: keep the random init, the
            "No k-means" ablation).
        exclude_labels: ground-truth ids left out of evaluation (YTI background).
        seed: seed of the action-embedding init and of k-means.

    The keyword defaults are :class:`asot.Preset`'s (the ``default`` preset; ``asot.defaults``).
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        n_clusters: int,
        train_solver: SolverConfig | Mapping[str, Any],
        eval_solver: SolverConfig | Mapping[str, Any],
        *,
        rho: float = Preset.rho,
        rho_auto: bool = Preset.rho_auto,
        prior_centred: bool = Preset.prior_centred,
        min_run_radii: float = Preset.min_run_radii,
        temperature: float = Preset.temperature,
        lr: float = Preset.lr,
        weight_decay: float = Preset.weight_decay,
        kmeans_init: bool = Preset.kmeans_init,
        exclude_labels: Sequence[int] = (),
        seed: int = 0,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1:
            raise ValueError(f"ASOTModule: expected n_clusters >= 1, got {n_clusters!r}")
        if not temperature > 0:
            raise ValueError(f"ASOTModule: expected temperature > 0, got {temperature!r}")
        if not rho >= 0:
            raise ValueError(f"ASOTModule: expected rho >= 0, got {rho!r}")
        if not min_run_radii >= 0:
            raise ValueError(f"ASOTModule: expected min_run_radii >= 0, got {min_run_radii!r}")
        self.train_solver = _as_config(train_solver)
        self.eval_solver = _as_config(eval_solver)
        # JSON-able hyperparameters (solver configs as dicts) so checkpoints load with weights_only
        self.save_hyperparameters(
            {
                "layer_sizes": [int(s) for s in layer_sizes],
                "n_clusters": int(n_clusters),
                "train_solver": self.train_solver.to_dict(),
                "eval_solver": self.eval_solver.to_dict(),
                "rho": float(rho),
                "rho_auto": bool(rho_auto),
                "prior_centred": bool(prior_centred),
                "min_run_radii": float(min_run_radii),
                "temperature": float(temperature),
                "lr": float(lr),
                "weight_decay": float(weight_decay),
                "kmeans_init": bool(kmeans_init),
                "exclude_labels": [int(e) for e in exclude_labels],
                "seed": int(seed),
                "extra": dict(extra or {}),
            }
        )
        self.encoder = MLPEncoder(layer_sizes)
        gen = torch.Generator().manual_seed(int(seed))
        self.actions = nn.Parameter(F.normalize(torch.randn(int(n_clusters), self.encoder.output_dim, generator=gen), dim=-1))
        # persisted so a resumed run does not re-initialise from k-means
        self.register_buffer("actions_initialised", torch.tensor(not kmeans_init))
        # rho actually used (``rho_auto``: decided at the start of fit, persisted for resume / predict)
        self.register_buffer("rho_used", torch.tensor(float(rho), dtype=torch.float64))
        self.register_buffer("recurring", torch.tensor(False))
        #: ``radius="auto"``: the whole-video radius of every training video (data module order),
        #: measured at the start of fit and handed to the data module; kept for resume
        self.training_radii: list[float] | None = None
        self._metrics = {stage: _StageMetrics(self.hparams.exclude_labels) for stage in ("val", "test")}
        self.last_metrics: dict[str, dict[str, dict[str, float]]] = {}
        self.last_test_predictions: dict[str, np.ndarray] = {}
        #: per-frame confidence of the test predictions (see :meth:`segment`)
        self.last_test_confidence: dict[str, np.ndarray] = {}
        self._seen: dict[str, bool] = {}

    # ------------------------------------------------------------------------------------
    # the model

    @property
    def prior_centred(self) -> bool:
        """Whether ``R`` compares centres (``False`` also for checkpoints written before the option)."""
        return bool(self.hparams.get("prior_centred", False))

    @property
    def min_run_radii(self) -> float:
        """The shortest run :meth:`segment` keeps, in structure radii (0 also for checkpoints written before the option)."""
        return float(self.hparams.get("min_run_radii", 0.0))

    @property
    def n_clusters(self) -> int:
        return int(self.hparams.n_clusters)

    def normalised_actions(self) -> torch.Tensor:
        return F.normalize(self.actions, dim=-1)

    def similarity(self, features: torch.Tensor) -> torch.Tensor:
        """``X A^T``: cosine similarity of every frame to every action, ``(..., N, K)``."""
        return self.encoder(features) @ self.normalised_actions().T

    def asot_cost(self, similarity: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``1 - X A^T + rho R`` with each video's own length in ``R`` (no gradient)."""
        prior = batched_temporal_prior(mask, self.n_clusters, float(self.rho_used), centred=self.prior_centred,
                                       dtype=similarity.dtype)
        return (1.0 - similarity.detach()) + prior.to(similarity.device)

    @torch.no_grad()
    def segment(self, features: torch.Tensor, mask: torch.Tensor | None = None, radii: Sequence[float] | torch.Tensor | None = None,
                return_confidence: bool = False) -> Any:  # fmt: skip
        """Test-time segmentation: ASOT (eval config) on ``1 - X A^T + rho R``, argmax, and
        (``min_run_radii`` ``c > 0``) no run shorter than ``L_b = round(c r_b N_b)`` frames: a
        shorter run joins the neighbour whose label costs its frames less on that cost
        (:func:`asot.runs.min_run`; ``c r_b`` at most 1/2).

        ``return_confidence``: also return each frame's confidence ``(B, N)`` (numpy float64),
        the coupling mass of its label with the coupling row normalised to sum 1
        (:func:`asot.io.segments.coupling_confidence`; 0 on padding).

        ``features`` ``(B, N, D)`` (or ``(N, D)``), ``mask`` ``(B, N)``; returns ``(B, N)``
        int64 cluster ids, ``-1`` on padding. With ``radius="auto"`` each video uses ``radii``
        (whole-video radii measured before, e.g. of training clips; NaN entries: measure) or
        else the radius measured now on ``features``, which must then be the whole video.
        """
        single = features.dim() == 2
        if single:
            features = features[None]
        if mask is None:
            mask = torch.ones(features.shape[:2], dtype=torch.bool, device=features.device)
        cost = self.asot_cost(self.similarity(features), mask)
        radii = self.radii(self.eval_solver, features, mask, radii)
        coupling, labels = self._solve(cost, mask, self.eval_solver, radii)
        if self.min_run_radii > 0:
            labels = self._without_short_runs(labels, cost, mask, radii)
        labels = torch.where(mask, labels.to(features.device), torch.full_like(labels.to(features.device), -1))
        if not return_confidence:
            return labels[0] if single else labels
        from asot.io.segments import coupling_confidence

        lab = labels.cpu().numpy()
        conf = np.stack([coupling_confidence(c, l) for c, l in zip(coupling.detach().cpu().numpy(), lab)])
        return (labels[0], conf[0]) if single else (labels, conf)

    def _without_short_runs(self, labels: torch.Tensor, cost: torch.Tensor, mask: torch.Tensor,
                            radii: Sequence[float] | None) -> torch.Tensor:  # fmt: skip
        """``labels`` with :func:`asot.runs.min_run` applied to each video at ``min(c r_b, 1/2)``."""
        lengths = [int(n) for n in mask.sum(dim=1).tolist()]
        _, fractions = RadiusPolicy.of(self.eval_solver, radii).band(lengths)
        out = labels.cpu().numpy().copy()
        costs = cost.detach().cpu().numpy()
        for b, (n, r) in enumerate(zip(lengths, fractions)):
            out[b, :n] = min_run(out[b, :n], min(self.min_run_radii * float(r), 0.5), costs[b, :n])
        return torch.from_numpy(out).to(labels.device)

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.segment(features, mask)

    # ------------------------------------------------------------------------------------
    # per-video structure radius (radius="auto", asot.ot.radius)

    def radii(self, config: SolverConfig, features: torch.Tensor, mask: torch.Tensor,
              known: Sequence[float] | torch.Tensor | None = None) -> list[float] | None:  # fmt: skip
        """Per-video radius ``r_b`` when ``config`` measures it (``radius="auto"``), else ``None``.

        ``known`` (e.g. ``Batch.radii``: measured on the whole training video at the start of
        fit, so that a 256-frame clip gets its video's scale) is used where finite; the other
        videos are measured on ``features`` with the current model (the whole video at test /
        predict time). The result depends on the features and the model only, never on a name.
        """
        if not RadiusPolicy.of(config).measured:
            return None
        known = None if known is None else [float(r) for r in (known.tolist() if torch.is_tensor(known) else known)]
        out = []
        for b, n in enumerate(mask.sum(dim=1).tolist()):
            if known is not None and math.isfinite(known[b]):
                out.append(known[b])
            else:
                video, video_mask = features[b : b + 1, : int(n)], mask[b : b + 1, : int(n)]
                out.append(self._radius_of(video, self._structure_labels(video, video_mask)))
        return out

    @torch.no_grad()
    def _structure_labels(self, features: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
        """ASOT labels of one whole video (``(1, N, D)``) for measuring it: the training solver
        (its action marginal keeps every action in use; the evaluation solver's lets a few
        actions take the video, hiding recurrence), the paper's radius
        :data:`asot.ot.radius.DEFAULT_RADIUS`, no prior, on ``1 - X A^T``."""
        features, mask = features.to(self.device), mask.to(self.device)
        config = self.train_solver.replace(radius=DEFAULT_RADIUS, radius_frames=None)
        return self._solve(1.0 - self.similarity(features), mask, config, None)[1][0].cpu().numpy()

    def _radius_of(self, features: torch.Tensor, labels: np.ndarray) -> float:
        """``r_b`` of one whole video by :func:`asot.ot.radius.measure_radius` on its input features,
        with the activity's recurrence decision (``recurring`` buffer, set at fit start)."""
        return measure_radius(features[0].cpu().numpy(), labels, recurring=bool(self.recurring))

    def measure_videos(self, batches: Iterable[Any]) -> list[float] | None:
        """After the k-means init: recurrence of the actions, ``rho`` (``rho_auto``) and, with
        ``radius="auto"``, the radius ``r_b`` of every whole training video, in batch order.

        Each video is labelled once; the median recurrence (``M_b / #actions present``) decides
        ``recurring``, which the radius rule then needs. ``batches`` is iterated twice when radii
        are measured (labels first, radii once ``recurring`` is known), so only one batch and
        the labels are held at a time, never every video's features (a re-iterable loader).
        """
        from asot._memory import release_free_memory

        labels = [self._structure_labels(features, mask) for features, mask in _whole_videos(batches)]
        recurring, self.recurrence = is_recurring(labels)
        self.recurring.fill_(recurring)
        if self.hparams.rho_auto:
            self.rho_used.fill_(0.0 if recurring else float(self.hparams.rho))
        release_free_memory()  # the solver's buffers of the longest videos
        if not any(RadiusPolicy.of(c).measured for c in (self.train_solver, self.eval_solver)):
            return None
        return [self._radius_of(features, lab) for (features, _), lab in zip(_whole_videos(batches), labels, strict=True)]

    @staticmethod
    def _solve(cost: torch.Tensor, mask: torch.Tensor, config: SolverConfig, radii: Sequence[float] | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(coupling, labels)`` of ASOT; with ``radii`` each video is solved with its own ``r_b``."""
        result = solve(cost, mask, config, radii=radii)
        return result.coupling, result.labels

    # ------------------------------------------------------------------------------------
    # k-means initialisation

    @torch.no_grad()
    def initialise_actions(self, batches: Iterable[Any], n_frames: int | None = None) -> None:
        """Set the action embeddings to k-means centroids of the encoder outputs.

        ``batches`` yields :class:`asot.data.Batch`-like objects (``features``, ``mask``).
        Uses scikit-learn's :class:`~sklearn.cluster.KMeans` seeded with ``hparams.seed``.
        ``n_frames``: the number of valid frames the batches hold, when known: only the outputs
        k-means is fitted on (:class:`asot.models.kmeans.EvenSubsample`) are then kept, not
        every frame's (the same fit).
        """
        from asot._memory import release_free_memory
        from asot.models.kmeans import EvenSubsample, fit_kmeans

        picker = EvenSubsample(n_frames) if n_frames is not None else None
        outputs = []
        for batch in batches:
            x = self.encoder(batch.features.to(self.device))
            rows = x[batch.mask.to(self.device)].cpu().numpy()
            if picker is not None:
                picker.add(rows)
            else:
                outputs.append(rows)
        release_free_memory()  # the encoder passes' transient tensors, before k-means adds its own
        km = fit_kmeans(picker if picker is not None else outputs, self.n_clusters, seed=int(self.hparams.seed),
                        what="k-means init: {n} training frames")  # fmt: skip
        del outputs, picker
        release_free_memory()
        centres = torch.as_tensor(km.cluster_centers_, dtype=self.actions.dtype, device=self.actions.device)
        self.actions.copy_(F.normalize(centres, dim=-1))
        self.actions_initialised.fill_(True)

    def on_fit_start(self) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        if bool(self.actions_initialised):  # resumed: rho_used, recurring and the radii come from the checkpoint
            if dm is not None and self.training_radii is not None:
                dm.video_radii = list(self.training_radii)
            return
        if dm is None:
            raise RuntimeError("ASOTModule: k-means init needs a datamodule (or call initialise_actions first)")
        loader = dm.init_dataloader() if hasattr(dm, "init_dataloader") else dm.train_dataloader()
        # the init loader holds every frame of every video
        frames = sum(v.n_frames for v in dm.videos) if hasattr(dm, "init_dataloader") and hasattr(dm, "videos") else None
        self.initialise_actions(loader, frames)
        if self.hparams.rho_auto or any(RadiusPolicy.of(c).measured for c in (self.train_solver, self.eval_solver)):
            self.training_radii = self.measure_videos(loader)
        if self.trainer.world_size > 1:
            self._share_initialisation()
        if self.training_radii is not None:
            dm.video_radii = list(self.training_radii)

    @torch.no_grad()
    def _share_initialisation(self) -> None:
        """Distributed training: every rank computed the same initialisation from all training
        videos and the same seed; rank 0's copy is broadcast so that they agree exactly (DDP
        synchronises gradients, not parameters, after it has wrapped the model)."""
        state = (self.actions.detach().cpu(), self.rho_used.detach().cpu(), self.recurring.detach().cpu(),
                 self.training_radii, getattr(self, "recurrence", None))  # fmt: skip
        actions, rho_used, recurring, self.training_radii, recurrence = self.trainer.strategy.broadcast(state, src=0)
        if recurrence is not None:
            self.recurrence = recurrence
        self.actions.copy_(actions.to(self.actions.device))
        self.rho_used.copy_(rho_used.to(self.rho_used.device))
        self.recurring.copy_(recurring.to(self.recurring.device))

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["training_radii"] = self.training_radii
        checkpoint["recurrence"] = getattr(self, "recurrence", None)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.training_radii = checkpoint.get("training_radii")
        if checkpoint.get("recurrence") is not None:
            self.recurrence = float(checkpoint["recurrence"])
        state = checkpoint.get("state_dict", {})
        # checkpoints written before these buffers existed: the prior was ``rho``
        state.setdefault("rho_used", torch.tensor(float(self.hparams.rho), dtype=torch.float64))
        state.setdefault("recurring", torch.tensor(False))

    # ------------------------------------------------------------------------------------
    # training

    def model_step(self, batch: Any) -> torch.Tensor:
        mask = batch.mask
        sim = self.similarity(batch.features)
        log_p = F.log_softmax(sim / self.hparams.temperature, dim=-1)
        with torch.no_grad():
            cost = self.asot_cost(sim, mask)
            radii = self.radii(self.train_solver, batch.features, mask, getattr(batch, "radii", None))
            target = self._solve(cost, mask, self.train_solver, radii)[0].to(sim.device, sim.dtype)
        per_frame = -(target * log_p).sum(dim=-1)
        return per_frame[mask].mean()

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss = self.model_step(batch)
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=len(batch.names), sync_dist=True)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)

    # ------------------------------------------------------------------------------------
    # evaluation

    def _eval_step(self, stage: str, batch: Any) -> None:
        labels, conf = self.segment(batch.features, batch.mask, getattr(batch, "radii", None), return_confidence=True)
        preds, gts = [], []
        for b, n in enumerate(batch.mask.sum(dim=1).tolist()):
            preds.append(labels[b, :n].cpu().numpy())
            gts.append(batch.labels[b, :n].cpu().numpy())
            if stage == "test":
                self.last_test_predictions[batch.names[b]] = preds[-1]
                self.last_test_confidence[batch.names[b]] = conf[b, :n]
        keep = [(p, g) for p, g in zip(preds, gts) if not (g == IGNORE_INDEX).any()]  # labelled videos only
        if keep:
            self._metrics[stage].update([p for p, _ in keep], [g for _, g in keep])
            self._seen[stage] = True

    def _start(self, stage: str) -> None:
        self._metrics[stage].reset()
        self._seen[stage] = False
        if stage == "test":
            self.last_test_predictions = {}
            self.last_test_confidence = {}

    def _end(self, stage: str) -> None:
        if not self._seen.get(stage):
            return
        result = self._metrics[stage].compute()
        self.last_metrics[stage] = result
        for protocol, values in result.items():
            suffix = "" if protocol == "full" else "_per_video"
            for name, value in values.items():
                self.log(f"{stage}/{name}{suffix}", value, prog_bar=protocol == "full" and stage == "val", sync_dist=True)

    def on_validation_epoch_start(self) -> None:
        self._start("val")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._eval_step("val", batch)

    def on_validation_epoch_end(self) -> None:
        self._end("val")

    def on_test_epoch_start(self) -> None:
        self._start("test")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._eval_step("test", batch)

    def on_test_epoch_end(self) -> None:
        from asot._memory import release_free_memory

        self._end("test")
        release_free_memory()  # the whole-video solves' buffers, before the next phase

    def predict_step(self, batch: Any, batch_idx: int) -> dict[str, np.ndarray]:
        labels = self.segment(batch.features, batch.mask, getattr(batch, "radii", None))
        return {name: labels[b, : int(n)].cpu().numpy() for b, (name, n) in enumerate(zip(batch.names, batch.mask.sum(1)))}
