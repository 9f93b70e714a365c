"""The models behind the articles: one module per concern, each function citing its source.

Import the module you need (``from cloudpad.models import queueing``).  This file
imports nothing, so the pipeline's dependency tracking sees exactly the model
modules a notebook used.
"""
