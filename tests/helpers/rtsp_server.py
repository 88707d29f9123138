"""A real RTSP server for the stream-check tests: GStreamer's, from Debian (system Python).

    /usr/bin/python3 rtsp_server.py PORT

Serves a live test pattern, JPEG over RTP, on 127.0.0.1:PORT at
``/good`` (640x360, 10 frames/s) and ``/slow`` (640x360, 2 frames/s), and prints ``ready``.
Debian's packages python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-base and -good
(installed by .ci/run) provide it.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

STREAMS = {"/good": 10, "/slow": 2}


def main() -> None:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(sys.argv[1])
    mounts = server.get_mount_points()
    for path, fps in STREAMS.items():
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(
            "( videotestsrc is-live=true pattern=ball "
            f"! video/x-raw,format=I420,width=640,height=360,framerate={fps}/1 "
            "! jpegenc quality=60 ! rtpjpegpay name=pay0 pt=26 )"
        )
        factory.set_shared(True)
        mounts.add_factory(path, factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on 127.0.0.1:{sys.argv[1]}")
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
