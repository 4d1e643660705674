"""Post-process a model's per-frame outputs with ASOT (paper section 7.4) and score them.

Simulates a supervised model's output on the tiny synthetic dataset -- per-frame class
probabilities ``(classes, frames)`` as MS-TCN writes them, right on average but noisy from frame
to frame -- saves one ``.npy`` per video, then

1. segments them with :func:`asot.segment_videos` (the library form of ``asot segment``),
   writing groundTruth-format label files to ``OUT/pred/``;
2. scores argmax and ASOT with :func:`asot.segmentation_report` (frame accuracy, edit,
   F1@{10,25,50} on the labels as given: the supervised metrics of the paper's Table 3);
3. compares every decoder with :func:`asot.compare_decoders`.

The same from the command line::

    asot segment OUT/outputs --kind prob --transpose --out OUT/pred --eps 0.02
    asot evaluate --pred OUT/pred --gt OUT/gt --mapping OUT/mapping.txt
    asot compare OUT/outputs --kind prob --transpose --gt OUT/gt --mapping OUT/mapping.txt --supervised

Run: ``python examples/postprocess_model_outputs.py --out /tmp/post [--tiny]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

import asot


def fake_model_outputs(labels: np.ndarray, n_classes: int, rng: np.random.Generator, noise: float = 1.6) -> np.ndarray:
    """``(K, N)`` probabilities: softmax of a one-hot signal plus white noise per frame."""
    logits = 2.0 * np.eye(n_classes)[labels] + noise * rng.standard_normal((labels.size, n_classes))
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (probs / probs.sum(axis=1, keepdims=True)).T.astype(np.float32)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tiny", action="store_true", help="the tiny synthetic dataset (the default is the demo data)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    data_config = (asot.TINY if args.tiny else asot.DEMO).replace(seed=args.seed)
    outputs, gt_dir = args.out / "outputs", args.out / "gt"
    for folder in (outputs, gt_dir):
        folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = asot.generate_dataset(tmp, data_config)
        videos = asot.load_dataset(tmp, data_config.name)
        n_classes = max(int(v.labels.max()) for v in videos) + 1
        gts = {}
        for video in videos:
            np.save(outputs / f"{video.name}.npy", fake_model_outputs(video.labels, n_classes, rng))
            shutil.copy(base / "groundTruth" / video.name, gt_dir / video.name)
            gts[video.name] = video.labels
        shutil.copy(base / "mapping" / "mapping.txt", args.out / "mapping.txt")

    # 1. segment (files -> label files); eps 0.02 suits sharp supervised probabilities
    report = asot.segment_videos([outputs], kind="prob", transpose=True, out=args.out / "pred",
                                 mapping=args.out / "mapping.txt", eps=0.02, overwrite=True)  # our own output folder
    print(f"segmented {len(report.written)} videos -> {args.out / 'pred'}")

    # 2. the same in memory, and scores against the ground truth (labels as given)
    probs = {name: np.load(outputs / f"{name}.npy") for name in gts}
    asot_labels = asot.segment_videos(probs, kind="prob", transpose=True, eps=0.02)
    names = list(gts)
    scores = {
        "argmax": asot.segmentation_report([probs[n].argmax(axis=0) for n in names], [gts[n] for n in names]),
        "ASOT": asot.segmentation_report([asot_labels[n].labels for n in names], [gts[n] for n in names]),
    }
    # 3. every decoder on the same costs
    costs = {n: asot.to_cost(probs[n], "prob", transpose=True) for n in names}
    table = asot.compare_decoders(costs, gts, supervised=True)
    keys = ("accuracy", "edit", "f1@10", "f1@25", "f1@50")
    for name, row in table.items():
        print(f"{name:<10}" + "  ".join(f"{k} {row[k]:5.1f}" for k in keys) + f"  segments/video {row['segments']:.1f}")
    (args.out / "scores.json").write_text(json.dumps(
        {"report": {m: {k: s[k] for k in keys} for m, s in scores.items()},
         "compare": {d: {k: r[k] for k in (*keys, "segments")} for d, r in table.items()}}, indent=2))


if __name__ == "__main__":
    main()
