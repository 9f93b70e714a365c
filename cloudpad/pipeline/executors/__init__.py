"""Executors: where and how a notebook job runs (``base``: the interface; ``local``: a pool)."""
