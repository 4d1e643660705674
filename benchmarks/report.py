"""The HTML report at dataset scale: build time, file size and time to open in headless Chromium.

A folder of 2,000 synthetic videos (300-3,000 frames, 4-14 ground-truth segments of 12 classes,
an ASOT-like prediction with shifted boundaries and a few wrong segments, and two baseline rows)
is written as label files; then three ways to show it are measured side by side:

* ``asot`` -- the shipped report (:func:`asot.report.write_report`: data as JSON, vanilla JS draws
  only the current page of videos as SVG); build = reading the label files, matching, metrics and
  writing the page, i.e. what ``asot report DIR --gt GT`` does;
* ``static-svg`` -- the same data with every timeline written out as SVG by the server side
  (what a template engine such as jinja2 would produce): everything in the DOM at once;
* ``plotly`` -- one plotly figure (horizontal bars, one trace per class, plotly.js inline), when
  plotly is installed (it is not a dependency; ``pip install plotly`` to include it).

"build" is wall time and, for the shipped report, also the process's CPU time (the machine may be
shared: CPU time is what the build costs without the others' load). "open" is the wall time
from navigation until the page is drawn (the report's ready flag; for
the others, the load event plus their drawing), in a fresh headless Chromium.

Usage: ``python benchmarks/report.py [--videos 200 2000] [--out benchmarks/results/report.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from asot.io.labels import write_label_file  # noqa: E402
from asot.report import collect, write_report  # noqa: E402
from asot.report.browser import HeadlessChromium, find_chromium  # noqa: E402

N_CLASSES = 12


def synthetic_folder(folder: Path, n_videos: int, seed: int = 0) -> tuple[Path, Path, Path]:
    """``pred/`` (ASOT-like cluster ids + ``baselines/<name>/``), ``gt/`` and a mapping file."""
    rng = np.random.default_rng(seed)
    pred, gt = folder / "pred", folder / "gt"
    mapping = folder / "mapping.txt"
    mapping.write_text("".join(f"{i} action_{i:02d}\n" for i in range(N_CLASSES)))
    for v in range(n_videos):
        n = int(rng.integers(300, 3001))
        k = int(rng.integers(4, 15))
        cuts = np.sort(rng.choice(np.arange(1, n), size=k - 1, replace=False))
        classes = rng.choice(N_CLASSES, size=k)
        truth = np.repeat(classes, np.diff(np.concatenate([[0], cuts, [n]])))
        shifted = np.clip(cuts + rng.integers(-n // 40, n // 40 + 1, size=cuts.size), 1, n - 1)
        guess = classes.copy()
        wrong = rng.random(k) < 0.2
        guess[wrong] = rng.choice(N_CLASSES, size=int(wrong.sum()))
        asot = np.repeat(guess, np.diff(np.concatenate([[0], np.sort(shifted), [n]])))
        perm = rng.permutation(N_CLASSES)  # cluster ids, not class ids
        name = f"video_{v:05d}"
        write_label_file(gt / name, truth)
        write_label_file(pred / name, perm[asot])
        write_label_file(pred / "baselines" / "equal split" / name, np.repeat(np.arange(k), -(-n // k))[:n])
        noisy = np.where(rng.random(n) < 0.1, rng.integers(0, N_CLASSES, n), perm[truth])  # k-means flickers
        write_label_file(pred / "baselines" / "k-means + argmax" / name, noisy)
    return pred, gt, mapping


def static_svg_page(data, path: Path) -> None:
    """Every timeline as server-side SVG (the template-engine alternative), no script."""
    import html

    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>static</title></head><body><table>"]
    for v in data.videos:
        parts.append(f"<tr><td>{html.escape(v['name'])}</td><td>")
        for row, track in v["tracks"].items():
            rects = []
            for i in range(0, len(track), 2):
                start, end = track[i], track[i + 2] if i + 2 < len(track) else v["n"]
                c = data.classes[track[i + 1]]
                rects.append(f"<rect x='{start}' width='{end - start}' height='1' fill='{c['color']}'>"
                             f"<title>{html.escape(c['name'])}: {start}-{end}</title></rect>")  # fmt: skip
            parts.append(f"<div>{html.escape(row)}<svg viewBox='0 0 {v['n']} 1' preserveAspectRatio='none' "
                         f"width='900' height='12'>{''.join(rects)}</svg></div>")  # fmt: skip
        parts.append("</td></tr>")
    parts.append("</table><script>document.body.setAttribute('data-ready','1')</script></body></html>")
    path.write_text("".join(parts), encoding="utf-8")


def plotly_page(data, path: Path) -> bool:
    try:
        import plotly.graph_objects as go
    except ImportError:
        return False
    by_class: dict[int, tuple[list, list, list, list]] = {}
    for v in data.videos:
        for row, track in v["tracks"].items():
            y = f"{v['name']} {row}"
            for i in range(0, len(track), 2):
                start, end = track[i], track[i + 2] if i + 2 < len(track) else v["n"]
                ys, xs, bases, texts = by_class.setdefault(track[i + 1], ([], [], [], []))
                ys.append(y)
                xs.append(end - start)
                bases.append(start)
                texts.append(f"{start}-{end}")
    fig = go.Figure()
    for c, (ys, xs, bases, texts) in by_class.items():
        fig.add_trace(go.Bar(y=ys, x=xs, base=bases, orientation="h", name=data.classes[c]["name"],
                             marker_color=data.classes[c]["color"], hovertext=texts))  # fmt: skip
    fig.update_layout(barmode="overlay", height=12 * len(data.videos) * len(data.rows))
    fig.write_html(str(path), include_plotlyjs=True, full_html=True,
                   post_script="document.body.setAttribute('data-ready','1')")  # fmt: skip
    return True


def open_seconds(path: Path) -> float | None:
    if find_chromium() is None:
        return None
    with HeadlessChromium(1400, 900, timeout=300) as browser:
        seconds = browser.open(path)
        if browser.errors:
            raise RuntimeError(f"{path}: {browser.errors[:3]}")
        return seconds


def report_interactions(path: Path) -> dict[str, float]:
    """Sorting all videos by MoF and turning a page, in the shipped report (seconds)."""
    if find_chromium() is None:
        return {}
    with HeadlessChromium(1400, 900, timeout=300) as browser:
        browser.open(path)
        out = {}
        for name, script in (("sort_by_mof_s", "document.querySelector('th[data-key=\"mof:ASOT\"]').click()"),
                             ("next_page_s", "document.getElementById('next').click()"),
                             ("200_per_page_s", "(() => { const s = document.getElementById('pagesize'); s.value = '200'; "
                                                "s.dispatchEvent(new Event('change')); })()")):  # fmt: skip
            t0 = time.perf_counter()
            browser.evaluate(script + "; document.querySelectorAll('tr.video').length")
            out[name] = time.perf_counter() - t0
        out["rows_in_dom"] = browser.evaluate("document.querySelectorAll('tr.video').length")
        assert not browser.errors, browser.errors
        return out


def measure(n_videos: int, alternatives: bool, plotly: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        t0 = time.perf_counter()
        pred, gt, mapping = synthetic_folder(tmp_path, n_videos)
        setup = time.perf_counter() - t0
        results = []
        t0, c0 = time.perf_counter(), time.process_time()
        page = write_report(pred, tmp_path / "asot.html", gt=gt, mapping=mapping)
        build, build_cpu = time.perf_counter() - t0, time.process_time() - c0
        results.append({"approach": "asot (JSON + vanilla JS, 50 videos per page)", "build_s": build, "build_cpu_s": build_cpu,
                        "size_mb": page.stat().st_size / 2**20, "open_s": open_seconds(page)})  # fmt: skip
        t0 = time.perf_counter()
        data = collect(pred, gt=gt, mapping=mapping)
        collect_s = time.perf_counter() - t0
        n_segments = sum(len(t) // 2 for v in data.videos for t in v["tracks"].values())
        if alternatives:
            t0 = time.perf_counter()
            static_svg_page(data, tmp_path / "static.html")
            results.append({"approach": "static SVG (all timelines in the page)", "build_s": collect_s + time.perf_counter() - t0,
                            "size_mb": (tmp_path / "static.html").stat().st_size / 2**20,
                            "open_s": open_seconds(tmp_path / "static.html")})  # fmt: skip
        if alternatives and plotly:
            t0 = time.perf_counter()
            if plotly_page(data, tmp_path / "plotly.html"):
                build_p = collect_s + time.perf_counter() - t0
                try:
                    opened: float | str | None = open_seconds(tmp_path / "plotly.html")
                except Exception as err:  # noqa: BLE001 - a page that does not open is a result
                    opened = f"failed: {err}"
                results.append({"approach": "plotly (bars, plotly.js inline)", "build_s": build_p,
                                "size_mb": (tmp_path / "plotly.html").stat().st_size / 2**20, "open_s": opened})  # fmt: skip
        interactions = report_interactions(page)
    return {"videos": n_videos, "segments": n_segments, "setup_s": setup, "results": results, "interactions": interactions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, nargs="+", default=[200, 2000], help="sizes to measure")
    parser.add_argument("--alternatives-max", type=int, default=200,
                        help="measure static SVG and plotly only up to this many videos (they already miss the 5 s target there)")
    parser.add_argument("--no-plotly", action="store_true", help="skip the plotly variant")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "report.json")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    runs = [measure(n, n <= args.alternatives_max, not args.no_plotly) for n in args.videos]
    print(f"{os.cpu_count()} CPUs, 1-min load {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
          "targets at 2,000 videos: build <= 30 s, open <= 5 s")
    print(f"{'videos':>7}{'segments':>10}  {'approach':<46}{'build s':>9}{'cpu s':>7}{'size MB':>9}{'open s':>9}")
    for run in runs:
        for r in run["results"]:
            o = r["open_s"]
            shown = o if isinstance(o, str) else ("-" if o is None else f"{o:.2f}")
            cpu = f"{r['build_cpu_s']:.2f}" if "build_cpu_s" in r else "-"
            print(f"{run['videos']:>7}{run['segments']:>10}  {r['approach']:<46}{r['build_s']:>9.2f}{cpu:>7}{r['size_mb']:>9.2f}{shown:>9}")
        if run["interactions"]:
            print(f"{'':>19}in the browser: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                                        for k, v in run["interactions"].items()))  # fmt: skip
    record = {
        "runs": runs, "targets": {"videos": 2000, "build_s": 30, "open_s": 5},
        "machine": {"cpus": os.cpu_count(), "load_1min_before": load_before, "load_1min_after": os.getloadavg()[0],
                    "python": platform.python_version(), "platform": platform.platform()},
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
