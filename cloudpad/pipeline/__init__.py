"""The pipeline: find the book, plan and check a run, execute through the cache, record it.

Modules: ``project`` (the book on disk, its toc and config, the run lock),
``plan`` and ``parameters`` (what runs, with which values, checked before any
kernel starts), ``notebooks`` (reading notebooks once), ``cache``, ``tracking``
(which files a kernel read), ``runner`` (the run orchestration), ``executors/``
(how a job is executed: ``base`` the interface, ``local`` a process pool,
``dask`` a Dask cluster), ``outcomes`` (what a run produced), ``keyresults`` and
``manifest`` (the edition's machine-readable record), ``statefiles`` (reading
and writing the files kept between runs), ``retention`` (what parameterised
runs keep, and its size limit), ``baseline`` (editions compared with the
accepted one) and ``sweep`` (an article over a grid).  This file imports
nothing.
"""
