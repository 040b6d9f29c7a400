"""Deployment steps of briefwatch's own, for ``deploy/prefect.yaml``.

``enter_checkout`` is the deployments' pull step: a worker runs it, in the flow run's process,
before it loads ``flows/ingest.py``. It is Prefect's ``set_working_directory`` with a usable
default: the directory named by the worker's ``BRIEFWATCH_HOME`` (prefect.yaml passes
``{{ $BRIEFWATCH_HOME }}``, which Prefect fills in from the worker's environment when the run
starts, empty when unset), else the checkout this ``flows`` package is installed from (an
editable install, as ``make`` sets up). Relative paths in a deployment's parameters are
relative to that directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from briefwatch.errors import BriefwatchError

ENTRYPOINT_FILE = Path("flows") / "ingest.py"


class CheckoutNotFoundError(BriefwatchError):
    """The pull step found no briefwatch checkout to run the flow from."""


def installed_checkout() -> Path:
    """The checkout the running ``flows`` package comes from (its parent directory)."""
    return Path(__file__).resolve().parent.parent


def enter_checkout(directory: str = "") -> dict[str, str]:
    """Pull step: ``chdir`` into the briefwatch checkout and return it as ``directory``
    (Prefect then loads the entrypoint from there). CheckoutNotFoundError, naming what was
    tried, when the directory has no ``flows/ingest.py``."""
    if directory.strip():
        target = Path(directory.strip()).expanduser().resolve()
        origin = "BRIEFWATCH_HOME / the pull step's directory"
    else:
        target = installed_checkout()
        origin = "the checkout the installed flows package comes from"
    if not (target / ENTRYPOINT_FILE).is_file():
        raise CheckoutNotFoundError(
            f"{target} ({origin}) is not a briefwatch checkout: it has no {ENTRYPOINT_FILE}; "
            "start the worker with BRIEFWATCH_HOME set to the checkout's directory"
        )
    os.chdir(target)
    return {"directory": str(target)}
