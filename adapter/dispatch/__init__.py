"""The dispatcher: the loop that runs due operations against their targets (`worker`), what
an outcome means and its recording (`outcomes`), the pass's link cache (`links`), the retry
policy (`retry`)."""

__all__: list[str] = []
