"""The HTTP API's routers, one per resource, joined by ``vigie.api.create_app`` (``ROUTERS``).

A router never imports another router: what several share lives in ``vigie.deps`` (request
dependencies), ``vigie.auth`` (roles, guards, the camera in the caller's scope) or the service
packages (``vigie.live.views``, ``vigie.supervisor``, ``vigie.estimate``...). Nothing but
``vigie.api`` imports a router (``tests/test_layout.py`` checks both rules).
"""
