"""What several test modules share, and the benchmarks too: data, builders, real servers.

Test modules and conftest.py files import from here, never from each other (a conftest.py holds
only fixtures). One module per kind of helper:

- where things are, and the databases: ``paths`` (the repository, the Eure sample, SteinLib),
  ``postgres`` (throw-away PostgreSQL databases);
- planning: ``planning_layers`` (small clean layers and their writers);
- cameras: ``simulator`` (``vigie simulate`` in a subprocess), ``camera_servers`` (the cameras
  tests' simulator and one-route servers), ``soap`` (crafted SOAP replies), ``picture_measures``
  (sharpness and likeness of a snapshot);
- supervision: ``probe_simulator`` (the probe tests' simulator, a simple picture check),
  ``timeline`` (check results folded through the state machine), ``picture_faults`` (frames from
  real photographs with picture faults, also for ``benchmarks/imaging``), ``rtsp`` (GStreamer's
  RTSP server, ``rtsp_server.py``, run by the system Python);
- the service: ``service`` (settings, seeded users, a test client), ``supervision_data`` (cameras
  and check results in the database), ``supervisor_harness`` (a supervisor over a simulator),
  ``cli`` (the console script in a subprocess), ``http_server`` (uvicorn in a thread),
  ``live_server``, ``route_table`` (the role-by-route policy), ``inventory_csv``,
  ``webhook_data`` and ``webhook_receiver``, ``browser``, ``dashboard`` and ``dashboard_seed``;
  ``edge_server`` (``vigie serve`` in a subprocess and raw sockets, for the attacks on the HTTP
  edge in tests/security), ``tls`` (a self-signed certificate).

The port plan: each family of real servers listens in a range of its own, so that families can
run in one session, and in the three processes of ``scripts/run-tests`` (a family whose tests
run in several takes a third of its range in each, ``http_server.share``: the supervisor
harness, ``edge_server`` and ``personal_simulator``); the simulators, which cannot look for a
free port, and ``vigie serve``, which binds its port seconds after the probe, stay below 32768
(Linux hands out outgoing ports above: a connection of the moment took an ``edge_server`` port
between its probe and its bind, when that family lived at 34000):

- 7000-7999: ``edge_server`` (tests/security/test_http_edge.py, tests/vigie/cli/test_doctor.py,
  the servers of tests/vigie/cli/test_serve.py, the nodes of tests/vigie/cli/test_failover.py; a
  third per part); a server whose port was taken all the same is launched again on another
  (``edge_server.answering``);

- 10000-11999: the CLI tests' own servers: ``vigie demo`` on 10100 and its simulator from 10200
  (tests/vigie/cli/test_demo.py), ``vigie simulate`` from 10950 (tests/vigie/cli/test_simulate.py),
  the vendor personalities' simulator on 11000-11199, a third per part (``personal_simulator``);
- 12000-20999: the probe tests' simulator (tests/supervision/conftest.py);
- 21000-29799: the cameras tests' simulator (tests/cameras/conftest.py), on a 100-port block
  chosen by the process id and past any where something listens (``camera_servers.camera_block``),
  so nothing else of a fixed number may sit there (the demo's ports did, and met it one run in
  about 20); 29800-29999: the simulator tests of fixed ports (tests/cameras/simulator);
- 30000-30959: the supervisor harness's simulators (a third per part), 30989 test_runtime's RTSP
  server; 31000-31999: ``live_server``;
- 32000-32999: ``webhook_receiver``; 33000-33999: the dashboard tests (``dashboard``).
"""
