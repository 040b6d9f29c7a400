"""Deployment steps of briefwatch's own, for ``deploy/prefect.yaml``.

``enter_checkout`` is the deployments' pull step: a worker runs it, in the flow run's process,
before it loads the entrypoint ``briefwatch.flows.ingest:ingest_flow`` (a module path, so it
imports from wherever briefwatch is installed). It is Prefect's ``set_working_directory``
with a usable default, tried in this order:

1. the directory it is given: the worker's ``BRIEFWATCH_HOME`` (prefect.yaml passes
   ``{{ $BRIEFWATCH_HOME }}``, which Prefect fills in from the worker's environment when the
   run starts, empty when unset), else ``$BRIEFWATCH_HOME`` of this process;
2. the checkout this package is installed from, for an editable install (as ``make`` sets
   up): a directory with a pyproject.toml naming briefwatch and the package source;
3. otherwise (a plain ``pip install``, whose package lives in site-packages) a
   CheckoutNotFoundError telling the user to set BRIEFWATCH_HOME. It never enters
   site-packages: relative paths in a deployment's parameters are relative to the directory
   it enters, and a relative ``db_path`` would be created there.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from briefwatch.errors import BriefwatchError

HOME_VARIABLE = "BRIEFWATCH_HOME"
ENTRYPOINT_FILE = Path("flows") / "ingest.py"
PACKAGE_FILE = Path("briefwatch") / "__init__.py"


class CheckoutNotFoundError(BriefwatchError):
    """The pull step found no briefwatch checkout to run the flow from."""


def is_checkout(directory: Path) -> bool:
    """A briefwatch source checkout: pyproject.toml naming the project ``briefwatch``, the
    package source and the flows folder."""
    if not ((directory / PACKAGE_FILE).is_file() and (directory / ENTRYPOINT_FILE).is_file()):
        return False
    try:
        project = tomllib.loads((directory / "pyproject.toml").read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return bool(project.get("project", {}).get("name") == "briefwatch")


def checkout_of(module_file: Path) -> Path:
    """The checkout a ``flows`` module file comes from. In a checkout (and so in an editable
    install) briefwatch/flows is a symlink to the top-level flows/ folder, so the resolved file
    lies in <checkout>/flows/; in a plain install it lies in site-packages/briefwatch/flows/,
    whose grandparent is no checkout. CheckoutNotFoundError then."""
    candidate = module_file.resolve().parent.parent
    if not is_checkout(candidate):
        raise CheckoutNotFoundError(
            f"briefwatch is not installed from a checkout (its flows package is in "
            f"{module_file.resolve().parent}); set {HOME_VARIABLE} on the worker to the "
            "directory of a briefwatch checkout"
        )
    return candidate


def installed_checkout() -> Path:
    """The editable checkout the running ``flows`` package comes from."""
    return checkout_of(Path(__file__))


def _named_home(directory: str) -> Path:
    target = Path(directory).expanduser().resolve()
    if not is_checkout(target):
        raise CheckoutNotFoundError(
            f"{target} ({HOME_VARIABLE} / the pull step's directory) is not a briefwatch "
            f"checkout: it needs pyproject.toml naming briefwatch, {PACKAGE_FILE} and "
            f"{ENTRYPOINT_FILE}; set {HOME_VARIABLE} on the worker to the checkout's directory"
        )
    return target


def enter_checkout(directory: str = "") -> dict[str, str]:
    """Pull step: ``chdir`` into the briefwatch checkout and return it as ``directory``.
    CheckoutNotFoundError, naming what was tried, when there is none (see the module)."""
    named = directory.strip() or os.environ.get(HOME_VARIABLE, "").strip()
    target = _named_home(named) if named else installed_checkout()
    os.chdir(target)
    return {"directory": str(target)}
