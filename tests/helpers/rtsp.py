"""Start GStreamer's RTSP server (``rtsp_server.py``, run by Debian's system Python) for a test."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVER = Path(__file__).with_name("rtsp_server.py")


@contextmanager
def serving_rtsp(port: int) -> Iterator[str]:
    """``rtsp://127.0.0.1:PORT``, serving /good (10 frames/s) and /slow (2 frames/s)."""
    server = subprocess.Popen(
        ["/usr/bin/python3", str(SERVER), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
        assert line.strip() == "ready", f"the RTSP server did not start: {server.stderr.read()}"
        yield f"rtsp://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
