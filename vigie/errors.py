"""The error tree of the application shell, named for what the caller does next.

Each package keeps its own root (``planning.PlanningError``) because ``planning`` and ``cameras``
must not import ``vigie``; :data:`USER_ERRORS` gathers the roots the CLI and the API report without
a traceback.
"""

from cameras.errors import CameraError
from planning.errors import PlanningError


class VigieError(Exception):
    """Root of the application's errors: a message a user can act on."""


class ConfigurationError(VigieError):
    """A setting is missing or wrong: fix the environment variable or file named in the message."""


class DatabaseError(VigieError):
    """The database cannot be reached or is not at the expected schema revision."""


USER_ERRORS: tuple[type[Exception], ...] = (VigieError, PlanningError, CameraError)
