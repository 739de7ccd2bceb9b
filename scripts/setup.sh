#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for the demo and the tests, then the npm packages.
# Safe to run again: each step checks first. Needs root (or sudo) only when a package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v mosquitto >/dev/null || missing+=(mosquitto)
# GStreamer's RTSP server serves the demo's cameras; the first python3 on PATH may lack the bindings.
if ! /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer' 2>/dev/null; then
  missing+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)
fi
command -v chromium >/dev/null || missing+=(chromium)
# The command-centre page is in Chinese. Without a CJK font Chromium draws empty boxes, which the
# browser test detects.
if ! { command -v fc-list >/dev/null && fc-list :lang=zh | grep -q .; }; then
  missing+=(fonts-wqy-zenhei)
fi
# gpsfake (gpsd-clients) replays an NMEA log through a real gpsd in the GPS tests.
command -v gpsfake >/dev/null || missing+=(gpsd gpsd-clients)

if ((${#missing[@]} > 0)); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The integration tests talk to the real Mosquitto on 127.0.0.1:1883.
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  echo "setup: starting mosquitto on 127.0.0.1:1883"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.1; done
fi

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
