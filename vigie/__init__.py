"""Vigie: plan and supervise the video-protection network of a French département.

The application shell. A small core at the top (settings, errors, clock, db, models, deps, api,
problems, audit, credentials, redaction, admission, geo_cache) and one folder per job: ``cli``
(the ``vigie`` command), ``auth``, ``routes`` (the HTTP API), ``estimate``, ``supervisor`` (which
drives the pure ``supervision`` package), ``live``, ``inventory``, ``webhooks``, ``register``
(the legal register: authorisations, fields of view) and ``web`` (the dashboard's assets).
Nothing imports ``cli`` or ``routes`` but their own entry points
(``tests/test_layout.py``).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vigie")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"
