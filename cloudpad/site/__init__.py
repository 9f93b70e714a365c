"""The site: stage the executed book and render it with Jupyter Book (``render``); the
generated pages are declared in ``registry`` and written by one module each in ``pages/``.
This file imports nothing."""
