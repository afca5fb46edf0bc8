"""stafett: the BTI integration adapter.

Keeps a municipality's own BTI case system, Visma Flyt Samspill (stafettlogg and
individual plan) and the archive (Public 360) in step.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
