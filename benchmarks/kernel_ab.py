"""The fused CPU kernel of another source tree against this one, interleaved in ONE process.

``solver_ab.py`` alternates fresh interpreters, and on a shared KVM guest a whole process can run
1.5-2x slower than the next one (``benchmarks/README.md``), so a 10-20% change of the kernel needs
many rounds there. Here both kernels live in one interpreter: the other tree's
``asot/ot/_cpu_kernel.py`` is imported under another name (from a temporary copy, so that numba
caches it apart) and ``asot.ot.kernel_backend`` is pointed at one kernel or the other for each
solve, alternating, with the 25-pass exp floor timed between them. What is compared is the kernel
alone: the driver (``asot.ot.iteration``, ``kernel_backend``) is this tree's for both, so use it
for changes inside ``_cpu_kernel.py``. Settings of ``benchmarks/solver.py`` (float32, eps 0.07,
alpha 0.3, r 0.04, lambda 0.05, 25 iterations); cases N = 16,384 x 19 and B64 x 256 x 10 on 1 and
2 threads. Before timing, the couplings of the two kernels are compared (max relative difference).

Usage::

    python benchmarks/kernel_ab.py --before OLD_TREE/src [--rounds 30] [--json benchmarks/results/kernel_ab.json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

import asot
import asot.ot.kernel_backend as kernel_backend
from asot.io.atomic import atomic_write_text
from solver import SETTINGS, machine_info  # benchmarks/solver.py: the settings and the machine record of its timings

HERE = Path(__file__).resolve().parent


def load_kernel(src: Path, workdir: Path):
    """The ``_cpu_kernel`` module of the tree at ``src``, imported as ``asot_kernel_before``."""
    path = src / "asot" / "ot" / "_cpu_kernel.py"
    if not path.is_file():
        raise SystemExit(f"--before {src}: expected a folder holding asot/ot/_cpu_kernel.py")
    shutil.copy(path, workdir / "asot_kernel_before.py")
    sys.path.insert(0, str(workdir))
    return importlib.import_module("asot_kernel_before")


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, type=Path, help="SRC_DIR of the other tree (the folder holding asot/)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", default=str(HERE / "results" / "kernel_ab.json"))
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="asot-kernel-ab-") as workdir:
        kernels = {"before": load_kernel(args.before.resolve(), Path(workdir)), "after": kernel_backend._cpu_kernel}
        config = asot.SolverConfig(**SETTINGS)
        gen = torch.Generator().manual_seed(0)
        cases = {"16k x 19": torch.rand(16384, 19, generator=gen) * 2.0, "B64 x 256 x 10": torch.rand(64, 256, 10, generator=gen) * 2.0}
        buf = torch.empty_like(cases["16k x 19"])
        results = {}
        try:
            couplings = {}
            for name, kernel in kernels.items():
                kernel_backend._cpu_kernel = kernel
                couplings[name] = {case: asot.solve(cost, config=config).coupling for case, cost in cases.items()}
            difference = {case: float((couplings["after"][case] - couplings["before"][case]).abs().max()
                                      / couplings["before"][case].abs().max()) for case in cases}  # fmt: skip
            for threads in (1, 2):
                torch.set_num_threads(threads)
                times = {(name, case): [] for name in kernels for case in cases}
                floor = []
                for _ in range(args.rounds):
                    for name, kernel in kernels.items():
                        kernel_backend._cpu_kernel = kernel
                        for case, cost in cases.items():
                            start = time.perf_counter()
                            asot.solve(cost, config=config)
                            times[(name, case)].append(1e3 * (time.perf_counter() - start))
                    torch.set_num_threads(1)
                    start = time.perf_counter()
                    for _ in range(25):
                        torch.exp(cases["16k x 19"], out=buf)
                    floor.append(1e3 * (time.perf_counter() - start))
                    torch.set_num_threads(threads)
                for case in cases:
                    row = {name: dict(min_ms=min(times[(name, case)]), q25_ms=quantile(times[(name, case)], 0.25))
                           for name in kernels}  # fmt: skip
                    row["before_over_after_min"] = row["before"]["min_ms"] / row["after"]["min_ms"]
                    row["before_over_after_q25"] = row["before"]["q25_ms"] / row["after"]["q25_ms"]
                    row["exp_floor_min_ms"] = min(floor)
                    for name in kernels:
                        row[f"{name}_over_exp_floor"] = row[name]["min_ms"] / min(floor)
                    results[f"{case}, {threads} thread{'s' if threads > 1 else ''}"] = row
        finally:
            kernel_backend._cpu_kernel = kernels["after"]
            sys.path.remove(workdir)
            sys.modules.pop("asot_kernel_before", None)
    print(f"max relative coupling difference after vs before: " + ", ".join(f"{c} {d:.1e}" for c, d in difference.items()))
    print(f"\n{'case':<28} {'before ms':>10} {'after ms':>10} {'ratio':>6} {'q25 ratio':>9} {'after / exp floor':>18}")
    for case, row in results.items():
        print(f"{case:<28} {row['before']['min_ms']:10.2f} {row['after']['min_ms']:10.2f} {row['before_over_after_min']:6.2f} "
              f"{row['before_over_after_q25']:9.2f} {row['after_over_exp_floor']:17.1f}x")
    out = dict(started=started, machine=dict(machine_info(), load_avg_start=load_start, load_avg_end=os.getloadavg()),
               before=str(args.before), rounds=args.rounds, settings=SETTINGS, coupling_difference=difference, cases=results)  # fmt: skip
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(out, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
