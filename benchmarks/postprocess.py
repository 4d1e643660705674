"""Table 3 in miniature: ASOT as post-processing of a good but jittery supervised model.

The paper (section 7.4, Table 3) applies ASOT to the per-frame class probabilities of
MS-TCN++ on 50 Salads: frame accuracy stays, edit and F1@{10,25,50} rise sharply (single-stage
model: edit 36.3 -> 72.5). This script reproduces the effect on synthetic, seeded outputs that
have the failure modes of such a model:

* the correct class wins most frames, with a per-video confidence level;
* temporally correlated noise on every class, so errors come as short runs, not single frames;
* short spurious flips (bursts of 3-25 frames where a wrong class wins) -- over-segmentation;
* blurred boundaries (the neighbouring segment's class is likely near a transition);
* a confusable partner per class that is boosted along whole stretches of a segment.

It decodes every video with every decoder (``asot``, ``argmax``, ``sinkhorn``, ``viterbi``,
``median``) through :func:`asot.postprocess.compare_decoders`, prints the supervised metrics of
MS-TCN's ``eval.py`` (frame accuracy, segmental edit, F1@{10,25,50}) and writes them as JSON.

Usage::

    python benchmarks/postprocess.py [--videos 40] [--seed 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import asot
from asot.decoders import DEFAULT_DECODE_CONFIG
from asot.postprocess import SUPERVISED_KEYS, build_decoders, compare_decoders
from asot.scores import to_cost

#: ASOT settings: the library's decoding defaults (the paper's eval settings, spec section 3):
#: eps 0.04, alpha 0.6, radius 0.04, lambda 0.01, 25 iterations, unbalanced actions.
ASOT_SETTINGS = DEFAULT_DECODE_CONFIG
#: cost of a probability: 1 - p (ASOT's native scale)
PROB_COST = "one-minus"


@dataclass(frozen=True)
class JitterModel:
    """Knobs of the synthetic supervised model (defaults: argmax accuracy ~76 %, edit ~27)."""

    n_classes: int = 12
    segments_min: int = 6
    segments_max: int = 12
    mean_segment: float = 180.0  # frames; segment lengths are lognormal around this
    segment_sigma: float = 0.9
    min_segment: int = 15
    margin: float = 3.0  # logit advantage of the true class (scaled per video)
    noise: float = 0.35  # std of the smoothed per-class logit noise
    noise_smooth: int = 31  # frames of temporal correlation of the noise
    flip_rate: float = 1.0 / 200  # spurious bursts per frame
    flip_min: int = 2
    flip_max: int = 12
    flip_strength: float = 4.0
    boundary_blur: int = 20  # frames over which the neighbouring class fades in
    confusion: float = 0.3  # probability that a segment has a confusable-partner stretch
    confusion_strength: float = 3.4  # > margin: the partner wins the stretch
    mislabel: float = 0.15  # probability that a whole segment is predicted as its partner


def _smooth_noise(rng: np.random.Generator, n: int, k: int, width: int) -> np.ndarray:
    raw = rng.standard_normal((n + width, k))
    kernel = np.hanning(width + 2)[1:-1]
    kernel /= np.sqrt((kernel**2).sum())  # keep unit variance
    out = np.stack([np.convolve(raw[:, j], kernel, mode="valid")[:n] for j in range(k)], axis=1)
    return out


def make_video(rng: np.random.Generator, model: JitterModel, partner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One video's ``(probabilities (N, K), ground truth (N,))``."""
    k = model.n_classes
    n_segments = int(rng.integers(model.segments_min, model.segments_max + 1))
    # a loose canonical order with local swaps, skipped and (rarely) repeated classes
    labels = list(rng.permutation(k)[:n_segments])
    if n_segments > 3 and rng.random() < 0.3:
        labels.insert(int(rng.integers(2, n_segments)), labels[int(rng.integers(0, n_segments - 2))])
    labels = [c for i, c in enumerate(labels) if i == 0 or c != labels[i - 1]]
    lengths = np.maximum(model.min_segment, rng.lognormal(np.log(model.mean_segment), model.segment_sigma, len(labels))).astype(int)
    gt = np.repeat(np.array(labels), lengths)
    n = gt.size
    scale = rng.uniform(0.8, 1.2)  # per-video confidence
    logits = model.noise * _smooth_noise(rng, n, k, model.noise_smooth)
    logits[np.arange(n), gt] += model.margin * scale
    # blurred boundaries: the neighbouring class fades in near each transition
    bounds = np.cumsum(lengths)[:-1]
    for b, (left, right) in zip(bounds, zip(labels[:-1], labels[1:])):
        for d in range(model.boundary_blur):
            w = model.margin * scale * (1.0 - d / model.boundary_blur) * 0.9
            if b - 1 - d >= 0:
                logits[b - 1 - d, right] += w
            if b + d < n:
                logits[b + d, left] += w
    # confusable partner boosted over a stretch of some segments
    starts = np.concatenate([[0], bounds])
    for s, length, c in zip(starts, lengths, labels):
        if rng.random() < model.mislabel:
            logits[s : s + length, partner[c]] += model.margin * scale * rng.uniform(1.1, 1.5)
        elif rng.random() < model.confusion:
            span = int(rng.integers(length // 6, length // 2 + 1))
            at = int(s + rng.integers(0, length - span + 1))
            logits[at : at + span, partner[c]] += model.confusion_strength * rng.uniform(0.7, 1.3)
    # short spurious flips: over-segmentation
    n_flips = rng.poisson(model.flip_rate * n)
    for _ in range(n_flips):
        length = int(rng.integers(model.flip_min, model.flip_max + 1))
        at = int(rng.integers(0, max(1, n - length)))
        wrong = int(rng.integers(0, k))
        logits[at : at + length, wrong] += model.flip_strength * rng.uniform(0.6, 1.2)
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return probs.astype(np.float32), gt.astype(np.int64)


def make_dataset(n_videos: int, seed: int, model: JitterModel = JitterModel()) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``({video: probabilities}, {video: ground truth})``, deterministic given ``seed``."""
    rng = np.random.default_rng(seed)
    partner = rng.permutation(model.n_classes)
    partner = np.where(partner == np.arange(model.n_classes), (partner + 1) % model.n_classes, partner)
    probs, gts = {}, {}
    for v in range(n_videos):
        p, g = make_video(rng, model, partner)
        probs[f"video_{v:03d}"] = p
        gts[f"video_{v:03d}"] = g
    return probs, gts


def run(n_videos: int = 40, seed: int = 0, config: asot.SolverConfig = ASOT_SETTINGS, median_window: int = 15) -> dict:
    probs, gts = make_dataset(n_videos, seed)
    costs = {name: to_cost(p, "prob", prob_cost=PROB_COST, name=name) for name, p in probs.items()}
    decoders = build_decoders(config=config, options={"median": {"window": median_window}})
    table = compare_decoders(costs, gts, decoders, supervised=True)
    return {
        "n_videos": n_videos,
        "seed": seed,
        "frames": int(sum(g.size for g in gts.values())),
        "gt_segments": float(np.mean([1 + np.count_nonzero(np.diff(g)) for g in gts.values()])),
        "model": asdict(JitterModel()),
        "prob_cost": PROB_COST,
        "asot": config.to_dict(),
        "median_window": median_window,
        "decoders": table,
    }


def format_result(result: dict) -> str:
    keys = (*SUPERVISED_KEYS, "segments", "time_s")
    lines = [
        f"{result['n_videos']} synthetic videos, {result['frames']} frames, "
        f"{result['gt_segments']:.1f} true segments per video (seed {result['seed']})",
        "ASOT: " + ", ".join(f"{k}={v}" for k, v in result["asot"].items() if k in ("eps", "alpha", "radius", "lambda_actions", "n_iters"))
        + f"; cost = 1 - p",
        f"{'decoder':<9}" + "".join(f"  {k:>8}" for k in keys),
    ]
    for name, row in result["decoders"].items():
        lines.append(f"{name:<9}" + "".join(f"  {row[k]:>8.2f}" for k in keys))
    a, b = result["decoders"]["asot"], result["decoders"]["argmax"]
    lines.append(
        f"asot - argmax: accuracy {a['accuracy'] - b['accuracy']:+.2f}, edit {a['edit'] - b['edit']:+.2f}, "
        + ", ".join(f"{k} {a[k] - b[k]:+.2f}" for k in ("f1@10", "f1@25", "f1@50"))
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=Path(__file__).resolve().parent / "results" / "postprocess.json")
    parser.add_argument("--median-window", type=int, default=15)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    result = run(args.videos, args.seed, median_window=args.median_window)
    print(format_result(result))
    print(f"({time.perf_counter() - start:.1f} s)")
    if args.json:
        from asot.io.labels import write_json

        write_json(args.json, result)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
