#!/usr/bin/python3
"""Serve H.264 clips as looping RTSP cameras on one port, one mount per camera.

Run it with the system Python that has GStreamer's bindings (Debian packages python3-gi,
gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good and -bad). Once it listens it prints one
JSON line {"event": "ready", "host": ..., "port": ..., "mounts": [...]} on stdout. It exits with
code 0 on SIGTERM, on SIGINT or when its stdin reaches EOF, so it does not outlive a parent that
keeps its stdin open.

Usage:
  rtsp_server.py [--host 127.0.0.1] [--port 8554] --camera NAME CLIP.h264 FPS [--camera ...]
  rtsp_server.py --check

Each clip must be an H.264 Annex-B elementary stream without B-frames.
"""
import argparse
import json
import os
import re
import signal
import sys
from fractions import Fraction

REQUIRED_ELEMENTS = ("multifilesrc", "h264parse", "rtph264pay")
MOUNT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_FPS = 240


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="Serve H.264 clips as looping RTSP cameras.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8554, help="TCP port, or 0 for a free one (default 8554)")
    parser.add_argument(
        "--camera", nargs=3, action="append", default=[], metavar=("NAME", "CLIP", "FPS"),
        help="serve CLIP (H.264 Annex-B) at rtsp://HOST:PORT/NAME at FPS frames per second",
    )
    parser.add_argument("--check", action="store_true", help="exit with 0 if GStreamer and its elements are installed")
    arguments = parser.parse_args(argv)
    if not arguments.check:
        arguments.cameras = validate_cameras(parser, arguments.camera)
    return arguments


def validate_cameras(parser, cameras):
    validated = []
    for name, clip_path, fps_text in cameras:
        if not MOUNT_NAME.match(name):
            parser.error(f"invalid camera name {name!r}: use 1-64 letters, digits, _ or -")
        if any(name == seen for seen, _, _ in validated):
            parser.error(f"camera name {name!r} is given twice")
        if not os.path.isfile(clip_path):
            parser.error(f"clip not found for camera {name}: {clip_path}")
        try:
            fps = Fraction(fps_text).limit_denominator(1001)
        except (ValueError, ZeroDivisionError):
            fps = Fraction(0)
        if not 0 < fps <= MAX_FPS:
            parser.error(f"invalid FPS {fps_text!r} for camera {name}: expected a number in (0, {MAX_FPS}]")
        validated.append((name, os.path.abspath(clip_path), fps))
    if not validated:
        parser.error("no camera given: add at least one --camera NAME CLIP FPS")
    return validated


def load_gstreamer():
    """Import and initialise GStreamer, or exit with status 1 and the packages to install."""
    try:
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtspServer
    except (ImportError, ValueError) as error:
        sys.exit(f"rtsp_server: GStreamer bindings not found ({error}); "
                 "install python3-gi and gir1.2-gst-rtsp-server-1.0")
    Gst.init(None)
    missing = [name for name in REQUIRED_ELEMENTS if Gst.ElementFactory.find(name) is None]
    if missing:
        sys.exit(f"rtsp_server: GStreamer elements not installed: {', '.join(missing)}; "
                 "install gstreamer1.0-plugins-good and gstreamer1.0-plugins-bad")
    return GLib, Gst, GstRtspServer


def define_clip_factory(Gst, GstRtspServer):
    """Return the media factory class, defined here because its base class is imported late."""

    def copy_dts_to_pts(pad, probe_info):
        buffer = probe_info.get_buffer()
        if buffer.pts == Gst.CLOCK_TIME_NONE:
            buffer.pts = buffer.dts
        return Gst.PadProbeReturn.OK

    def make_element(factory_name, name=None):
        element = Gst.ElementFactory.make(factory_name, name)
        if element is None:
            raise RuntimeError(f"GStreamer element {factory_name} is not installed")
        return element

    class LoopingClipFactory(GstRtspServer.RTSPMediaFactory):
        """Media factory that plays one clip in a loop, with one pipeline shared by all clients of the mount."""

        def __init__(self, clip_path, fps):
            super().__init__()
            self.clip_path = clip_path
            self.fps = fps
            self.set_shared(True)

        def do_create_element(self, url):
            source = make_element("multifilesrc")
            # multifilesrc expands its location with printf, so a literal % must be doubled.
            source.set_property("location", self.clip_path.replace("%", "%%"))
            source.set_property("loop", True)
            source.set_property("caps", Gst.Caps.from_string(
                "video/x-h264,stream-format=byte-stream,"
                f"framerate={self.fps.numerator}/{self.fps.denominator}"))
            parser = make_element("h264parse")
            # For an elementary stream h264parse (GStreamer 1.22) derives only DTS from the
            # framerate, and rtph264pay needs PTS. Without B-frames the two are equal.
            parser.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, copy_dts_to_pts)
            payloader = make_element("rtph264pay", "pay0")
            payloader.set_property("pt", 96)
            # Send SPS and PPS before every keyframe, so a client that joins late can decode.
            payloader.set_property("config-interval", -1)

            media_bin = Gst.Bin.new(None)
            chain = (source, parser, payloader)
            for element in chain:
                media_bin.add(element)
            for upstream, downstream in zip(chain, chain[1:]):
                if not upstream.link(downstream):
                    raise RuntimeError(f"cannot link {upstream.get_name()} to {downstream.get_name()}")
            return media_bin

    return LoopingClipFactory


def serve(arguments, GLib, Gst, GstRtspServer):
    clip_factory = define_clip_factory(Gst, GstRtspServer)
    server = GstRtspServer.RTSPServer()
    server.set_address(arguments.host)
    server.set_service(str(arguments.port))
    mounts = server.get_mount_points()
    for name, clip_path, fps in arguments.cameras:
        mounts.add_factory(f"/{name}", clip_factory(clip_path, fps))
    if server.attach(None) == 0:
        sys.exit(f"rtsp_server: cannot listen on {arguments.host}:{arguments.port}; "
                 "is the port in use or the address not local?")

    loop = GLib.MainLoop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal_number, quit_loop, loop)
    GLib.io_add_watch(sys.stdin.fileno(), GLib.PRIORITY_DEFAULT,
                      GLib.IOCondition.IN | GLib.IOCondition.HUP, quit_on_eof, loop)

    ready = {"event": "ready", "host": arguments.host, "port": server.get_bound_port(),
             "mounts": [name for name, _, _ in arguments.cameras]}
    print(json.dumps(ready), flush=True)
    loop.run()


# GLib callbacks return True to stay installed and False to be removed.


def quit_loop(loop):
    loop.quit()
    return False


def quit_on_eof(fd, condition, loop):
    if os.read(fd, 4096) == b"":
        loop.quit()
        return False
    return True


def main(argv):
    arguments = parse_arguments(argv)
    GLib, Gst, GstRtspServer = load_gstreamer()
    if arguments.check:
        print(json.dumps({"event": "check", "ok": True}), flush=True)
        return
    serve(arguments, GLib, Gst, GstRtspServer)


if __name__ == "__main__":
    main(sys.argv[1:])
