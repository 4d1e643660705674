"""The report and the run figures shown in ``docs/report.md``, made from the current code.

Trains ASOT on the built-in synthetic data (a few epochs, two activities), which writes the run
folder with its ``report.html`` and ``figures/``; copies a segmentation figure and a loss curve;
and, when a headless Chromium is installed (``apt-get install chromium``), opens the report and
takes two screenshots: the top of the page, and a timeline with the hover text of a segment.

    python examples/report_screenshots.py --out docs/figures      # the docs' images
    python examples/report_screenshots.py --out /tmp/r --tiny     # seconds, for tests

Writes ``OUT/report_segmentation.png``, ``OUT/report_loss.png`` and (with Chromium)
``OUT/report.png`` and ``OUT/report_hover.png``; prints the paths.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import asot


def _shrink(path: Path, colors: int = 128) -> None:
    """A palette PNG (screenshots of flat colours lose nothing visible; the docs stay small)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder for the images")
    parser.add_argument("--tiny", action="store_true", help="one activity, one epoch (fast)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = asot.TINY.replace(seed=args.seed, n_videos=3 if args.tiny else 6)
        asot.generate_dataset(root, config)
        run = root / "run"
        preset = asot.get_preset("default", epochs=1 if args.tiny else 8)
        asot.train(root, config.name, run, preset=preset, activities=["tea"] if args.tiny else None, figures=2)
        figures = sorted((run / "figures").glob("segmentation_*.png"))
        written = [shutil.copyfile(figures[0], args.out / "report_segmentation.png")]
        written.append(shutil.copyfile(sorted((run / "figures").glob("loss_*.png"))[0], args.out / "report_loss.png"))

        from asot.report.browser import HeadlessChromium, find_chromium

        if find_chromium() is None:
            print("no headless Chromium (apt-get install chromium): report screenshots skipped")
        else:
            with HeadlessChromium(1200, 860) as browser:
                browser.open(run / "report.html")
                written.append(browser.screenshot(args.out / "report.png"))
                box = browser.evaluate("""(() => {
                    const e = document.querySelectorAll('tr.video svg[data-row="ASOT"] rect')[1]
                           || document.querySelector('tr.video svg[data-row="ASOT"] rect');
                    e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();
                    return [r.x + r.width / 2, r.y + r.height / 2]; })()""")
                browser.hover(*box)
                written.append(browser.screenshot(args.out / "report_hover.png"))
                if browser.errors:
                    raise SystemExit(f"the report logged errors: {browser.errors}")
        for path in written:
            _shrink(Path(path))
            print(path)


if __name__ == "__main__":
    main()
