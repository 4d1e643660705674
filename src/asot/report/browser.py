"""Open a report in a real headless Chromium (tests, benchmarks, the docs' screenshots).

Stdlib only: Chromium is started with ``--remote-debugging-pipe`` and driven through the
DevTools protocol over that pipe (JSON messages separated by NUL bytes on file descriptors 3
and 4), so neither a WebDriver nor a websocket client is needed. Chromium itself comes from the
system package manager (Debian: ``apt-get install chromium``); :func:`find_chromium` returns
``None`` where it is not installed.

Example::

    with HeadlessChromium() as browser:
        seconds = browser.open("report.html")
        browser.evaluate("document.querySelectorAll('tr.video').length")
        browser.screenshot("report.png")
        browser.errors   # console errors and uncaught exceptions of the page
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["BrowserError", "HeadlessChromium", "find_chromium"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class BrowserError(RuntimeError):
    """Chromium could not be started or did not answer."""


def find_chromium() -> str | None:
    """The Chromium executable (``$CHROMIUM`` first, then the usual names on ``PATH``), or ``None``."""
    env = os.environ.get("CHROMIUM")
    if env and shutil.which(env):
        return shutil.which(env)
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class HeadlessChromium:
    """A headless Chromium page driven over the DevTools pipe (a context manager)."""

    def __init__(self, width: int = 1400, height: int = 900, *, executable: str | None = None, timeout: float = 60.0) -> None:
        self.width, self.height, self.timeout = int(width), int(height), float(timeout)
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise BrowserError("no Chromium found (install it, e.g. apt-get install chromium, or set $CHROMIUM)")
        self.errors: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._replies: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._next_id = 0
        self._session: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._profile: str | None = None

    # -------------------------------------------------------------- process and pipe
    def __enter__(self) -> "HeadlessChromium":
        self._profile = tempfile.mkdtemp(prefix="asot-chromium-")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()

        def fds() -> None:  # in the child: the protocol's fixed descriptors 3 (commands) and 4 (replies)
            import fcntl

            # copies above 4 first (either pipe end may be 3 or 4 itself); dup2 then makes them inheritable
            commands, replies = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 5), fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 5)
            os.dup2(commands, 3)
            os.dup2(replies, 4)

        args = [self.executable, "--headless=new", "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
                "--disable-gpu", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--hide-scrollbars", "--mute-audio", f"--user-data-dir={self._profile}", f"--window-size={self.width},{self.height}"]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to run its sandbox as root (CI containers)
        args.append("about:blank")
        self._log = open(Path(self._profile) / "chromium.log", "wb")  # noqa: SIM115 - closed in __exit__
        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                      preexec_fn=fds, close_fds=False)  # fmt: skip
        os.close(to_child_r)
        os.close(from_child_w)
        self._write = os.fdopen(to_child_w, "wb", buffering=0)
        self._read = os.fdopen(from_child_r, "rb", buffering=0)
        threading.Thread(target=self._reader, daemon=True).start()
        try:
            targets = self._send("Target.getTargets", browser=True)["targetInfos"]
            page = next((t for t in targets if t.get("type") == "page"), None)
            target_id = page["targetId"] if page else self._send("Target.createTarget", {"url": "about:blank"}, browser=True)["targetId"]
            self._session = self._send("Target.attachToTarget", {"targetId": target_id, "flatten": True}, browser=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                self._send(f"{domain}.enable")
            self._send("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                self._send("Browser.close", browser=True, timeout=5)
            except BrowserError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for handle in ("_write", "_read", "_log"):
            try:
                getattr(self, handle).close()
            except (AttributeError, OSError):
                pass
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)

    def _log_tail(self) -> str:
        try:
            self._log.flush()
            lines = (Path(self._profile) / "chromium.log").read_text(errors="replace").strip().splitlines()  # type: ignore[arg-type]
        except (AttributeError, OSError, TypeError):
            return ""
        return f"; its last output: {' | '.join(lines[-3:])}" if lines else ""

    def _reader(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = self._read.read(1 << 16)
            except (OSError, ValueError):
                chunk = b""
            if not chunk:
                with self._cond:
                    self._replies[-1] = {"closed": True}
                    self._cond.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self._cond:
                    if "id" in message:
                        self._replies[message["id"]] = message
                    else:
                        self._events.append(message)
                        self._note_error(message)
                    self._cond.notify_all()

    def _note_error(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append(str(details.get("exception", {}).get("description") or details.get("text")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.errors.append(str(params["entry"].get("text")))

    def _send(self, method: str, params: dict[str, Any] | None = None, *, browser: bool = False, timeout: float | None = None) -> dict[str, Any]:
        with self._cond:
            self._next_id += 1
            mid = self._next_id
        message: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if not browser and self._session:
            message["sessionId"] = self._session
        try:
            self._write.write(json.dumps(message).encode() + b"\0")
        except OSError as err:
            raise BrowserError(f"Chromium is not running ({err}){self._log_tail()}") from None
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while mid not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or -1 in self._replies:
                    raise BrowserError(f"Chromium did not answer {method}{self._log_tail()}")
                self._cond.wait(left)
            reply = self._replies.pop(mid)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    # -------------------------------------------------------------- page actions
    def open(self, path: str | os.PathLike[str], *, ready: str = "document.body && document.body.getAttribute('data-ready') === '1'") -> float:
        """Load a local file and wait until ``ready`` (a JS expression) is true, or the page
        threw an error; returns the seconds from navigation to ready."""
        url = Path(path).resolve().as_uri()
        t0 = time.perf_counter()
        self._send("Page.navigate", {"url": url})
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.evaluate(f"!!({ready})") is True:
                return time.perf_counter() - t0
            if self.errors:
                raise BrowserError(f"{path}: the page failed: {self.errors[0]}")
            time.sleep(0.02)
        raise BrowserError(f"{path}: not ready after {self.timeout:.0f} s")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JS expression in the page."""
        result = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"evaluate {expression[:60]!r}: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    def hover(self, x: float, y: float) -> None:
        """Move the mouse to viewport coordinates (a real input event: :hover, mousemove)."""
        self._send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": float(x), "y": float(y)})

    def screenshot(self, path: str | os.PathLike[str], *, full_page: bool = False) -> Path:
        """Write a PNG of the viewport (or of the whole page) and return its path."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1})
        data = base64.b64decode(self._send("Page.captureScreenshot", params)["data"])
        from asot.io.labels import atomic_write_bytes

        return atomic_write_bytes(path, data)
