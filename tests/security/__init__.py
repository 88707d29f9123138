"""The attacker's suite (issue 16): every attack an outside test found, replayed against the real
service on SQLite and PostgreSQL, and run by ``make test``.

What it holds, one module per kind of attack, and what lives beside the code it attacks:

- the route table against every role and scope: ``tests/vigie/test_routes.py`` (built from the
  app itself, ``tests/helpers/route_table.py``);
- hostile cameras (XML bombs, entities, DTDs, endless replies): ``tests/cameras/test_safexml.py``.
"""
