"""Vigie: plan and supervise the video-protection network of a French département."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vigie")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"
