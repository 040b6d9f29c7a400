"""Drive Debian's ``chromium`` headless: the DOM after scripts ran, and screenshots."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "/usr/bin/chromium")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
    "--force-device-scale-factor=1", "--mute-audio",
)


def chromium_path() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    binary = chromium_path()
    if binary is None:
        raise RuntimeError("chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="briefwatch-chromium-") as profile:
        return subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )


def dump_dom(page: Path, *, budget_ms: int = 2000) -> str:
    """The page's DOM as serialised after load, scripts and timers (``budget_ms`` of virtual
    time) had their chance to run."""
    result = _run([f"--virtual-time-budget={budget_ms}", "--dump-dom", page.resolve().as_uri()])
    if result.returncode != 0 or "<html" not in result.stdout:
        raise RuntimeError(f"chromium --dump-dom failed ({result.returncode}): "
                           f"{result.stderr[-2000:]}")
    return result.stdout


def screenshot(page: Path, target: Path, *, width: int = 1200, height: int = 1500) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    result = _run([f"--window-size={width},{height}", f"--screenshot={target.resolve()}",
                   page.resolve().as_uri()])
    if result.returncode != 0 or not target.is_file():
        raise RuntimeError(f"chromium --screenshot failed ({result.returncode}): "
                           f"{result.stderr[-2000:]}")
    return target


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
