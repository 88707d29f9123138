"""What is supervised, and where: cameras from files and plans, the communes referential.

- :mod:`.cameras`: the camera inventory from a CSV or GeoJSON file, all rows or none;
- :mod:`.plans`: cameras from a plan's masts, addressed like the simulator;
- :mod:`.communes`: the communes and intercommunalities loaded into the database.
"""
