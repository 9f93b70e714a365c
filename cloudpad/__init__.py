"""Cloud Architecture Notepad: the models, data and pipeline behind the book."""

__version__ = "0.1.0"
