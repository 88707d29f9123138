"""The ``vigie`` command line (console script ``vigie = vigie.cli:main``).

- :mod:`.main`: the application joining the groups, and the entry point;
- :mod:`.context`: what the groups share (consoles, the audit actor, a database session, progress);
- :mod:`.plan`: ``validate``, ``plan``, ``sample``; :mod:`.estimate`: ``estimate``;
- :mod:`.serve`: ``serve``, ``demo``, ``db``; :mod:`.demo`: what ``vigie demo`` runs;
- :mod:`.simulate`: ``simulate``; :mod:`.cameras`: ``cameras``; :mod:`.webhooks`: ``webhooks``;
  :mod:`.notify`: ``notify``;
- :mod:`.security`: ``users``, ``tokens``, ``audit``, ``keys``.

Nothing outside this package imports it: the HTTP layer and the services never depend on the
command line.
"""

from vigie.cli.main import app, main

__all__ = ["app", "main"]
