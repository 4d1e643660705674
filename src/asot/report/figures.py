"""PNG segmentation figures of scored predictions (``asot evaluate --plot``).

Each figure shows a video's ground truth and its prediction(s) after the same Hungarian
matching the metrics use (one over all videos, or one per video with ``per_video``), class
names in the legend, unmatched clusters black, and each row's MoF in its label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["write_matched_figures"]


def write_matched_figures(out_dir: str | Path, gts: Mapping[str, np.ndarray], preds: Mapping[str, Mapping[str, np.ndarray]], *,
                          names: Mapping[int, str] | None = None, exclude: Sequence[int] = (), per_video: bool = False,
                          limit: int | None = None) -> list[Path]:  # fmt: skip
    """Write ``out_dir/<video>.png`` for the first ``limit`` videos of ``gts`` (default all).

    ``preds``: ``{row: {video: cluster ids}}`` (e.g. ``{"prediction": ...}``). Returns the paths.
    """
    from asot.metrics.matching import hungarian_match, match_full
    from asot.plot import UNMATCHED_LABEL, plot_segmentation, save_figure

    videos = [v for v in gts if all(v in p for p in preds.values())]
    exclude = tuple(int(e) for e in exclude)
    full = {} if per_video else {
        row: match_full([p[v] for v in videos], [gts[v] for v in videos], exclude=exclude)
        for row, p in preds.items() if videos
    }  # fmt: skip
    n_classes = 1 + max([int(g.max()) for g in gts.values() if g.size] + [0])
    out = []
    for v in videos[: len(videos) if limit is None else max(0, int(limit))]:
        gt = gts[v]
        keep = ~np.isin(gt, exclude)
        shown, scores = {}, {}
        for row, p in preds.items():
            m = full[row] if not per_video else hungarian_match(p[v], gt, exclude=exclude)
            shown[row] = m.apply(p[v], fill=UNMATCHED_LABEL)
            if keep.any():
                scores[row] = 100.0 * float((shown[row] == gt)[keep].mean())
        fig = plot_segmentation(gt, shown, n_classes=max(n_classes, 1), names=names, scores=scores, title=v)
        out.append(save_figure(fig, Path(out_dir) / f"{v}.png"))
    return out
