"""GPU check (issue 7): reference cases on CUDA, then timings with CUDA events. One prepared script.

(a) every case in ``--reference`` (default ``../shared/reference`` beside the repository) is solved
    with ``asot.solve(..., device=DEVICE, backend="torch")`` and compared with the published
    outputs: coupling within 1e-5 (float64) / 1e-4 (float32) absolute, labels identical except
    where the two actions tie within that tolerance. Any mismatch raises (exit status 1) after
    printing every failing case.
(b) ``N in {16384, 131072, 1000000} x K = 19`` and ``B = 64 x N = 256 x K = 10``, float32,
    settings of ``benchmarks/solver.py`` (eps 0.07, alpha 0.3, r 0.04, lambda 0.05, 25
    iterations): warm-up, then median of 10 timed with CUDA events (``--quick``: fewer sizes and
    repeats), for the plain torch path and the ``cuda-graph`` backend (a reused
    :class:`asot.ASOTSolver`; each call includes input validation).
(c) prints a table and writes JSON to ``$OUT/gpu.json`` when ``$OUT`` is set (or ``--json``).

Run on the GPU machine from the repository root::

    python benchmarks/gpu_check.py

Dry run on CPU (wall-clock timing instead of CUDA events)::

    python benchmarks/gpu_check.py --device cpu --quick

Target (issue 7): <= 3 ms at N = 16,384 on an H200.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

import asot

REPO = Path(__file__).resolve().parents[1]
SETTINGS = dict(eps=0.07, alpha=0.3, radius=0.04, lambda_actions=0.05, n_iters=25)


def config_from_reference(params: dict) -> asot.SolverConfig:
    """The published implementation's vocabulary -> SolverConfig (as tests/ot/test_solver_reference.py)."""
    outer, inner = params["n_iters"]
    return asot.SolverConfig(
        eps=params["eps"], alpha=params["alpha"], radius=params["radius"],
        lambda_actions=params["lambda_actions"], lambda_frames=params["lambda_frames"],
        unbalanced_actions=params["ub_actions"], unbalanced_frames=params["ub_frames"],
        n_iters=outer, sinkhorn_iters=inner, step_size=params.get("step_size"),
    )


def check_references_all(reference: Path, device: str) -> list[dict]:
    rows = []
    backends = [("torch", False), ("cuda-graph", False), ("cuda-graph", True)] if device.startswith("cuda") else [("torch", False)]
    for backend, fuse in backends:
        name = backend + ("+fuse" if fuse else "")
        print(f"  backend {name}")
        rows += [dict(row, backend=name) for row in check_references(reference, device, backend, fuse)]
    return rows


def check_references(directory: Path, device: str, backend: str = "torch", fuse: bool = False) -> list[dict]:
    cases = sorted(directory.glob("*.npz"))
    if not cases:
        raise SystemExit(f"no reference cases (*.npz) in {directory}")
    rows, failures = [], []
    for path in cases:
        data = np.load(path)
        params = json.loads(str(data["params"]))
        cost = torch.from_numpy(data["cost"])
        tol = 1e-5 if params["dtype"] == "float64" else 1e-4
        problem = asot.ot.problem.as_problem(cost, device=device)
        result = asot.ASOTSolver(config_from_reference(params), backend=backend, fuse=fuse)(problem)
        coupling = result.coupling.cpu().numpy()
        labels = result.labels.cpu().numpy()
        err = float(np.abs(coupling - data["coupling"]).max())
        differ = np.flatnonzero(labels != data["labels"])
        ref = data["coupling"]
        gap = np.abs(ref[differ, labels[differ]] - ref[differ, data["labels"][differ]])
        untied = int(np.sum(gap > tol))
        ok = (err <= tol and untied == 0 and coupling.dtype == data["cost"].dtype
              and np.isfinite(result.objective.cpu().numpy()).all())
        row = dict(case=path.stem, N=int(cost.shape[0]), K=int(cost.shape[1]), dtype=params["dtype"],
                   max_abs_err=err, tolerance=tol, labels_differ=len(differ), labels_differ_untied=untied, ok=bool(ok))
        rows.append(row)
        print(f"  {'ok  ' if ok else 'FAIL'} {path.stem:<44} {row['N']:>6}x{row['K']:<3} {params['dtype']:<8} "
              f"max|err| {err:.2e} (tol {tol:.0e}) labels differ {len(differ)} (untied {untied})", flush=True)
        if not ok:
            failures.append(path.stem)
    if failures:
        raise AssertionError(f"reference mismatch on {device}: {failures}")
    return rows


def time_solver(n: int, k: int, device: str, repeats: int, backend: str = "torch", batch: int | None = None,
                fuse: bool = False) -> dict:
    gen = torch.Generator().manual_seed(0)
    shape = (n, k) if batch is None else (batch, n, k)
    cost = (torch.rand(*shape, generator=gen, dtype=torch.float32) * 2.0).to(device)
    config = asot.SolverConfig(**SETTINGS)
    solver = asot.ASOTSolver(config, backend=backend, fuse=fuse)  # reused: graphs / compiled code are cached

    def run():
        return solver(asot.ot.problem.as_problem(cost))

    if backend != "torch" or fuse:  # same answer as the plain torch path
        reference = asot.solve(cost, config=config, backend="torch")
        torch.testing.assert_close(run().coupling, reference.coupling, atol=1e-4, rtol=0)

    for _ in range(2):  # warm-up (allocator, kernels)
        out = run()
    assert torch.isfinite(out.coupling).all(), f"non-finite coupling at N={n}"
    times = []
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        for _ in range(repeats):
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            run()
            stop.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(stop))
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        for _ in range(repeats):
            t0 = time.perf_counter()
            run()
            times.append(1e3 * (time.perf_counter() - t0))
        peak = None
    return dict(N=n, K=k, B=batch or 1, backend=backend + ("+fuse" if fuse else ""), median_ms=statistics.median(times), min_ms=min(times), repeats=repeats,
                per_iter_ms=statistics.median(times) / SETTINGS["n_iters"], cuda_max_allocated_mb=peak)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--reference", default=str(REPO.parent / "shared" / "reference"))
    parser.add_argument("--quick", action="store_true", help="dry run: small sizes, few repeats")
    parser.add_argument("--reference-only", action="store_true", help="only (a), the reference cases")
    parser.add_argument("--json", default=None, help="output file (default $OUT/gpu.json when $OUT is set)")
    args = parser.parse_args(argv)
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("CUDA requested but torch.cuda.is_available() is False")
    began = time.perf_counter()
    torch._dynamo.config.cache_size_limit = 64  # fuse=True compiles per shape; keep every case compiled
    info = dict(device=device, torch=torch.__version__, settings=SETTINGS, quick=args.quick)
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(device)
        torch.backends.cuda.matmul.allow_tf32 = False
    print(f"device {device} {info.get('gpu', '')}, torch {torch.__version__}")

    print(f"(a) reference cases from {args.reference}")
    info["reference"] = check_references_all(Path(args.reference), device)
    if args.reference_only:
        print("all reference cases match")
        return 0

    sizes = [16384, 131072] if args.quick else [16384, 131072, 1_000_000]
    repeats = 3 if args.quick else 10
    print(f"(b) timings, float32, K=19, median of {repeats}")
    print(f"{'backend':>16} {'B':>3} {'N':>9} {'K':>3} {'median ms':>10} {'min ms':>9} {'ms/iter':>8}")
    timings = []
    backends = [("torch", False), ("cuda-graph", False), ("cuda-graph", True)] if device.startswith("cuda") else [("torch", False)]
    cases = [(None, n, 19) for n in sizes] + [(64, 256, 10)]
    for backend, fuse in backends:
        for batch, n, k in cases:
            row = time_solver(n, k, device, repeats, backend=backend, batch=batch, fuse=fuse)
            timings.append(row)
            print(f"{row['backend']:>16} {row['B']:>3} {n:>9} {k:>3} {row['median_ms']:10.3f} {row['min_ms']:9.3f} "
                  f"{row['per_iter_ms']:8.4f}", flush=True)
    info["timings"] = timings
    t16 = min(r["median_ms"] for r in timings if r["N"] == 16384 and r["B"] == 1)
    info["target_16k_le_3ms"] = dict(value=t16, ok=t16 <= 3.0)
    print(f"target 16k <= 3 ms: {t16:.3f} ms {'met' if t16 <= 3.0 else 'NOT met'}")
    info["wall_s"] = time.perf_counter() - began

    path = args.json or (os.path.join(os.environ["OUT"], "gpu.json") if os.environ.get("OUT") else None)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(info, indent=2))
        print(f"wrote {path}")
    print(f"all reference cases match; total {info['wall_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
