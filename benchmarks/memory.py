"""Peak memory of ``asot segment`` and ``asot train`` and the import baseline under them (issue 18).

Every case runs in a fresh interpreter and reports its peak resident set (``VmHWM``, read just
before it exits):

* **imports**: ``numpy``; ``torch``; ``lightning.pytorch``; what ``asot segment`` loads on the
  CPU (``asot.postprocess`` + the kernel's numpy backend, no torch), also after one small
  decode (numba's compiled kernel loaded: LLVM starts), and the same solve through
  ``asot.solve`` (torch loaded); what ``asot train`` loads (the pipeline, Lightning, scikit-learn,
  numba) -- the floor under every run;
* **segment**: ``asot segment COST.npy --kind cost --out DIR`` on one 2,000,000 x 10 float32
  cost (80 MB; a noisy diagonal structure, seeded), default solver -- target below 0.5 GB;
* **train**: ``asot train`` at Breakfast scale (``pipeline_scale.py``'s dataset, one activity,
  170 videos, 1 epoch: the peak phases -- k-means init, baselines -- do not depend on the
  number of epochs; ``pipeline_scale.py`` measures the 15-epoch run) -- target 0.6 GB.

``--tree NAME=SRC`` (repeatable) compares source trees, alternating. Usage::

    python benchmarks/memory.py [--tree before=OLD/src --tree after=src] [--json benchmarks/results/memory.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pipeline_scale  # noqa: E402

IMPORTS = {
    "numpy": "import numpy",
    "torch": "import torch",
    "lightning.pytorch": "import lightning.pytorch",
    # what `asot segment` loads on the CPU: the kernel's numpy backend, no torch
    "asot segment stack": "import asot.postprocess, asot.ot.kernel_backend, numba",
    # the floor under a solve: numba's first compiled function (from its cache) starts LLVM
    "asot segment stack + kernel loaded": ("import numpy as np, asot.postprocess\n"
                                           "asot.decode(np.random.default_rng(0).random((5000, 10), dtype=np.float32))"),
    # the same solve through the torch entry point (asot.solve: tensors in and out)
    "asot.solve stack + kernel loaded": ("import numpy as np, asot.postprocess, asot.ot.solver\n"
                                         "asot.solve(np.random.default_rng(0).random((5000, 10), dtype=np.float32))"),
    "asot train stack": "import asot.training.pipeline, asot.models.lit_module, lightning.pytorch, sklearn.cluster, numba",
}
PEAK = "import sys; print('VMHWM', next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')), file=sys.stderr)"
SEGMENT = ("import sys; sys.argv = ['asot', 'segment', sys.argv[1], '--kind', 'cost', '--out', sys.argv[2]]\n"
           "from asot.cli import main\ntry:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n" + PEAK)  # fmt: skip


def peak_mb(code: str, src: str, *args: str, timeout: float = 1800) -> float:
    """Peak resident MB of ``python -c code args`` with ``src`` on the path."""
    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{src}: {code[:60]!r} failed:\n{proc.stderr[-2000:]}")
    line = next(l for l in proc.stderr.splitlines() if l.startswith("VMHWM"))
    return round(int(line.split()[1]) / 1024, 1)


def make_cost(path: Path, n: int = 2_000_000, k: int = 10) -> Path:
    import numpy as np

    if not path.is_file():
        rng = np.random.default_rng(0)
        cost = (0.5 + 0.5 * rng.random((n, k), dtype=np.float32)).astype(np.float32)
        cost[np.arange(n), np.arange(n) * k // n] -= 0.4
        np.save(path, cost)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", action="append", default=None, help="NAME=SRC (default: this checkout's src)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "asot-pipeline-scale")
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--json", type=Path, default=HERE / "results" / "memory.json")
    args = ap.parse_args()
    trees = [t.split("=", 1) for t in (args.tree or [f"asot={HERE.parent / 'src'}"])]
    sys.path.insert(0, str(HERE.parent / "src"))
    from asot.data.synthetic import generate_dataset
    from asot.io.labels import write_json

    args.cache.mkdir(parents=True, exist_ok=True)
    cost = make_cost(args.cache / "cost_2000000x10.npy")
    cfg = pipeline_scale.dataset_config(1)
    generate_dataset(args.cache, cfg)
    load_start = pipeline_scale.load_average()
    rows: dict[str, dict[str, float]] = {name: {} for name, _ in trees}
    for name, src in trees:  # each tree's numba cache warm first: a compile would be measured, not a load
        peak_mb(IMPORTS["asot.solve stack + kernel loaded"] + "\n" + PEAK, src)
    for case, code in IMPORTS.items():
        for name, src in trees:
            try:
                rows[name][f"import: {case}"] = peak_mb(code + "\n" + PEAK, src)
            except RuntimeError as err:  # an older tree without that module
                if "ModuleNotFoundError: No module named 'asot." not in str(err):
                    raise
                rows[name][f"import: {case}"] = "-"  # type: ignore[assignment]
    for name, src in trees:
        with tempfile.TemporaryDirectory(prefix="asot-mem-") as tmp:
            rows[name]["segment 2,000,000 x 10 float32"] = peak_mb(SEGMENT, src, str(cost), str(Path(tmp) / "out"))
    if not args.skip_train:
        for name, src in trees:
            run = pipeline_scale.run_tree(src, args.cache, cfg.name, 1, None, 3600)
            rows[name]["train Breakfast scale (1 activity, 1 epoch)"] = run["peak_mb"]
            rows[name]["train: peak phase"] = max(run["phases"], key=lambda p: run["phases"][p]["peak_mb"])  # type: ignore[assignment]
    cases = list(next(iter(rows.values())))
    print(f"{'case':<48}" + "".join(f"{n:>12}" for n in rows))
    for case in cases:
        print(f"{case:<48}" + "".join(f"{rows[n][case]:>12}" for n in rows))
    print("(peak resident MB, VmHWM of a fresh interpreter; targets: segment < 500, train <= 600)")
    result = {"machine": pipeline_scale.machine(), "load_start": load_start, "load_end": pipeline_scale.load_average(),
              "trees": dict(trees), "peak_mb": rows, "targets_mb": {"segment": 500, "train": 600}}  # fmt: skip
    write_json(args.json, result)
    print(f"-> {args.json}")


if __name__ == "__main__":
    main()
