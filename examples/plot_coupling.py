"""Affinity vs ASOT coupling vs ground truth on one synthetic video (in the manner of the
paper's Figure 2).

A frame-to-action affinity is built from the noise-free class prototypes of the built-in
synthetic data (cosine similarity of each frame's features with each class prototype) -- the
kind of noisy, temporally inconsistent score a model produces. ASOT (evaluation settings)
turns ``cost = 1 - affinity`` into a temporally consistent coupling. The figure shows the
affinity, the coupling (both classes x frames, ground-truth boundaries in red) and the
segmentations (ground truth, per-frame argmax of the affinity, ASOT) as colour bars.

    python examples/plot_coupling.py --out docs/figures           # the README figure
    python examples/plot_coupling.py --out /tmp/fig --tiny        # seconds, for tests

Writes ``OUT/coupling.png`` and ``OUT/segmentation.png`` and prints the per-video MoF
(Hungarian matching) of argmax and of ASOT.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import asot
from asot.data.synthetic import load_prototypes
from asot.plot import plot_coupling, plot_segmentation, save_figure


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder for the figures")
    parser.add_argument("--tiny", action="store_true", help="the tiny synthetic dataset (fast)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    parser.add_argument("--activity", default="tea", help="activity to draw (default: tea; the first when absent)")
    parser.add_argument("--dpi", type=int, default=60, help="figure resolution")
    args = parser.parse_args(argv)

    config = (asot.TINY if args.tiny else asot.DEMO).replace(seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = asot.generate_dataset(tmp, config)
        videos = asot.load_dataset(tmp, config.name, standardise=False)
        proto_feats, proto_labels = load_prototypes(folder)  # (M, D), (M,): background has several rows
    activity = args.activity if args.activity in videos.activities else videos.activities[0]
    video = max(videos.select(activity), key=lambda v: v.features.shape[0])
    classes = np.unique(np.concatenate([v.labels for v in videos.select(activity)]))

    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.linalg.norm(x, axis=-1, keepdims=True).clip(1e-12)

    # cosine similarity of each frame to each class (best of the class's prototypes): (N, K)
    centre = proto_feats.mean(axis=0)
    sims = unit(video.features - centre) @ unit(proto_feats - centre).T          # (N, M)
    affinity = np.stack([sims[:, proto_labels == c].max(axis=1) for c in classes], axis=1).astype(np.float32)
    gt = np.searchsorted(classes, video.labels)                                   # ids -> columns 0..K-1

    config_eval = asot.get_preset("default").eval_solver       # eps 0.04, alpha 0.6, r 0.04, lambda 0.01
    result = asot.solve(1.0 - affinity, config=config_eval)
    argmax = affinity.argmax(axis=1)
    mof_argmax = asot.mof(argmax, gt)
    mof_asot = asot.mof(result.labels.numpy(), gt)

    args.out.mkdir(parents=True, exist_ok=True)
    fig = plot_coupling(affinity, result.coupling, gt, titles=("affinity (cosine to class prototypes)", "ASOT coupling"),
                        title=f"{video.name}: {affinity.shape[0]} frames, K = {affinity.shape[1]}", width=8.0)
    save_figure(fig, args.out / "coupling.png", dpi=args.dpi)
    fig = plot_segmentation(gt, {f"argmax (MoF {100 * mof_argmax:.0f})": argmax,
                                 f"ASOT (MoF {100 * mof_asot:.0f})": result.labels.numpy()},
                            n_classes=affinity.shape[1])
    save_figure(fig, args.out / "segmentation.png", dpi=args.dpi)
    print(f"{video.name}: MoF argmax {100 * mof_argmax:.1f}  ASOT {100 * mof_asot:.1f}  -> {args.out}")


if __name__ == "__main__":
    main()
