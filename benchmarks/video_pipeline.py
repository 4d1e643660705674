"""``asot video`` end to end on encoded synthetic videos, over seeds.

``python benchmarks/video_pipeline.py [--seeds 0 1 2 3 4] [--json benchmarks/results/video_pipeline.json]``

The collection is :data:`asot.video.synthetic.COLLECTION` (3 H.264 videos, 64 px, 10 fps, 4-6
scenes of 5, repeated within and across videos, pixel noise and camera drift), embedded with
``random:resnet18`` at 4 fps and 64 px, trained with ``asot video``'s settings and K = 5;
the seed is the training seed and the random backbone's. Per video: MoF (percent, the video's
own Hungarian matching), the largest boundary error in seconds (inf when the number of scene
changes is wrong); per seed also MoF over the collection with one matching, and the wall time.
The test (``tests/video/test_video_pipeline.py``) runs seed 0 with the same settings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def run_seed(seed: int, folder: Path) -> dict:
    from asot.metrics import mof
    from asot.video.extract import FeatureConfig, read_sidecar
    from asot.video.pipeline import train_on_videos
    from asot.video.synthetic import COLLECTION, COLLECTION_SCENES, score_segmentation, write_collection

    videos = write_collection(folder / "videos", COLLECTION, n_scenes=COLLECTION_SCENES, seed=10)
    start = time.perf_counter()
    result = train_on_videos(folder / "videos", folder / "run", COLLECTION_SCENES, seed=seed, device="cpu", workers=0,
                             progress=False, figures=False,
                             features=FeatureConfig(backbone="random:resnet18", fps=4, image_size=64, seed=seed))  # fmt: skip
    seconds = time.perf_counter() - start
    rows, preds, truths = {}, [], []
    for name, video in videos.items():
        times = np.asarray(read_sidecar(folder / "run" / "data" / "videos" / "features" / f"{name}.json")["timestamps"])
        labels = result.predictions[name]
        video_mof, errors = score_segmentation(video, labels, times)
        rows[name] = {"mof": round(video_mof, 2), "max_boundary_error_s": round(max(errors), 3)}
        preds.append(labels)
        truths.append(video.frame_labels[np.round(times * video.fps).astype(int)])
    return {"seed": seed, "videos": rows, "collection_mof": round(100 * mof(preds, truths), 2), "seconds": round(seconds, 1),
            "target_met": all(r["mof"] >= 90 and r["max_boundary_error_s"] <= 1.0 for r in rows.values())}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    results = []
    print(f"{'seed':>4}  {'video':>5}  {'MoF':>6}  {'max |boundary err| s':>20}  {'collection MoF':>14}  {'s':>6}")
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            res = run_seed(seed, Path(tmp))
        results.append(res)
        for i, (name, row) in enumerate(res["videos"].items()):
            tail = f"  {res['collection_mof']:>14.1f}  {res['seconds']:>6.1f}" if i == 0 else ""
            print(f"{seed:>4}  {name:>5}  {row['mof']:>6.1f}  {row['max_boundary_error_s']:>20.2f}{tail}")
    met = sum(r["target_met"] for r in results)
    print(f"target (every video MoF >= 90 and every boundary within 1 s) met for {met} of {len(results)} seeds")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(),
                                         "load_average": [round(load_start, 2), round(os.getloadavg()[0], 2)],
                                         "results": results, "target_met_seeds": met}, indent=2) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
