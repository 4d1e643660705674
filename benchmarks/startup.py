"""Start-up time of the command line and of ``import asot``.

``python benchmarks/startup.py [--repeats 5] [--json benchmarks/results/startup.json]``

Each case is a fresh interpreter (``sys.executable``, so the checkout on ``PYTHONPATH`` is the
one measured), timed wall-clock from spawn to exit; the table shows the median and the range of
``--repeats`` runs. ``asot ...`` runs ``asot.cli:main`` (the console script's entry point, without
the launcher or a version-manager shim in front of it). The heavy libraries each case leaves imported
(``torch``, ``lightning``, ``matplotlib``, ``sklearn``, ``numba``, ``scipy``) are listed, and the
top cumulative entries of ``python -X importtime -c "import asot"`` are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

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

def _time(args: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def _loaded(args: list[str]) -> list[str]:
    """The heavy top-level packages left in ``sys.modules`` by the case."""
    report = f"import sys; print('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    code = f"import atexit\natexit.register(lambda: exec({report!r}, {{}}))\n{args[1]}"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    line = [x for x in out.splitlines() if x.startswith("loaded:")][-1]
    return [m for m in line.removeprefix("loaded:").split(",") if m]


def _importtime(top: int) -> list[tuple[int, str]]:
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import asot"], check=True, capture_output=True, text=True).stderr
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
    parser.add_argument("--top", type=int, default=15, help="importtime rows shown")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    load_start = os.getloadavg()
    results = {}
    print(f"{'case':<22} {'median s':>9} {'min s':>7} {'max s':>7}  heavy modules loaded")
    for name, case in CASES.items():
        times = _time(case, args.repeats)
        loaded = _loaded(case)
        results[name] = {"median_s": statistics.median(times), "times_s": times, "loaded": loaded}
        print(f"{name:<22} {statistics.median(times):>9.3f} {min(times):>7.3f} {max(times):>7.3f}  {', '.join(loaded) or '-'}")
    rows = _importtime(args.top)
    print('\npython -X importtime -c "import asot": top cumulative entries')
    for cumulative, name in rows:
        print(f"{cumulative / 1e6:>8.3f} s  {name}")
    load_end = os.getloadavg()
    print(f"\nload average at start {load_start[0]:.2f}, at end {load_end[0]:.2f}; {os.cpu_count()} CPUs; python {platform.python_version()}")
    if args.json is not None:
        payload = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                        "load_start": load_start[0], "load_end": load_end[0]},
            "repeats": args.repeats,
            "cases": results,
            "importtime_top": [{"cumulative_s": c / 1e6, "module": n} for c, n in rows],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(payload, indent=2) + "\n")
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
