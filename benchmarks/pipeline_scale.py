"""``asot train`` at Breakfast scale, end to end and per phase: wall time and peak memory (issue 18).

The data: a synthetic dataset of Breakfast's size (:class:`asot.data.SyntheticConfig`,
:func:`asot.data.generate_dataset`): one activity (``coffee``, K = 7) of 170 videos of
600-6,000 frames (log-uniform; ~2,400 on average), 64-d features; ``--activities 10``: all ten
Breakfast activity names with their K (1,700 videos). The run: the ``breakfast`` preset
(15 epochs, batch 2 x 256 frames) with everything ``asot train`` writes (checkpoints, logs,
predictions, segment tables, figures, report, metrics with the baselines).

Each run is a fresh interpreter (``--child``) that wraps the pipeline's steps to time them:

==========  ===========================================================================
phase       what
==========  ===========================================================================
import      starting Python and importing torch, Lightning and the pipeline
load        :func:`asot.training.pipeline.load_videos` (read, standardise)
init        the k-means initialisation of the action embeddings (and the recurrence /
            radius measurements when the preset asks for them)
epochs      ``Trainer.fit`` without ``init``: the training epochs, validation, checkpoints
segment     ``Trainer.test``: every frame of every video segmented (eval solver) and scored
baselines   the training-free baselines (k-means on the input features, k-means + ASOT, ...;
            their k-means fit runs before training, the rest after it)
metrics     aggregation over activities and the chosen settings
write       predictions, segment tables, figures, report, config/metrics JSON
other       the rest (checks, Trainer construction, run-folder lock and publish)
==========  ===========================================================================

Wall seconds are exclusive (an inner phase is not counted in its outer one); the peak resident
set of a phase is ``VmHWM`` over it (reset at its start through ``/proc/self/clear_refs``, which
resets ``ru_maxrss`` too, so the whole run's peak is the largest phase peak). The anchor (quoted, not re-run): the published code took
4:51-8:44 for one Breakfast-sized activity on a 2-core Intel Xeon, peak 0.55 GB; asot before
issue 18 took 0:45-2:35 with a 1.1-1.2 GB peak on the same kind of machine.

Usage::

    python benchmarks/pipeline_scale.py [--activities 1|10] [--repeats 1] [--tree NAME=SRC ...]
                                        [--quick] [--json benchmarks/results/pipeline_scale.json]

``--tree before=/path/to/old/src --tree after=src`` runs each tree in turn (alternating, for
A/B on a loaded machine); ``--quick``: 12 videos of 600-1,200 frames, 2 epochs (a smoke run).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PHASES = ("import", "load", "init", "epochs", "segment", "baselines", "metrics", "write", "other")
#: Breakfast's activities and their K (asot.presets.BREAKFAST_K), the published code's anchor
BREAKFAST = {"coffee": 7, "cereals": 5, "tea": 7, "milk": 5, "juice": 8, "sandwich": 9, "scrambledegg": 12,
             "friedegg": 9, "salat": 8, "pancake": 14}  # fmt: skip
ANCHOR = {"published code": {"wall_s": [291, 524], "peak_gb": 0.55},
          "asot before issue 18": {"wall_s": [45, 155], "peak_gb": [1.1, 1.2]},
          "machine": "2-core Intel Xeon (issue 18)"}  # fmt: skip
TARGET = {"speedup_vs_291_s": 5.0, "peak_gb": 0.6}


def dataset_config(activities: int = 1, quick: bool = False) -> Any:
    """The Breakfast-scale :class:`~asot.data.SyntheticConfig` (``quick``: 12 short videos)."""
    from asot.data.synthetic import SyntheticConfig

    names = tuple(BREAKFAST)[:activities]
    return SyntheticConfig(
        name=f"BreakfastScale{activities}" + ("Quick" if quick else ""), seed=0, n_activities=activities,
        activity_names=names, n_videos=12 if quick else 170, n_frames=(600, 1200) if quick else (600, 6000),
        n_actions=tuple(BREAKFAST[n] for n in names), background=(0.15,), duration_spread=(0.8,), feature_dim=64,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# the child: one timed run in a fresh interpreter


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current resident set
        return True
    except OSError:
        return False


class PhaseClock:
    """Exclusive wall seconds and peak resident set per phase name (nested phases allowed)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {p: 0.0 for p in PHASES}
        self.peak_mb: dict[str, float] = {p: 0.0 for p in PHASES}
        self.calls: dict[str, int] = {p: 0 for p in PHASES}
        self._stack: list[list[Any]] = []  # [name, start, time spent in inner phases]
        self._wrapped: list[tuple[Any, str, Any]] = []

    def _fold_peak(self, name: str) -> None:
        self.peak_mb[name] = max(self.peak_mb[name], _status_kb("VmHWM") / 1024)

    @contextlib.contextmanager
    def phase(self, name: str):
        if self._stack:  # the outer phase's peak so far, before the reset hides it
            self._fold_peak(self._stack[-1][0])
        _reset_peak()
        self._stack.append([name, time.perf_counter(), 0.0])
        try:
            yield
        finally:
            _, start, inner = self._stack.pop()
            spent = time.perf_counter() - start
            self.seconds[name] += spent - inner
            self.calls[name] += 1
            self._fold_peak(name)
            if self._stack:
                self._stack[-1][2] += spent
                self._fold_peak(self._stack[-1][0])

    def wrap(self, owner: Any, attr: str, name: str) -> None:
        """Time ``owner.attr`` as phase ``name`` (nothing when an older tree has no such function)."""
        original = getattr(owner, attr, None)
        if original is None:
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.phase(name):
                return original(*args, **kwargs)

        self._wrapped.append((owner, attr, original))
        setattr(owner, attr, timed)

    def unwrap(self) -> None:
        """Put back every wrapped function."""
        while self._wrapped:
            owner, attr, original = self._wrapped.pop()
            setattr(owner, attr, original)


def run_child(data: Path, dataset: str, out: Path, epochs: int, started: float) -> dict[str, Any]:
    """Train once with every phase timed; returns the row (``started``: the interpreter's start)."""
    import torch
    from lightning.pytorch import Trainer

    import asot.training.baselines as baselines
    import asot.training.chosen as chosen
    from asot.models.lit_module import ASOTModule
    from asot.training import pipeline as P

    clock = PhaseClock()
    clock.seconds["import"] = time.perf_counter() - started
    clock.peak_mb["import"] = _status_kb("VmHWM") / 1024
    clock.calls["import"] = 1
    for owner, attr, name in ((P, "load_videos", "load"), (ASOTModule, "initialise_actions", "init"),
                              (ASOTModule, "measure_videos", "init"), (Trainer, "fit", "epochs"), (Trainer, "test", "segment"),
                              (baselines, "fit_activity_kmeans", "baselines"), (baselines, "score_baselines", "baselines"),
                              (P, "aggregate_activities", "metrics"),
                              (chosen, "chosen_settings", "metrics"), (P, "write_predictions", "write"),
                              (P, "write_segments", "write"), (P, "write_figures", "write"), (P, "_write_report", "write"),
                              (P, "write_json", "write")):  # fmt: skip
        clock.wrap(owner, attr, name)
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda"):
        import logging

        logging.getLogger(name).setLevel(logging.WARNING)
    t0 = time.perf_counter()
    try:
        with clock.phase("other"):
            result = P.train(data, dataset, out, preset="breakfast", epochs=epochs, seed=0)
    finally:
        clock.unwrap()
    total = time.perf_counter() - started
    frames = sum(len(p) for p in result.predictions.values())
    return {
        "wall_s": round(total, 2), "train_s": round(time.perf_counter() - t0, 2),
        "cpu_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 2),
        # clear_refs resets ru_maxrss too: the run's peak is the largest phase peak
        "peak_mb": round(max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, *clock.peak_mb.values()]), 1),
        "phases": {p: {"s": round(clock.seconds[p], 2), "peak_mb": round(clock.peak_mb[p], 1), "calls": clock.calls[p]} for p in PHASES},
        "videos": len(result.predictions), "frames": frames, "torch_threads_after": torch.get_num_threads(),
        "mof": round(result.metrics["full"]["mof"], 2), "f1": round(result.metrics["full"]["f1"], 2),
        "miou": round(result.metrics["full"]["miou"], 2),
        "baseline_mof": round(result.metrics.get("baseline", {}).get("full", {}).get("mof", float("nan")), 2),
    }  # fmt: skip


# ------------------------------------------------------------------------------------------
# the parent: data, subprocesses, table, JSON


def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def run_tree(src: str, data: Path, dataset: str, epochs: int, threads: int | None, timeout: float) -> dict[str, Any]:
    """One timed run of the source tree ``src`` in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    with tempfile.TemporaryDirectory(prefix="asot-scale-") as tmp:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--data", str(data), "--dataset", dataset,
               "--out", str(Path(tmp) / "run"), "--epochs", str(epochs)]  # fmt: skip
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"run of {src} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def format_table(rows: list[dict[str, Any]]) -> str:
    head = f"{'tree':<10}{'wall s':>8}{'cpu s':>8}{'peak MB':>9}" + "".join(f"{p:>11}" for p in PHASES) + f"{'MoF':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        cells = "".join(f"{r['phases'][p]['s']:>6.1f}/{r['phases'][p]['peak_mb']:>4.0f}" for p in PHASES)
        lines.append(f"{r['tree']:<10}{r['wall_s']:>8.1f}{r['cpu_s']:>8.1f}{r['peak_mb']:>9.0f}{cells}{r['mof']:>7.1f}")
    lines.append("(phase cells: exclusive wall seconds / peak resident MB during the phase)")
    return "\n".join(lines)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--activities", type=int, default=1, choices=(1, 10))
    ap.add_argument("--quick", action="store_true", help="12 videos of 600-1,200 frames, 2 epochs")
    ap.add_argument("--epochs", type=int, default=None, help="default: 15 (the breakfast preset), 2 with --quick")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--tree", action="append", default=None, help="NAME=SRC (default: this checkout's src)")
    ap.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS for the runs (default: unset)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "asot-pipeline-scale", help="where the dataset is generated")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--json", type=Path, default=None, help="default: benchmarks/results/pipeline_scale.json (not written with --quick)")
    # the child's arguments
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--dataset", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        started = time.perf_counter() - (time.time() - _interpreter_start())
        print(json.dumps(run_child(args.data, args.dataset, args.out, args.epochs, started)))
        return None

    sys.path.insert(0, str(HERE.parent / "src"))
    from asot.data.synthetic import generate_dataset
    from asot.io.labels import write_json

    epochs = args.epochs if args.epochs is not None else (2 if args.quick else 15)
    cfg = dataset_config(args.activities, args.quick)
    t = time.perf_counter()
    root = args.cache
    generate_dataset(root, cfg)
    print(f"dataset {root / cfg.name} ({time.perf_counter() - t:.1f} s): {cfg.n_activities} activities x {cfg.n_videos} videos, "
          f"{cfg.n_frames[0]}-{cfg.n_frames[1]} frames, {cfg.feature_dim}-d; {epochs} epochs")  # fmt: skip
    trees = [t.split("=", 1) for t in (args.tree or [f"asot={HERE.parent / 'src'}"])]
    load_start = load_average()
    rows = []
    for rep in range(args.repeats):
        for name, src in trees:
            row = {"tree": name, "src": src, "repeat": rep, "load_before": load_average(),
                   **run_tree(src, root, cfg.name, epochs, args.threads, args.timeout), "load_after": load_average()}  # fmt: skip
            rows.append(row)
            print(f"  {name} #{rep}: {row['wall_s']:.1f} s, peak {row['peak_mb']:.0f} MB, MoF {row['mof']:.1f} (load {row['load_before']})")
    print(format_table(rows))
    best = {name: min((r for r in rows if r["tree"] == name), key=lambda r: r["wall_s"]) for name, _ in trees}
    for name, r in best.items():
        print(f"{name}: best {r['wall_s']:.1f} s = {291 / r['wall_s']:.1f}x faster than the published code's 4:51 "
              f"(target >= {TARGET['speedup_vs_291_s']}x); peak {r['peak_mb'] / 1024:.2f} GB (target <= {TARGET['peak_gb']})")
    result = {"dataset": cfg.to_dict(), "epochs": epochs, "preset": "breakfast", "machine": machine(),
              "load_start": load_start, "load_end": load_average(), "threads_env": args.threads, "anchor": ANCHOR,
              "target": TARGET, "runs": rows,
              "best": {n: {"wall_s": r["wall_s"], "peak_mb": r["peak_mb"], "speedup_vs_published_291_s": round(291 / r["wall_s"], 2)}
                       for n, r in best.items()}}  # fmt: skip
    path = args.json if args.json is not None else (None if args.quick else HERE / "results" / "pipeline_scale.json")
    if path is not None:
        write_json(path, result)
        print(f"-> {path}")
    return result


def _interpreter_start() -> float:
    """Unix time this process started (from ``/proc/self/stat``), so the import phase counts
    the interpreter's start-up too; now if unknown."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, StopIteration, IndexError):
        return time.time()


if __name__ == "__main__":
    main()
