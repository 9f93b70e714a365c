"""The pipeline: find the book, plan and check a run, execute through the cache, record it.

Modules: ``project`` (the book on disk, its toc and config, the run lock),
``parameters`` (an article's parameters cell and ``-p`` overrides), ``cache``,
``tracking`` (which files a kernel read), ``runner`` (the run orchestration),
``executors/`` (how a job is executed: the interface and the local process
pool), ``outcomes`` (what a run produced), ``keyresults`` and ``manifest`` (the
edition's machine-readable record).  This file imports nothing.
"""
