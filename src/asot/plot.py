"""Figures (matplotlib, optional): segmentation bars and affinity / coupling heatmaps.

Every function returns a :class:`matplotlib.figure.Figure` built without ``pyplot`` (no global
figure registry, no backend switching, nothing to close); :func:`save_figure` writes it as a PNG
atomically. matplotlib is imported only when a figure is made, so ``import asot`` never needs
it.

* :func:`plot_segmentation` -- ground truth and any number of predictions as colour bars, one
  colour per class, the same colour for the same class in every row (and in every figure made
  with the same ``n_classes``).
* :func:`activity_figures` -- a training run's segmentation bars of one activity (ground truth
  vs the model and other rows, clusters matched to classes over the activity's videos, each
  row's MoF in its label; without labels the clusters as they are).
* :func:`plot_coupling` -- the affinity (or cost) matrix and the coupling side by side as
  ``classes x frames`` heatmaps with the ground-truth boundaries as vertical lines, in the
  manner of the paper's Figure 2.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from asot._arrays import to_numpy
from asot.runs import run_length_encode

__all__ = ["UNMATCHED_LABEL", "activity_figures", "class_colors", "plot_coupling", "plot_loss_curve", "plot_segmentation",
           "save_figure"]

#: the label of a frame whose cluster matched no class (``Matching.apply(pred, fill=UNMATCHED_LABEL)``)
UNMATCHED_LABEL = -(2**31)
#: colour of unmatched clusters and of other labels < 0 that have no name (legend: "unmatched")
UNMATCHED_COLOR = (0.0, 0.0, 0.0, 1.0)
BACKGROUND_COLOR = UNMATCHED_COLOR  # older name
#: colour of a named class with a negative id (e.g. a background class -1)
BACKGROUND_CLASS_COLOR = (0.72, 0.72, 0.72, 1.0)
#: legend text of the unmatched colour
UNMATCHED_NAME = "unmatched cluster"


def _labels(x: Any, name: str) -> np.ndarray:
    array = to_numpy(x)
    if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise ValueError(f"{name}: expected a 1-D integer label array, got shape {array.shape} dtype {array.dtype}")
    return array.astype(np.int64)


def _matrix(x: Any, name: str) -> np.ndarray:
    array = to_numpy(x, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D (frames, classes) matrix, got shape {array.shape}")
    return array


def class_colors(n_classes: int) -> np.ndarray:
    """``(n_classes, 4)`` RGBA colours, fixed per class id: tab20 (+ tab20b, tab20c), then hsv."""
    from matplotlib import colormaps

    if n_classes < 0:
        raise ValueError(f"n_classes: expected >= 0, got {n_classes}")
    palette = [colormaps[name](np.arange(20)) for name in ("tab20", "tab20b", "tab20c")]
    colors = np.concatenate(palette)
    if n_classes > len(colors):
        extra = colormaps["hsv"](np.linspace(0, 1, n_classes - len(colors), endpoint=False))
        colors = np.concatenate([colors, extra])
    return colors[:n_classes]


def _boundaries(gt: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.diff(gt)) + 1


def plot_segmentation(
    gt: Any | None,
    preds: Mapping[str, Any],
    *,
    n_classes: int | None = None,
    names: Sequence[str] | Mapping[int, str] | None = None,
    title: str | None = None,
    legend: bool = True,
    scores: Mapping[str, float | None] | None = None,
    width: float = 12.0,
    row_height: float = 0.6,
) -> Any:
    """Ground truth and predictions as horizontal colour bars over time.

    Args:
        gt: ``(N,)`` ground-truth class ids, or ``None`` to plot predictions only.
        preds: row label -> ``(N,)`` predicted class ids (e.g. ``{"ASOT": ..., "argmax": ...}``);
            predictions are drawn as given, so match clusters to classes first when they are
            cluster ids (:func:`asot.metrics.hungarian_match` ``.apply``).
        n_classes: number of colours (default: largest id + 1); pass it to keep colours
            identical across figures.
        names: class names (by id) for the legend (a sequence is indexed by id from 0).
        title: figure title.
        legend: add a legend of the classes present.
        scores: row label -> MoF in percent, written under the row's label.

    :data:`UNMATCHED_LABEL` (a cluster matched to no class) and any other label ``< 0`` without
    a name are drawn black, with one legend entry "unmatched cluster"; a named negative label
    (e.g. a background class ``-1``) is drawn light grey under its name. Returns the figure.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows: list[tuple[str, np.ndarray]] = []
    if gt is not None:
        rows.append(("GT", _labels(gt, "gt")))
    for key, value in preds.items():
        rows.append((str(key), _labels(value, f"preds[{key!r}]")))
    if not rows:
        raise ValueError("plot_segmentation: nothing to plot (no gt and no predictions)")
    lengths = {len(v) for _, v in rows}
    if len(lengths) != 1:
        raise ValueError(f"plot_segmentation: every row needs the same number of frames, got {[(k, len(v)) for k, v in rows]}")
    n_frames = lengths.pop()
    largest = max((int(v.max()) for _, v in rows if v.size), default=-1)
    k = largest + 1 if n_classes is None else int(n_classes)
    if largest >= k:
        raise ValueError(f"plot_segmentation: label {largest} needs n_classes > {largest}, got {k}")
    colors = class_colors(max(k, 1))

    if isinstance(names, Mapping):
        lookup = {int(k): str(v) for k, v in names.items()}
    elif names is not None:
        lookup = dict(enumerate(str(n) for n in names))
    else:
        lookup = {}

    def color_of(label: int) -> Any:
        if label >= 0:
            return colors[label]
        return BACKGROUND_CLASS_COLOR if label in lookup and label != UNMATCHED_LABEL else UNMATCHED_COLOR

    seen = sorted({int(c) for _, v in rows for c in np.unique(v)}) if legend else []
    present = [c for c in seen if c >= 0 or (c in lookup and c != UNMATCHED_LABEL)]
    entries = [str(lookup.get(c, c)) for c in present]
    handles_colors = [color_of(c) for c in present]
    if any(c < 0 and c not in present for c in seen):
        entries.append(UNMATCHED_NAME)
        handles_colors.append(UNMATCHED_COLOR)
    longest = max((len(e) for e in entries), default=1)
    ncol = max(1, min(len(entries), int(width * 13) // (longest + 5))) if entries else 1
    legend_rows = -(-len(entries) // ncol) if entries else 0
    # heights in inches: title, bars, x axis, legend
    top_in, bars_in, axis_in, legend_in = (0.5 if title else 0.15), row_height * len(rows), 0.55, 0.22 * legend_rows + 0.1
    height = top_in + bars_in + axis_in + legend_in
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    for ax, (key, labels) in zip(axes, rows):
        runs = run_length_encode(labels)
        # one collection of rectangles per row (one artist, not one per segment: a flickering
        # prediction has thousands of segments, and an axvspan each took ~1 s per figure)
        spans = list(zip(runs.starts.tolist(), (runs.ends - runs.starts).tolist()))
        ax.broken_barh(spans, (0.0, 1.0), facecolors=[color_of(label) for label in runs.labels.tolist()], linewidth=0)
        ax.set_xlim(0, max(n_frames, 1))
        ax.set_ylim(0.0, 1.0)
        ax.set_yticks([])
        score = (scores or {}).get(key)
        ax.set_ylabel(key if score is None else f"{key}\nMoF {score:.1f}%", rotation=0, ha="right", va="center")
        ax.tick_params(axis="x", labelbottom=False)
    axes[-1].tick_params(axis="x", labelbottom=True)
    axes[-1].set_xlabel("frame")
    if title:
        fig.suptitle(title, y=1.0 - 0.05 / height, va="top")
    if entries:
        handles = [Patch(color=c, label=e) for c, e in zip(handles_colors, entries)]
        fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize="small", frameon=False, bbox_to_anchor=(0.5, 0.0))
    ylabel_in = 0.1 * max(max(len(k), 10 if k in (scores or {}) else 0) for k, _ in rows) + 0.3
    fig.subplots_adjust(
        left=min(0.4, ylabel_in / width), right=0.98, hspace=0.15,
        top=1.0 - top_in / height, bottom=(axis_in + legend_in) / height,
    )
    return fig


def plot_coupling(
    affinity: Any,
    coupling: Any,
    gt: Any | None = None,
    *,
    titles: Sequence[str] = ("affinity", "ASOT coupling"),
    title: str | None = None,
    width: float = 12.0,
) -> Any:
    """Affinity and coupling heatmaps (classes x frames) with ground-truth boundaries.

    Args:
        affinity: ``(N, K)`` frame-to-class affinity (or any score; a cost works too).
        coupling: ``(N, K)`` soft assignment (e.g. :attr:`asot.ASOTResult.coupling`).
        gt: ``(N,)`` ground-truth labels; its segment boundaries are drawn as red lines.
        titles: the two panel titles.
        title: figure title.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    a = _matrix(affinity, "affinity")
    t = _matrix(coupling, "coupling")
    if a.shape != t.shape:
        raise ValueError(f"plot_coupling: affinity {a.shape} and coupling {t.shape} must have the same shape")
    n_frames, n_classes = a.shape
    bounds = np.array([], dtype=np.int64)
    if gt is not None:
        g = _labels(gt, "gt")
        if g.size != n_frames:
            raise ValueError(f"plot_coupling: gt has {g.size} frames, the matrices {n_frames}")
        bounds = _boundaries(g)
    height = max(2.0, 0.12 * n_classes + 1.2)
    fig = Figure(figsize=(width, 2 * height + (0.4 if title else 0.0)))
    axes = fig.subplots(2, 1, sharex=True)
    for ax, matrix, label in zip(axes, (a, t), titles):
        image = ax.imshow(matrix.T, aspect="auto", interpolation="nearest", origin="upper", extent=(0, n_frames, n_classes - 0.5, -0.5))
        for b in bounds:
            ax.axvline(b, color="red", linewidth=0.8)
        ax.set_title(label)
        ax.set_ylabel("class")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
    axes[-1].set_xlabel("frame")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_loss_curve(epochs: Sequence[int], losses: Sequence[float], *, title: str | None = None,
                    ylabel: str = "training loss\n(cross-entropy vs\nASOT pseudo-labels)") -> Any:
    """The training loss per epoch (``epochs`` count from 0 and are drawn from 1)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if len(epochs) != len(losses) or not len(epochs):
        raise ValueError(f"plot_loss_curve: expected as many epochs as losses (>= 1), got {len(epochs)} and {len(losses)}")
    fig = Figure(figsize=(5.5, 3.4), layout="constrained")  # constrained layout: no label is clipped
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(np.asarray(epochs) + 1, losses, marker="o")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return fig


def activity_figures(activity: str, rows: Mapping[str, Mapping[str, np.ndarray]], ground_truth: Mapping[str, np.ndarray], *,
                     n_clusters: int, n_classes: int, exclude: Sequence[int] = (), n_videos: int = 3,
                     names: Mapping[int, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """``{video: figure}`` for the first ``n_videos`` videos of one activity.

    ``rows``: ``{row label: {video: cluster ids}}``, the first row the model's (its videos are
    the ones drawn). With labels, each row with exactly one prediction per labelled video is
    Hungarian-matched to the classes over all of them (``exclude``: ground-truth labels left out
    of the matching and the MoF), drawn in class colours with its MoF in the label; without
    labels, the first row's clusters are drawn as ``action_<k>``."""
    from asot.metrics.matching import match_full

    exclude = tuple(exclude)
    first_label, first = next(iter(rows.items()))
    labelled = [n for n in first if n in ground_truth]
    out: dict[str, Any] = {}
    if not labelled:
        for name in list(first)[:n_videos]:
            out[name] = plot_segmentation(None, {first_label: first[name]}, n_classes=n_clusters,
                                          names={k: f"action_{k}" for k in range(n_clusters)}, title=f"{activity}: {name}")  # fmt: skip
        return out
    gt_all = [ground_truth[n] for n in labelled]
    matchings = {
        key: match_full([preds[n] for n in labelled], gt_all, exclude=exclude)
        for key, preds in rows.items() if len(preds) == len(labelled) and all(n in preds for n in labelled)
    }  # fmt: skip
    for name in labelled[:n_videos]:
        gt = ground_truth[name]
        shown = {key: m.apply(rows[key][name], fill=UNMATCHED_LABEL) for key, m in matchings.items()}
        keep = ~np.isin(gt, exclude)
        scores = {key: 100.0 * float((lab == gt)[keep].mean()) for key, lab in shown.items() if keep.any()}
        out[name] = plot_segmentation(gt, shown, n_classes=max(n_classes, 1), names=names, scores=scores, title=f"{activity}: {name}")
    return out


def save_figure(fig: Any, path: str | os.PathLike[str], *, dpi: int = 100) -> Path:
    """Write ``fig`` as a PNG at ``path`` atomically (temporary file, then rename).

    Parent folders are created. If writing fails no partial file is left at ``path`` (an older
    file there is kept). Returns the path.
    """
    from asot.io.labels import atomic_write_bytes

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)  # render fully before anything touches ``path``
    return atomic_write_bytes(path, buffer.getvalue())
