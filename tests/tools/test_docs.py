"""The docs name files that exist: every repository path written in backticks in README.md,
docs/*.md and the READMEs of deploy/, the examples and the test fixtures
(``briefwatch/diff/``, ``tests/flows/test_deploy.py``, and ``tests/x.py::test_name`` with
the test it names), and every relative link target, is
checked against the checkout; so is every dotted module name in backticks
(``briefwatch.flows.steps.enter_checkout``, ``python -m bench.fetch``): the module imports
and has the attribute. A module moved or renamed without its docs fails here.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import REPO

DOC_FILES = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")),
             *(REPO / folder / "README.md" for folder in (
                 "deploy", "briefwatch/examples", "tests/hostile", "tests/fixtures/html",
                 "tests/fixtures/hostile")))
# top-level folders of this repository: a backticked word starting with one names a path
PREFIXES = ("briefwatch/", "parsers/", "store/", "flows/", "tests/", "bench/", "eval/",
            "deploy/", "docs/", "reliability/")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_WORD = re.compile(r"[A-Za-z0-9_.*/-]+(?:::[A-Za-z0-9_]+)?")
# a dotted name of this repository's packages; file names like briefwatch.db are not modules
_MODULE = re.compile(r"(?<![\w./-])(?:briefwatch|bench|eval|reliability)(?:\.[A-Za-z_]\w*)+")
_FILE_SUFFIXES = {"db", "lock", "toml", "yaml", "json", "md", "py", "xml", "html"}
_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # https:, mailto:, ...: not a repository path


@dataclass(frozen=True, slots=True)
class DocPath:
    """A path a doc names: ``path`` relative to ``base``, optionally a test in it."""

    doc: str
    path: str
    base: Path
    test: str | None = None


def named_paths(text: str, doc: str, doc_dir: Path) -> list[DocPath]:
    """The repository paths in backtick spans (outside fenced blocks) and the relative link
    targets of the Markdown ``text``."""
    prose = _FENCE.sub("", text)
    found: list[DocPath] = []
    for span in _SPAN.finditer(prose):
        for word in _WORD.findall(span.group(2)):
            if word.startswith(PREFIXES):
                path, _, test = word.partition("::")
                found.append(DocPath(doc, path.rstrip("."), REPO, test or None))
    for target in _LINK.findall(prose):
        if not _SCHEME.match(target):
            found.append(DocPath(doc, target, doc_dir))
    return found


def missing(named: DocPath) -> str | None:
    """Why ``named`` does not name a file of the checkout, or None if it does."""
    if "*" in named.path:
        return None if any(named.base.glob(named.path)) else "no file matches"
    target = named.base / named.path
    if not target.exists():
        return "does not exist"
    if named.test and not re.search(rf"^\s*(?:async )?def {named.test}\b",
                                    target.read_text(encoding="utf-8"), re.M):
        return f"has no test {named.test}"
    return None


def named_modules(text: str) -> list[str]:
    """The dotted module (or module attribute) names in backtick spans of ``text``."""
    prose = _FENCE.sub("", text)
    return [name for span in _SPAN.finditer(prose) for name in _MODULE.findall(span.group(2))
            if name.rsplit(".", 1)[1] not in _FILE_SUFFIXES]


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent is missing, or is a module, not a package
        return False


def unresolved(name: str) -> str | None:
    """Why ``name`` is neither a module nor an attribute (or attribute of an attribute) of
    one, or None if it is. A module named whole is found, not imported."""
    parts = name.split(".")
    modules = [i for i in range(len(parts), 0, -1) if _is_module(".".join(parts[:i]))]
    if not modules:
        return "no such module"
    if modules[0] == len(parts):
        return None
    value: object = importlib.import_module(".".join(parts[:modules[0]]))
    for at, attribute in enumerate(parts[modules[0]:], start=modules[0]):
        if not hasattr(value, attribute):
            return f"{'.'.join(parts[:at])} has no {attribute}"
        value = getattr(value, attribute)
    return None


def all_named() -> list[DocPath]:
    return [p for doc in DOC_FILES
            for p in named_paths(doc.read_text(encoding="utf-8"),
                                 str(doc.relative_to(REPO)), doc.parent)]


def test_every_path_the_docs_name_exists() -> None:
    named = all_named()
    assert len(named) > 50  # the scan reads the docs (README alone names about 90)
    problems = [f"{p.doc}: `{p.path}{'::' + p.test if p.test else ''}` {why}"
                for p in named if (why := missing(p))]
    assert problems == []


def test_every_module_the_docs_name_exists() -> None:
    named = [(doc, name) for doc in DOC_FILES
             for name in named_modules(doc.read_text(encoding="utf-8"))]
    assert len(named) > 10
    problems = [f"{doc.relative_to(REPO)}: `{name}` {why}"
                for doc, name in named if (why := unresolved(name))]
    assert problems == []


@pytest.mark.parametrize(("text", "why"), [
    ("`briefwatch.report_data.run_fields`", "briefwatch has no report_data"),
    ("`briefwatch.store.Store.no_such_method`", "briefwatch.store.Store has no no_such_method"),
    ("`briefwatch.store.Store.record_page`", None),
    ("`python -m bench.no_such_bench`", "bench has no no_such_bench"),
    ("`briefwatch.store.NoSuchStore`", "briefwatch.store has no NoSuchStore"),
    ("`briefwatch.pipeline.steps.read_and_parse`", None),
    ("`eval.run_all`", None),
])
def test_a_stale_module_is_found(text: str, why: str | None) -> None:
    [name] = named_modules(text)
    assert unresolved(name) == why


def test_file_names_are_not_modules() -> None:
    assert named_modules("`briefwatch.db`, `briefwatch.db.lock` and `briefwatch.toml`") == []


def test_docs_link_the_architecture_page() -> None:
    readme = named_paths((REPO / "README.md").read_text(encoding="utf-8"), "README.md", REPO)
    assert "docs/architecture.md" in {p.path for p in readme}


@pytest.mark.parametrize(("text", "why"), [
    ("see `briefwatch/diff.py` here", "does not exist"),
    ("run `pytest tests/flows/test_deploy.py::test_no_such_test`", "has no test test_no_such_test"),
    ("`tests/nowhere_*.py`", "no file matches"),
    ("[the page](docs/no-such-page.md)", "does not exist"),
])
def test_a_stale_path_is_found(text: str, why: str) -> None:
    [named] = named_paths(text, "sample", REPO)
    assert missing(named) == why


@pytest.mark.parametrize("text", [
    "```sh\nbriefwatch ingest `briefwatch/gone.py`\n```\n",  # fenced: commands, not prose
    "`briefwatch.db` and `briefwatch ingest` are not paths; [web](https://example.org/x.md)",
    "[mail](mailto:a@example.org) [script](javascript:alert(1))",
])
def test_what_is_not_a_repository_path(text: str) -> None:
    assert named_paths(text, "sample", REPO) == []


def test_existing_paths_pass() -> None:
    text = ("`briefwatch/diff/` and `tests/tools/test_docs.py::test_existing_paths_pass`"
            " and `store/queries/*.py`")
    named = named_paths(text, "sample", REPO)
    assert [missing(p) for p in named] == [None, None, None]
