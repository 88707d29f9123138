"""Everything that talks to or imitates a camera (ONVIF client, catalogue, simulator)."""
