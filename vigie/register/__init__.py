"""The legal register (CSI L251-1 ff., L252-1 ff.): under which prefectoral authorisation each
camera films, where it looks, and what the gendarmerie may ask of it.

- :mod:`.fov`: a camera's field of view as a sector polygon (WGS84), pure geometry;
- :mod:`.authorisations`: authorisations and the cameras they cover, in force or not;
- :mod:`.alerts`: authorisations about to end, cameras filming without a valid one;
- :mod:`.requisitions`: which cameras saw a place over a period, and in which state;
- :mod:`.layers`: the fields of view as GeoJSON and GeoPackage layers.
"""
