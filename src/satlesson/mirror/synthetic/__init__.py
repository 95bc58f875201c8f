"""The synthetic snapshot: the scene table, the catalog documents built from it, and the
raster files rendered from both (place-true, deterministic, not real pixels)."""
