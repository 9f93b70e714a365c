"""Refreshing the book's datasets from the providers that publish them.

``cloudpad data refresh`` (:mod:`cloudpad.cli_data`) calls :func:`cloudpad.refresh.core.refresh`,
which runs one adapter per source (``azure_prices``, ``aws_prices``, ``gcp_prices``,
``azure_rtt``, ``eks_eni``) through the HTTP client of :mod:`cloudpad.refresh.http`,
checks the result (:mod:`cloudpad.refresh.gates`), writes the data files and the
descriptor whole or not at all (:mod:`cloudpad.refresh.descriptor`), records each
dataset's refresh status (:mod:`cloudpad.refresh.status`) and reports what changed
(:mod:`cloudpad.refresh.report`).  The package uses :mod:`cloudpad.data` and
:mod:`cloudpad.exceptions` only.  This ``__init__`` imports nothing, so reading the
status (the site does) does not import the HTTP client.
"""
