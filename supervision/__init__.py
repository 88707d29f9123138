"""The supervision engine: probes, picture health, incidents, live fan-out."""
