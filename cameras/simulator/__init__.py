"""An ONVIF device simulator: many virtual cameras, one port each, with faults on demand."""
