"""The runtime that drives the pure ``supervision`` package inside ``vigie serve``.

- :mod:`.runtime`: the supervisor: inventory loaded, checks scheduled, results handed on;
- :mod:`.writer`: results queued and written in batches off the event loop;
- :mod:`.store`: a result or a tick applied to the database in one transaction (states,
  observations, incidents, events) and the supervision queries the routes read;
- :mod:`.pictures`: each camera's picture memory (reference, previous, last snapshot encrypted);
- :mod:`.metrics`: the Prometheus series, fed a snapshot of the supervisor (never the supervisor).
"""
