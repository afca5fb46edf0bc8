"""The dispatcher: runs due operations against their targets (`worker`), retry policy (`retry`)."""

__all__: list[str] = []
