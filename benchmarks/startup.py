"""Start-up time of the command line and of ``import asot``.

``python benchmarks/startup.py [--repeats 5] [--json benchmarks/results/startup.json]``

Each case is a fresh interpreter (``sys.executable``, so the checkout on ``PYTHONPATH`` is the
one measured), timed wall-clock from spawn to exit; the table shows the median and the range of
``--repeats`` runs. ``asot ...`` runs ``asot.cli:main`` (the console script's entry point, without
the launcher or a version-manager shim in front of it). ``--tree before=/path/to/old/src --tree after=src`` runs each case on both
trees in turn (interleaved, so both see the same machine load). Besides wall-clock time, the CPU time
(user + system) of each run is reported: on a busy machine the wall-clock time grows with the
load, the CPU time much less (on an idle machine the two nearly agree: start-up is one thread). The heavy libraries each case leaves imported
(``torch``, ``lightning``, ``matplotlib``, ``sklearn``, ``numba``, ``scipy``) are listed, and the
top cumulative entries of ``python -X importtime -c "import asot"`` are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HEAVY = ("torch", "lightning", "matplotlib", "sklearn", "numba", "scipy", "numpy")

def _cli(*argv: str) -> list[str]:
    """The console script's entry point, ``asot.cli:main``, run with ``argv``."""
    return ["-c", f"import sys; sys.argv = {['asot', *argv]!r}; from asot.cli import main; main()"]


CASES = {
    "import asot": ["-c", "import asot"],
    "import asot.cli": ["-c", "import asot.cli"],
    "asot --help": _cli("--help"),
    "asot train --help": _cli("train", "--help"),
    "asot segment --help": _cli("segment", "--help"),
}

def _env(src: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    return env


def _command(args: list[str]) -> list[str]:
    return args[1:] if args[0] == "script" else [sys.executable, *args]


def _run_once(args: list[str], src: str | None) -> tuple[float, float]:
    """Wall-clock and CPU (user + system, the child and its children) seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(_command(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(src))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _loaded(args: list[str], src: str | None) -> list[str] | None:
    """The heavy top-level packages left in ``sys.modules`` by the case (``None``: not probed)."""
    if args[0] == "script":
        return None
    report = f"import sys; print('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    code = f"import atexit\natexit.register(lambda: exec({report!r}, {{}}))\n{args[1]}"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=_env(src)).stdout
    line = [x for x in out.splitlines() if x.startswith("loaded:")][-1]
    return [m for m in line.removeprefix("loaded:").split(",") if m]


def _importtime(top: int, src: str | None) -> list[tuple[int, str]]:
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import asot"], check=True, capture_output=True, text=True,
                         env=_env(src)).stderr
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, _, rest = line.partition(":")
        self_us, cumulative_us, name = (part.strip() for part in rest.split("|"))
        rows.append((int(cumulative_us), name))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--top", type=int, default=12, help="importtime rows shown")
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=SRC",
                        help="compare source trees side by side (PYTHONPATH=SRC each); default: the current environment")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    trees: dict[str, str | None] = dict(t.split("=", 1) for t in args.tree) if args.tree else {"current": None}
    cases = dict(CASES)
    script = shutil.which("asot")
    if script:
        cases["asot --help (console script)"] = ["script", script, "--help"]

    load_start = os.getloadavg()
    times: dict[str, dict[str, list[float]]] = {c: {t: [] for t in trees} for c in cases}
    cpu: dict[str, dict[str, list[float]]] = {c: {t: [] for t in trees} for c in cases}
    for _ in range(args.repeats):  # interleaved: every tree sees the same load
        for case, argv in cases.items():
            for label, src in trees.items():
                wall, used = _run_once(argv, src)
                times[case][label].append(wall)
                cpu[case][label].append(used)
    results: dict[str, dict[str, Any]] = {}
    header = "".join(f"  {label + ' wall s':>14} {'min-max':>11} {'cpu s':>6}" for label in trees)
    print(f"{'case (medians)':<30}{header}")
    for case, argv in cases.items():
        row = ""
        for label, src in trees.items():
            t, c = times[case][label], cpu[case][label]
            loaded = _loaded(argv, src)
            results.setdefault(label, {})[case] = {"median_s": statistics.median(t), "times_s": t,
                                                   "cpu_median_s": statistics.median(c), "cpu_s": c, "loaded": loaded}
            row += f"  {statistics.median(t):>14.3f} {min(t):>5.2f}-{max(t):<5.2f} {statistics.median(c):>6.2f}"
        print(f"{case:<30}{row}")
    print("\nheavy libraries left imported (" + ", ".join(HEAVY) + "):")
    for case in cases:
        print(f"  {case:<30}" + "  ".join(f"{label}: {','.join(results[label][case]['loaded'] or []) or '-'}"
                                       if results[label][case]["loaded"] is not None else f"{label}: (not probed)" for label in trees))
    importtime = {}
    for label, src in trees.items():
        rows = _importtime(args.top, src)
        importtime[label] = [{"cumulative_s": c / 1e6, "module": n} for c, n in rows]
        print(f'\n[{label}] python -X importtime -c "import asot": top cumulative entries')
        for cumulative, name in rows:
            print(f"{cumulative / 1e6:>8.3f} s  {name}")
    load_end = os.getloadavg()
    print(f"\nload average at start {load_start[0]:.2f}, at end {load_end[0]:.2f}; {os.cpu_count()} CPUs; python {platform.python_version()}")
    if args.json is not None:
        payload = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                        "load_start": load_start[0], "load_end": load_end[0]},
            "repeats": args.repeats,
            "trees": trees,
            "cases": results,
            "importtime_top": importtime,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(payload, indent=2) + "\n")
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
