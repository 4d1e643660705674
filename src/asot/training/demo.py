"""``asot demo``: ASOT vs the k-means baseline and the "No GW" / "Balanced OT" ablations on
the built-in synthetic dataset (spec section 7), in about a minute on a 2-core CPU (58 s with a
warm numba cache, 70 s from a fresh clone, measured at load average 5; :mod:`asot.training.threads`
says why training uses one thread).

1. generate (or reuse) the default synthetic dataset (:data:`asot.data.DEMO`) in the user cache
   folder (``$ASOT_CACHE``, else ``$XDG_CACHE_HOME/asot``, else ``~/.cache/asot``) or ``data``;
2. train ASOT per activity with the ``default`` preset (plus :data:`DEMO_OVERRIDES`) into
   ``out`` -- a full run folder (config, checkpoints, metrics.json, predictions, figures) whose
   metrics include the k-means + argmax baseline;
3. train the two ablations with the same settings except the solver: "No GW" (``alpha = 0``
   for training and evaluation) and "Balanced OT" (``unbalanced_actions = False``, both);
4. print the table (full-matching MoF / F1 / mIoU) and write ``out/summary.json`` last.
"""

from __future__ import annotations

import json

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from asot.data.synthetic import DEMO, SyntheticConfig, generate_dataset
from asot.io import runfolder
from asot.io.labels import write_json
from asot.presets import Preset
from asot.training.pipeline import PipelineError, resolve_preset, train

__all__ = ["DEMO_OVERRIDES", "ablation_presets", "cache_dir", "format_table", "run_demo"]

#: changes to the ``default`` preset used by the demo: the paper's fixed radius and prior (the
#: method as published, so the demo table is the paper's ablation in miniature; the data-driven
#: choice of the ``default`` preset is measured in ``benchmarks/quality.py``)
DEMO_OVERRIDES: dict[str, Any] = {"train_radius": 0.04, "eval_radius": 0.04, "rho_auto": False}


def cache_dir() -> Path:
    """The user cache folder of ``asot``."""
    if os.environ.get("ASOT_CACHE"):
        return Path(os.environ["ASOT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "asot"


def ablation_presets(preset: Preset) -> dict[str, Preset]:
    """The compared settings: ASOT itself and the solver ablations of the paper's Table 2."""
    return {
        "ASOT": preset,
        "No GW": preset.replace(train_alpha=0.0, eval_alpha=0.0),
        "Balanced OT": preset.replace(train_unbalanced_actions=False, eval_unbalanced_actions=False),
    }


def format_table(rows: Mapping[str, Mapping[str, float]]) -> str:
    """A plain-text table of full-matching MoF / F1 / mIoU (percent)."""
    lines = [f"{'method':<22}{'MoF':>8}{'F1':>8}{'mIoU':>8}", "-" * 46]
    for name, m in rows.items():
        lines.append(f"{name:<22}{m['mof']:>8.1f}{m['f1']:>8.1f}{m['miou']:>8.1f}")
    return "\n".join(lines)


def _demo_folder(out: Path, dataset: str) -> bool:
    """Whether ``out`` holds an earlier demo (its summary, or a run on the demo's data)."""
    if (out / "summary.json").is_file():
        return True
    try:
        return json.loads((out / "config.json").read_text()).get("dataset") == dataset
    except (OSError, ValueError, AttributeError):
        return False


def run_demo(
    out: str | Path,
    *,
    data: str | Path | None = None,
    synthetic: SyntheticConfig = DEMO,
    preset: str | Preset = "default",
    overrides: Mapping[str, Any] | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    ablations: bool = True,
    progress: bool = False,
    echo: Callable[[str], None] | None = print,
    accelerator: str = "cpu",
    devices: Any = 1,
    trainer_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the demo; returns the ``summary.json`` content.

    Args:
        out: the run folder (the ASOT run; ablations are evaluated without writing outputs).
        data: folder holding (or to hold) the synthetic dataset (default: the cache folder).
        synthetic: which synthetic dataset (tests use :data:`asot.data.TINY`).
        preset, overrides, epochs, seed: the ASOT settings (default: ``default`` preset with
            :data:`DEMO_OVERRIDES`).
        ablations: also train "No GW" and "Balanced OT".
        echo: where progress lines and the table go (``None``: silent).
        accelerator, devices: where to train (Lightning's settings, as for :func:`train`).
    """
    say = echo or (lambda _s: None)
    root = Path(data) if data is not None else cache_dir() / "data"
    if root.exists() and not root.is_dir():
        raise PipelineError(f"{root}: the data path exists and is not a folder")
    try:
        path = generate_dataset(root, synthetic)
    except OSError as err:  # an existing file in the way, a read-only place
        raise PipelineError(f"{err.filename or root}: cannot write the synthetic dataset ({err.strerror or err})", usage=False) from None
    say(f"synthetic dataset: {path}")
    p = resolve_preset(preset, epochs=epochs, seed=seed, **{**DEMO_OVERRIDES, **dict(overrides or {})})
    variants = ablation_presets(p) if ablations else {"ASOT": p}
    rows: dict[str, dict[str, float]] = {}
    details: dict[str, Any] = {}
    out = Path(out)
    if not _demo_folder(out, synthetic.name) and runfolder.has_results(out):
        raise PipelineError(f"{out}: holds an asot run of other data; asot demo replaces only an earlier demo, "
                            "so choose another --out")  # fmt: skip
    for name, vp in variants.items():
        say(f"training {name} ...")
        # a demo folder is the demo's own: a re-run replaces it once the new run is complete; a
        # finished run of other data there is an error (asot train --overwrite replaces that)
        # the ablations write nothing (no logger): their validation passes would score for no one
        kwargs = dict(trainer_kwargs or {}) if name == "ASOT" else {"limit_val_batches": 0, **dict(trainer_kwargs or {})}
        res = train(root, synthetic.name, out if name == "ASOT" else None, preset=vp, baseline=name == "ASOT",
                    figures=True, progress=progress, accelerator=accelerator, devices=devices,
                    trainer_kwargs=kwargs, overwrite=_demo_folder(out, synthetic.name))  # fmt: skip
        rows[name] = res.metrics["full"]
        details[name] = {"full": res.metrics["full"], "per_video": res.metrics["per_video"],
                         "seconds": round(res.seconds, 1), "train_solver": vp.train_solver.to_dict(),
                         "eval_solver": vp.eval_solver.to_dict()}  # fmt: skip
        if name == "ASOT":
            base = res.metrics["baseline"]
            rows["k-means + argmax"] = base["full"]
            details["k-means + argmax"] = {"full": base["full"], "per_video": base["per_video"]}
    order = [n for n in ("ASOT", "k-means + argmax", "No GW", "Balanced OT") if n in rows]
    rows = {n: rows[n] for n in order}
    table = format_table(rows)
    say(table)
    summary = {
        "dataset": str(path),
        "preset": p.to_dict(),
        "table": rows,
        "methods": {n: details[n] for n in order},
        "matching": "full (Hungarian per activity; MoF pools frames over activities, F1/mIoU averaged over activities)",
    }
    write_json(out / "summary.json", summary)
    return summary
