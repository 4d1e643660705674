"""``asot demo``: ASOT vs the k-means baseline and the "No GW" / "Balanced OT" ablations on
the built-in synthetic dataset (spec section 7), in well under a minute on a 2-core CPU: training
uses one thread (:mod:`asot.training.threads` says why), so the slowest ablation trains in a
second process while ASOT and the other train in the first (``parallel``; the same table either
way; times in ``benchmarks/results/demo.json``).

1. generate (or reuse) the default synthetic dataset (:data:`asot.data.DEMO`) in the user cache
   folder (``$ASOT_CACHE``, else ``$XDG_CACHE_HOME/asot``, else ``~/.cache/asot``) or ``data``;
2. train ASOT per activity with the ``default`` preset (plus :data:`DEMO_OVERRIDES`) into
   ``out`` -- a full run folder (config, checkpoints, metrics.json, predictions, figures) whose
   metrics include the k-means + argmax baseline;
3. train the two ablations (Balanced OT in a second process where ``parallel``) with the same
   settings except the solver: "No GW" (``alpha = 0`` for training and evaluation) and
   "Balanced OT" (``unbalanced_actions = False``, both);
4. print the table (full-matching MoF / F1 / mIoU) and write ``out/summary.json`` last.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from asot._threads import available_cpus
from asot.data.synthetic import DEMO, SyntheticConfig, generate_dataset
from asot.io import runfolder
from asot.io.labels import write_json
from asot.ot.kernel_backend import compile_in_background
from asot.presets import Preset
from asot.training.pipeline import PipelineError, resolve_preset, train

__all__ = ["DEMO_OVERRIDES", "ablation_presets", "cache_dir", "format_table", "run_demo"]

#: changes to the ``default`` preset used by the demo: the paper's fixed radius and prior (the
#: method as published, so the demo table is the paper's ablation in miniature; the data-driven
#: choice of the ``default`` preset is measured in ``benchmarks/quality.py``)
DEMO_OVERRIDES: dict[str, Any] = {"train_radius": 0.04, "eval_radius": 0.04, "rho_auto": False, "prior_centred": False, "min_run_radii": 0.0}


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


def _details(res: Any, vp: Preset) -> dict[str, Any]:
    return {"full": res.metrics["full"], "per_video": res.metrics["per_video"], "seconds": round(res.seconds, 1),
            "train_solver": vp.train_solver.to_dict(), "eval_solver": vp.eval_solver.to_dict()}  # fmt: skip


def _train_ablation(root: Path, dataset: str, vp: Preset, accelerator: str, devices: Any,
                    trainer_kwargs: Mapping[str, Any] | None, progress: bool) -> tuple[dict[str, float], dict[str, Any]]:  # fmt: skip
    """Train one ablation; it writes nothing (no run folder, no logger: its validation passes
    would score for no one). Returns ``(full metrics, details)``."""
    kwargs = {"limit_val_batches": 0, **dict(trainer_kwargs or {})}
    res = train(root, dataset, None, preset=vp, baseline=False, figures=False, progress=progress,
                accelerator=accelerator, devices=devices, trainer_kwargs=kwargs)  # fmt: skip
    return res.metrics["full"], _details(res, vp)


def _train_ablations(root: Path, dataset: str, variants: Mapping[str, Preset], accelerator: str,
                     devices: Any) -> dict[str, Any]:  # fmt: skip
    """The second process's work: every ablation in turn (no progress bar, no trainer settings)."""
    return {name: _train_ablation(root, dataset, vp, accelerator, devices, None, False) for name, vp in variants.items()}


def _second_process(parallel: bool | None, accelerator: str, progress: bool, trainer_kwargs: Any) -> bool:
    """Whether the ablations train in a second process beside ASOT: asked for, or (``None``) on a
    CPU run with at least two CPUs, no progress bars and no trainer settings (which need not
    pickle). Training uses one thread (:mod:`asot.training.threads`), so on two cores the two
    processes do not compete; the results are the same either way (fixed seeds)."""
    if parallel is not None:
        return bool(parallel)
    return accelerator == "cpu" and available_cpus() >= 2 and not progress and not trainer_kwargs


def _ablations_in_background(root: Path, dataset: str, variants: Mapping[str, Preset], accelerator: str,
                             devices: Any) -> tuple[Any, Any]:  # fmt: skip
    """Start the ablations in a fresh (spawned) process: ``(executor, future)``."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return executor, executor.submit(_train_ablations, root, dataset, dict(variants), accelerator, devices)


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
    parallel: bool | None = None,
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
        parallel: train the ablations in a second process while ASOT trains (``None``: on a CPU
            run with two or more CPUs; see :func:`_second_process`). Same table either way.
    """
    say = echo or (lambda _s: None)
    if accelerator == "cpu":  # ASOT's first solve waits less for a cold numba cache (not in the second process)
        compile_in_background()
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
    overwrite = _demo_folder(out, synthetic.name)
    others = {n: vp for n, vp in variants.items() if n != "ASOT"}
    side = None
    if others and _second_process(parallel, accelerator, progress, trainer_kwargs):
        # the last ablation (Balanced OT: the torch solver path, the slowest) beside ASOT, the
        # others after ASOT here: about equal halves (benchmarks/demo.py)
        beside = dict(list(others.items())[-1:])
        others = {n: vp for n, vp in others.items() if n not in beside}
        say(f"training {', '.join(beside)} in a second process ...")
        side = _ablations_in_background(root, synthetic.name, beside, accelerator, devices)
    try:
        say("training ASOT ...")
        res = train(root, synthetic.name, out, preset=p, baseline=True, figures=True, progress=progress,
                    accelerator=accelerator, devices=devices, trainer_kwargs=dict(trainer_kwargs or {}),
                    overwrite=overwrite)  # fmt: skip
        rows["ASOT"], details["ASOT"] = res.metrics["full"], _details(res, p)
        base = res.metrics["baseline"]
        rows["k-means + argmax"] = base["full"]
        details["k-means + argmax"] = {"full": base["full"], "per_video": base["per_video"]}
        done = {}
        for name, vp in others.items():
            say(f"training {name} ...")
            done[name] = _train_ablation(root, synthetic.name, vp, accelerator, devices, trainer_kwargs, progress)
        if side is not None:
            try:
                done.update(side[1].result())
            except BrokenProcessPool:  # the second process died (killed, out of memory): train here
                say(f"the second process ended early; training {', '.join(beside)} here ...")
                for name, vp in beside.items():
                    done[name] = _train_ablation(root, synthetic.name, vp, accelerator, devices, trainer_kwargs, progress)
    finally:
        if side is not None:
            side[0].shutdown(wait=True, cancel_futures=True)
    for name, (full, detail) in done.items():
        rows[name], details[name] = full, detail
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
