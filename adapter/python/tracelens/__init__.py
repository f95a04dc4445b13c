# Tracelens's in-process tracer: records calls, arguments, return values and exceptions of a
# Python program and sends them to the Tracelens adapter or writes a trace file.
# Standard library only; `python -m tracelens --help` explains the command line.
from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
