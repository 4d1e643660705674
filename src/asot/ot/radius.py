r"""The structure radius: one policy for ``solve``, ``segment`` and ``train``.

The structure matrix ``Cv`` of every video ``b`` is a band of half-width ``w_b`` frames with
value ``1 / r_b``. A :class:`RadiusPolicy` says how ``(w_b, r_b)`` is chosen; it is read from a
:class:`~asot.ot.config.SolverConfig` (``radius`` / ``radius_frames``) or from explicit per-video
radii:

=================  ===================================  ===============================================
policy             config                               band of a video of ``N_b`` frames
=================  ===================================  ===============================================
fraction ``r``     ``radius=r`` (default                ``w_b = max(1, floor(N_b r))``, value ``1/r``
                   :data:`DEFAULT_RADIUS`, the paper's)  (spec section 1)
frames ``w``       ``radius_frames=w``                  ``w_b = w``, ``r_b = w / N_b``
measured           ``radius="auto"``                    ``r_b`` = :func:`measure_radius` of the whole
                                                        video (below), ``w_b = max(1, floor(N_b r_b))``
per-video          ``radii=[r_b, ...]`` (``solve``)      ``w_b = max(1, floor(N_b r_b))``, value ``1/r_b``
=================  ===================================  ===============================================

With ``r_b = w_b / N_b`` the band value ``1/r_b`` is what the fraction rule gives for the same
``w``, so the per-video computation is the spec's; only ``w`` is chosen differently.

**The measured rule** (``"auto"``; one rule wherever it runs, deterministic, label-free). It
needs a video's *sequence* (frame features, or cost rows when nothing else is known) and ASOT
*labels* of the whole video at the paper's radius :data:`DEFAULT_RADIUS`:

1. *occurrences* of the actions (:func:`action_occurrences`): a run of a label starts a new
   occurrence unless the same label was seen since at most ``RETURN_MIN_OTHERS - 1`` other labels
   (``A B A`` is one occurrence of ``A``: flicker at a boundary or inside a drifting action;
   ``A B C A`` is two). The actions *recur* when the occurrences per action present are at least
   :data:`RECURRENCE_THRESHOLD` (the training pipeline decides once per activity, from the median
   over its training videos; ``solve`` per video). Counting raw runs instead calls flicker
   recurrence (long videos: 3.6 runs per action of a once-per-video activity);
2. actions once per video: one segment per action, ``r_b = SEGMENT_RADIUS_PER_SEGMENT / A_b``
   with ``A_b`` the actions that have a run of at least ``MIN_SEGMENT_FRACTION * N_b`` frames
   (a third of the mean segment ``N_b / A_b``; flicker cannot shrink it);
3. recurring actions (the labels at ``0.04 N`` cannot resolve shorter segments): ``w_b =
   RECURRING_RADIUS_PER_SEGMENT * S_b`` with ``S_b`` the self-similarity decay scale of the
   sequence (:func:`asot.ot.scale.segment_scale`; :data:`DEFAULT_RADIUS` when no decay is seen).

Where it runs: ``asot.solve(cost, radius="auto")`` and ``asot segment --radius auto`` label each
video by ASOT on its own cost at :data:`DEFAULT_RADIUS` and measure on the cost rows; the training
pipeline (:class:`~asot.models.ASOTModule`) labels each whole video with its training solver
(whose action marginal keeps every action in use) on the k-means-initialised model's cost
``1 - X A^T`` and measures on its input features, once at the start of fit for the
training clips (the radii travel with the videos' data, :class:`asot.data.FrameDataset`), and on
the whole video with the current model at test / predict time. Nothing is keyed by video name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from asot._arrays import to_numpy
from asot.runs import run_length_encode

# asot.ot.scale / asot.ot.structure (torch) are imported where used: SolverConfig validates its radius
# here, and the command line builds configs without loading torch

__all__ = [
    "DEFAULT_RADIUS",
    "MEASURED",
    "RadiusPolicy",
    "check_radius",
    "measure_radius",
    "radius_from_segments",
    "decay_radius",
    "is_recurring",
    "action_occurrences",
    "recurrence",
    "RETURN_MIN_OTHERS",
    "structure_band",
    "RECURRENCE_THRESHOLD",
    "SEGMENT_RADIUS_PER_SEGMENT",
    "RECURRING_RADIUS_PER_SEGMENT",
    "MIN_SEGMENT_FRACTION",
]

#: the paper's structure radius (fraction of the video length): the default of every solver
#: setting and the radius of the labels the measured rule counts
DEFAULT_RADIUS = 0.04
#: the name of the measured rule in ``SolverConfig.radius``
MEASURED = "auto"
#: the actions recur when a video has at least this many occurrences per action present (each
#: action about once: 1; measured on the k-means-initialised training labels: ActRecTut 5.9,
#: every once-per-video dataset <= 1.5; docs/defaults.md)
RECURRENCE_THRESHOLD = 2.0
#: a label returning after fewer than this many other labels continues its occurrence
RETURN_MIN_OTHERS = 2
#: actions once per video: ``r_b = SEGMENT_RADIUS_PER_SEGMENT / A_b`` (a third of a mean segment)
SEGMENT_RADIUS_PER_SEGMENT = 1 / 3
#: recurring actions: ``w_b = RECURRING_RADIUS_PER_SEGMENT * S_b`` (the decay of recurring states
#: overestimates their segments: ActRecTut S ~ 1,100-1,400 frames for segments of median 170)
RECURRING_RADIUS_PER_SEGMENT = 0.125
#: actions with no run of at least this fraction of the video are not counted as present
MIN_SEGMENT_FRACTION = 0.02


def check_radius(radius: Any, where: str = "SolverConfig.radius") -> float | str:
    """``radius`` validated: a fraction in ``(0, 1]`` or :data:`MEASURED` (``"auto"``)."""
    if isinstance(radius, str):
        if radius != MEASURED:
            raise ValueError(f"{where}: expected 0 < r <= 1 or {MEASURED!r}, got {radius!r}")
        return radius
    if isinstance(radius, bool) or not isinstance(radius, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: expected a real number, got {type(radius).__name__} {radius!r}")
    value = float(radius)
    if not (math.isfinite(value) and 0.0 < value <= 1.0):
        raise ValueError(f"{where}: expected 0 < r <= 1, got {value}")
    return value


# ------------------------------------------------------------------------------------------
# the measured rule


def structure_radius(n_frames: int, radius: float) -> int:
    """Half-width ``w = max(1, floor(N * r))`` of the structure band (spec section 1).

    The published code uses ``floor(N*r)`` without the ``max(1, .)``, which silently drops the
    structure term for videos shorter than ``1/r`` frames; the spec (and this function) keeps it.
    """
    # a tiny tolerance so that e.g. N=100, r=0.03 gives 3 and not 2 from 2.9999999999999996
    return max(1, int(math.floor(n_frames * radius + 1e-9)))


def radius_from_segments(n_segments: int) -> float:
    """``r_b = SEGMENT_RADIUS_PER_SEGMENT / M_b``: a third of the mean segment ``N_b / M_b``."""
    return float(min(1.0, SEGMENT_RADIUS_PER_SEGMENT / max(int(n_segments), 1)))


def action_occurrences(labels, min_length: int = 1) -> tuple[int, int]:
    """``(occurrences, actions present)`` of one video's labels.

    Runs shorter than ``min_length`` frames are dropped first. A run starts a new occurrence of
    its label unless that label's previous run is separated from it by fewer than
    :data:`RETURN_MIN_OTHERS` distinct other labels (``A B A``: one occurrence of ``A``).
    """
    labels = np.asarray(labels).reshape(-1)
    if labels.size == 0:
        return 0, 0
    encoded = run_length_encode(labels)
    runs = encoded.labels[encoded.lengths >= max(1, int(min_length))]
    runs = runs[np.r_[True, runs[1:] != runs[:-1]]] if runs.size else runs  # neighbours merged
    last: dict[Any, int] = {}
    occurrences = 0
    for i, a in enumerate(runs.tolist()):
        if a not in last or len(set(runs[last[a] + 1 : i].tolist())) >= RETURN_MIN_OTHERS:
            occurrences += 1
        last[a] = i
    return occurrences, len(last)


def recurrence(labels) -> float:
    """Occurrences per action present (:func:`action_occurrences`; 1 for an empty video)."""
    occurrences, actions = action_occurrences(labels)
    return occurrences / actions if actions else 1.0


def decay_radius(sequence, per_segment: float | None = None) -> float:
    """``r_b = max(1, round(per_segment * S_b)) / N_b`` from the self-similarity decay scale
    ``S_b`` of a whole video's ``(N, D)`` sequence (``DEFAULT_RADIUS`` when no decay is seen;
    ``per_segment`` default :data:`RECURRING_RADIUS_PER_SEGMENT`)."""
    if per_segment is None:
        per_segment = RECURRING_RADIUS_PER_SEGMENT
    from asot.ot.scale import segment_scale

    x = to_numpy(sequence, dtype=np.float64)
    n = int(x.shape[0]) if x.ndim == 2 else 0
    scale = segment_scale(x)
    w = structure_radius(n, DEFAULT_RADIUS) if scale is None else max(1, int(round(per_segment * scale)))
    return float(min(1.0, w / max(n, 1)))


def is_recurring(labels_per_video: Sequence[np.ndarray]) -> tuple[bool, float]:
    """``(recurring, median recurrence)`` of some videos' temporally consistent labels."""
    values = [recurrence(lab) for lab in labels_per_video]
    median = float(np.median(values)) if values else 1.0
    return median >= RECURRENCE_THRESHOLD, median


def measure_radius(sequence, labels, recurring: bool | None = None) -> float:
    """The measured radius ``r_b`` of one whole video (the rule of this module's docstring).

    Args:
        sequence: ``(N, D)`` frame features (or cost rows) of the whole video.
        labels: ``(N,)`` ASOT labels of the whole video at :data:`DEFAULT_RADIUS`.
        recurring: whether the actions recur (``None``: decided from these labels alone).
    """
    labels = np.asarray(labels).reshape(-1)
    if recurring is None:
        recurring = recurrence(labels) >= RECURRENCE_THRESHOLD
    if recurring:
        return decay_radius(sequence)
    _, actions = action_occurrences(labels, min_length=max(1, int(MIN_SEGMENT_FRACTION * labels.size)))
    return radius_from_segments(actions)


# ------------------------------------------------------------------------------------------
# the policy object


@dataclass(frozen=True)
class RadiusPolicy:
    """How the structure band of each video is chosen (see the module docstring).

    Attributes:
        kind: ``"fraction"``, ``"frames"``, ``"measured"`` or ``"per-video"``.
        value: the fraction ``r`` (``"fraction"``), the width ``w`` (``"frames"``), the tuple of
            ``r_b`` (``"per-video"``), ``None`` (``"measured"``).
    """

    kind: str
    value: Any = None

    @classmethod
    def of(cls, config: Any, radii: Sequence[float] | None = None) -> "RadiusPolicy":
        """The policy of a :class:`~asot.ot.config.SolverConfig` (``radii`` given: per-video)."""
        return cls.from_fields(config.radius, config.radius_frames, radii)

    @classmethod
    def from_fields(cls, radius: float | str = DEFAULT_RADIUS, radius_frames: int | None = None,
                    radii: Sequence[float] | None = None) -> "RadiusPolicy":  # fmt: skip
        """The policy of the config fields ``radius`` / ``radius_frames`` and per-video ``radii``
        (which win over both; ``radius_frames`` wins over ``radius``)."""
        if radii is not None:
            return cls("per-video", tuple(float(r) for r in radii))
        if radius_frames is not None:
            return cls("frames", int(radius_frames))
        if radius == MEASURED:
            return cls("measured")
        return cls("fraction", float(radius))

    @property
    def measured(self) -> bool:
        return self.kind == "measured"

    def band(self, lengths: Sequence[int]) -> tuple[list[int], list[float]]:
        """``(widths w_b, radii r_b)`` for videos of ``lengths`` frames (a measured policy must
        be resolved to per-video radii first: :meth:`resolve`)."""
        lengths = [int(n) for n in lengths]
        if self.kind == "per-video":
            radii = list(self.value)
            if len(radii) != len(lengths):
                raise ValueError(f"radii: expected {len(lengths)} value(s), one per video, got {len(radii)}")
            return [structure_radius(n, r) for n, r in zip(lengths, radii)], radii
        if self.kind == "frames":
            return [int(self.value)] * len(lengths), [int(self.value) / n for n in lengths]
        if self.kind == "fraction":
            return [structure_radius(n, self.value) for n in lengths], [float(self.value)] * len(lengths)
        raise ValueError("radius='auto' is measured per whole video: resolve the policy first (RadiusPolicy.resolve)")

    def resolve(self, sequences: Sequence[Any], label: Callable[[], Sequence[np.ndarray]],
                recurring: bool | None = None) -> "RadiusPolicy":  # fmt: skip
        """A measured policy as per-video radii; any other policy unchanged.

        Args:
            sequences: each video's ``(N_b, D)`` sequence (features or cost rows).
            label: returns each video's ASOT labels at :data:`DEFAULT_RADIUS` (called only when
                the policy is measured).
            recurring: the activity's recurrence decision (``None``: each video's own).
        """
        if not self.measured:
            return self
        labels = label()
        return RadiusPolicy("per-video", tuple(measure_radius(s, lab, recurring) for s, lab in zip(sequences, labels)))


def structure_band(lengths, radius: float | str, radius_frames: int | None = None, radii=None) -> tuple[list[int], list[float]]:
    """``(w_b, r_b)`` of every video for a fixed policy (fraction, frames or per-video radii)."""
    return RadiusPolicy.from_fields(radius, radius_frames, radii).band(lengths)
