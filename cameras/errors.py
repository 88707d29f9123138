"""The cameras package's errors, named for what the caller does next.

``cameras`` must not import ``vigie``, so it keeps its own root; ``vigie.errors.USER_ERRORS``
includes :class:`CameraError` so the CLI prints these without a traceback.
"""

from __future__ import annotations


class CameraError(Exception):
    """Root of the camera errors. The message starts with ``host:port`` (or the file at fault)."""


class CameraUnreachable(CameraError):  # noqa: N818 -- named for what the caller does next
    """No answer in time (refused, reset, timed out): retry later, check the network or power."""


class CameraAuthFailed(CameraError):  # noqa: N818 -- likewise
    """The camera refused the credentials (ONVIF NotAuthorized or HTTP 401): fix them."""


class CameraBasicRefused(CameraAuthFailed):
    """The camera asks for HTTP Basic (password in clear), not allowed for it: nothing was sent.
    Allow Basic for this camera only if it offers nothing better, or switch it to Digest."""


class CameraCertificateChanged(CameraError):  # noqa: N818 -- named for what the caller does next
    """The camera's TLS certificate is not the one pinned: nothing was sent (an impostor, or a
    camera re-keyed). Check the camera, then trust its new certificate."""

    def __init__(self, message: str, *, pinned: str, presented: str) -> None:
        super().__init__(message)
        self.pinned = pinned
        self.presented = presented


class CameraProtocolError(CameraError):
    """The camera answered, but not with usable ONVIF: a SOAP fault, garbage or hostile XML."""


class CameraUnsupported(CameraProtocolError):  # noqa: N818 -- likewise
    """The camera does not offer this call or service: recorded once, then skipped, never
    counted as the camera's failure."""


class ScenarioError(CameraError):
    """The simulator's scenario file or a fault request is wrong: fix what the message names."""


class SimulatorError(CameraError):
    """The simulator cannot start as asked (port taken, too few file descriptors)."""
