"""Errors of the planning library, named for what the caller does next."""


class PlanningError(Exception):
    """Root of the planning errors; the CLI prints them without a traceback."""


class LayerError(PlanningError):
    """A layer file cannot be used as given: fix the file named in the message."""


class SampleError(PlanningError):
    """The sample generator's inputs are missing or inconsistent."""
