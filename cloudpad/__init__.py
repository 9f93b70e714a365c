"""Cloud Architecture Notepad: the models, data and pipeline behind the book.

Subpackages: ``models`` (one module per model), ``pipeline`` (plan, cache,
executors, manifest, editions), ``site`` (staging, rendering, generated pages),
``refresh`` (datasets fetched from their providers, checked, written, reported).
Modules: ``article`` and ``style`` (what every article uses), ``data`` (validated
datasets), ``exceptions``, ``files`` (whole-or-nothing writes), ``cli``,
``cli_edition`` and ``cli_data`` (the command line).
Import the module you need: this package imports nothing eagerly, so the
pipeline can tell which modules a notebook used.
"""

import os as _os

__version__ = "0.1.0"

if _os.environ.get("CLOUDPAD_DEPS_LOG"):
    from cloudpad.pipeline import tracking as _tracking

    _tracking.install(_os.environ["CLOUDPAD_DEPS_LOG"], _os.path.dirname(__file__))
