"""Installable anywhere (issue 11, point 5): the wheel built from this checkout, installed
with pip (not editable) into a fresh virtualenv, runs ``demo``, ``serve --check`` and
``reparse`` from a directory outside the checkout.

The wheel is built from a copy of the package sources (a stale build/ in the checkout cannot
leak into it) with ``pip wheel --no-build-isolation --no-index``: offline, with the project
venv's own setuptools. The fresh venv is made ``--without-pip``; pip installs the wheel into
it (``--python``, ``--no-deps``) and its dependencies come from the project venv through one
``.pth`` line naming the project venv's site-packages. A path line in a .pth is appended to
sys.path after the venv's own site-packages and its .pth files are not run, so the editable
install of the checkout stays invisible: the tests check that briefwatch and its
subpackages are imported from the new venv's site-packages. Measured on the shared 2-core machine:
venv ~0.1 s, wheel ~3 s, install ~1.2 s; ``demo`` (a temporary Prefect server) ~30 s.
Deselect with ``-m "not install"``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from briefwatch.pipeline.reparse import parser_fingerprint
from tests.support.paths import REPO

pytestmark = [pytest.mark.install, pytest.mark.slow]

SOURCES = ("pyproject.toml", "README.md", "briefwatch", "parsers", "store", "flows")
LINKED = ("parsers", "store", "flows")  # briefwatch/<name> -> ../<name> in the checkout


@dataclass(frozen=True, slots=True)
class Installed:
    wheel: Path
    venv: Path
    site: Path  # the new venv's site-packages
    outside: Path  # a working directory outside the checkout
    env: dict[str, str]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(a) for a in args], cwd=self.outside, env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def briefwatch(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.venv / "bin" / "briefwatch"), *args, timeout=timeout)


def _copy_sources(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    target.mkdir()
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    return target


def _checked(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}: {result.stdout}\n{result.stderr}"
    return result


def _build_wheel(work: Path) -> Path:
    source = _copy_sources(work / "src")
    _checked(subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "--wheel-dir", str(work / "dist"), str(source)],
        capture_output=True, text=True, timeout=300, check=False))
    (wheel,) = (work / "dist").glob("briefwatch-*.whl")
    return wheel


def _environment(work: Path, venv: Path) -> dict[str, str]:
    dropped = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "BRIEFWATCH_HOME", "BRIEFWATCH_DB",
               "BRIEFWATCH_SERVE_CONFIG")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("PREFECT_")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
               PREFECT_HOME=str(work / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", PYTHONUNBUFFERED="1")
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("install")
    assert not work.resolve().is_relative_to(REPO)
    wheel = _build_wheel(work)
    venv = work / "venv"
    _checked(subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)],
                            capture_output=True, text=True, timeout=120, check=False))
    python = venv / "bin" / "python"
    site = Path(_checked(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, timeout=60, check=False)).stdout.strip())
    (site / "briefwatch-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _checked(subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)],
        capture_output=True, text=True, timeout=300, check=False))
    outside = work / "elsewhere"
    outside.mkdir()
    return Installed(wheel, venv, site, outside, _environment(work, venv))


def test_wheel_holds_the_subpackages_as_real_files(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        infos = wheel.infolist()
    names = {info.filename for info in infos}
    tops = {name.split("/")[0] for name in names}
    assert tops == {"briefwatch", f"{installed.wheel.name.split('-py')[0]}.dist-info"}
    for name in LINKED:
        assert f"briefwatch/{name}/__init__.py" in names
        assert not any(n.startswith(f"{name}/") for n in names)
    assert {"briefwatch/flows/ingest.py", "briefwatch/parsers/html/__init__.py",
            "briefwatch/store/queries/__init__.py", "briefwatch/py.typed"} <= names
    assert any(n.startswith("briefwatch/examples/v2/") for n in names)
    assert any(n.startswith("briefwatch/report/templates/") for n in names)
    modes = {info.filename: info.external_attr >> 16 for info in infos}
    links = [n for n, mode in modes.items() if mode and not stat.S_ISREG(mode)]
    assert links == []  # no symlinks: every entry a regular file
    for name in LINKED:  # and installed as a real directory, not a link to a checkout
        installed_dir = installed.site / "briefwatch" / name
        assert installed_dir.is_dir() and not installed_dir.is_symlink()


PROBE = """
import importlib.util, json
import briefwatch, briefwatch.flows, briefwatch.parsers, briefwatch.store
from briefwatch.pipeline.reparse import parser_fingerprint
from briefwatch.errors import BriefwatchError
from briefwatch.flows.steps import enter_checkout
try:
    entered = enter_checkout("")
except BriefwatchError as error:
    entered = f"{type(error).__name__}: {error}"
print(json.dumps({
    "files": [m.__file__ for m in (briefwatch, briefwatch.flows, briefwatch.parsers,
                                   briefwatch.store)],
    "top_level": [importlib.util.find_spec(n) is not None for n in ("parsers", "store", "flows")],
    "fingerprint": parser_fingerprint(),
    "enter_checkout": entered,
}))
"""


def test_briefwatch_is_imported_from_the_new_venv(installed: Installed) -> None:
    probe = json.loads(_checked(installed.run(str(installed.python), "-c", PROBE)).stdout)
    for file in probe["files"]:
        assert Path(file).resolve().is_relative_to(installed.site.resolve()), file
        assert not Path(file).resolve().is_relative_to(REPO), file
    assert probe["top_level"] == [False, False, False]
    assert probe["fingerprint"] == parser_fingerprint()  # by module, not by path
    # a plain install: the pull step refuses site-packages and asks for BRIEFWATCH_HOME
    assert probe["enter_checkout"].startswith("CheckoutNotFoundError: ")
    assert "set BRIEFWATCH_HOME" in probe["enter_checkout"]


def test_demo_serve_check_and_reparse_run_outside_the_checkout(installed: Installed) -> None:
    demo = installed.outside / "demo"
    ran = _checked(installed.briefwatch("demo", "--workdir", str(demo)))
    db = demo / "briefwatch.db"
    assert f"store: {db}" in ran.stdout
    assert "reattributed" in ran.stdout and db.is_file()

    config = installed.outside / "briefwatch.toml"
    config.write_text('root = "."\n\n[[deployment]]\nname = "installed"\n'
                      'sources = ["demo/pages"]\ndb = "served.db"\ncron = "0 * * * *"\n')
    checked = _checked(installed.briefwatch("serve", "--check", "--config", str(config)))
    assert checked.stdout.startswith("ingest/installed: cron '0 * * * *' (UTC); "
                                     f"sources {demo / 'pages'}; "
                                     f"store {installed.outside / 'served.db'}")
    assert not (installed.outside / "served.db").exists()  # checked, not served
    # no --config, and no deploy/briefwatch.toml where it runs: one line saying what to do
    bare = installed.briefwatch("serve", "--check")
    assert bare.returncode == 2, bare
    assert "no deployments file deploy/briefwatch.toml under" in bare.stderr
    assert "--config FILE" in bare.stderr and "Traceback" not in bare.stderr

    reparsed = _checked(installed.briefwatch("reparse", "--db", str(db), "--format", "json"))
    report = json.loads(reparsed.stdout)
    assert report["run"]["kind"] == "reparse"
    assert report["run"]["status"] == "completed"
    assert report["run"]["counts"]["pages"] == 3
    assert report["run"]["counts"]["failed"] == 0
    assert report["run"]["counts"]["versions_identical"] == report["run"]["counts"]["versions"]
    text = _checked(installed.briefwatch("reparse", "--db", str(db))).stdout
    assert f"parser {parser_fingerprint()}" in text
    assert not list(installed.site.glob("**/*.db"))  # nothing written into site-packages
