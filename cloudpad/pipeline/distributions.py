"""The installed distributions a notebook's kernel imported, and their versions.

The cache keys a result on the versions of the distributions (PyPI packages)
behind the modules its kernel actually imported, not on the lock files: a new
pin of a test tool re-executes nothing, a new numpy re-executes exactly the
notebooks whose kernel imported numpy.  The kernel logs the top-level modules
it imported (:mod:`.tracking`); :func:`of_modules` maps them to distributions
with :func:`importlib.metadata.packages_distributions` and their installed
versions; :func:`installed` says what is installed now, for the freshness check.

In a cache record and the manifest a distribution is one of the result's
dependencies, keyed ``package:<name>`` (the name normalised as in PEP 503,
e.g. ``package:pyyaml``) with its version as the value, beside the files keyed
by path with their SHA-256 (:func:`dependency_key`, :func:`package_name`).
Standard-library modules belong to no distribution (the Python version covers
them); ``cloudpad``'s own modules are tracked file by file, so its
distribution is left out.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata

#: Prefix of a distribution among a result's dependencies: ``package:numpy`` -> "2.1.3".
KEY_PREFIX = "package:"
#: Distributions whose modules are tracked file by file instead (by hash).
TRACKED_BY_FILE = frozenset({"cloudpad"})

_SEPARATORS = re.compile(r"[-_.]+")


def canonical(name: str) -> str:
    """A distribution name normalised as PEP 503 does: ``PyYAML`` -> ``pyyaml``."""
    return _SEPARATORS.sub("-", name).lower()


def dependency_key(name: str) -> str:
    """The dependency key of distribution ``name``: ``package:<canonical name>``."""
    return KEY_PREFIX + canonical(name)


def package_name(key: str) -> str | None:
    """The distribution a dependency key names, or ``None`` for a file."""
    return key[len(KEY_PREFIX) :] if key.startswith(KEY_PREFIX) else None


def installed(paths: Iterable[str] | None = None) -> dict[str, str]:
    """Every distribution installed on ``paths`` (default ``sys.path``): canonical name -> version.

    Read from the names of the ``<name>-<version>.dist-info`` folders (the
    binary distribution format puts both in the name; a legacy
    ``<name>-<version>[-pyX.Y].egg-info`` likewise), the first one on the path
    winning as for imports: one directory listing per path entry, about a
    millisecond, so it is read afresh for every check.
    """
    found: dict[str, str] = {}
    for entry in sys.path if paths is None else paths:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # not a folder (a zip), or gone
            continue
        for folder in names:
            stem, dot, suffix = folder.rpartition(".")
            if dot and suffix in ("dist-info", "egg-info"):
                name, _, rest = stem.partition("-")
                version = rest.split("-")[0]
                if name and version:
                    found.setdefault(canonical(name), version)
    return found


def version(name: str, versions: Mapping[str, str] | None = None) -> str | None:
    """The installed version of distribution ``name`` (``None`` when it is not installed)."""
    return (installed() if versions is None else versions).get(canonical(name))


@functools.lru_cache(maxsize=1)
def _module_owners() -> dict[str, tuple[str, ...]]:
    """Top-level module -> the canonical names of the distributions providing it (once a process).

    :func:`importlib.metadata.packages_distributions` reads every installed
    distribution's file list (about 0.2 s for 150 distributions), so a worker
    process does it once.
    """
    return {
        module: tuple(sorted({canonical(d) for d in dists}))
        for module, dists in metadata.packages_distributions().items()
    }


def of_modules(modules: Iterable[str]) -> dict[str, str]:
    """The distributions behind top-level ``modules``, with their versions: name -> version.

    Modules of no distribution (the standard library, a notebook's own files)
    and ``cloudpad`` itself (:data:`TRACKED_BY_FILE`) are left out.
    """
    owners = _module_owners()
    versions = installed()
    found: dict[str, str] = {}
    for module in modules:
        for name in owners.get(module, ()):
            if name in TRACKED_BY_FILE:
                continue
            found[name] = version(name, versions) or "unknown"
    return dict(sorted(found.items()))


def all_installed() -> dict[str, str]:
    """Every installed distribution but ``cloudpad``: what an untracked result depends on."""
    return {n: v for n, v in sorted(installed().items()) if n not in TRACKED_BY_FILE}


def as_dependencies(packages: Mapping[str, str]) -> dict[str, str]:
    """``{"numpy": "2.1.3"}`` -> ``{"package:numpy": "2.1.3"}`` (dependency keys)."""
    return {dependency_key(name): ver for name, ver in packages.items()}
