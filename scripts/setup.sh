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

sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)

if ((${#missing[@]} > 0)); then
  echo "setup: installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The integration tests talk to the real Mosquitto on 127.0.0.1:1883.
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  echo "setup: starting mosquitto on 127.0.0.1:1883"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.1; done
fi

# The central-store and command-centre tests also run on PostgreSQL at
# postgres://postgres@127.0.0.1:5432/test. This starts a local cluster that is installed but stopped,
# and creates the test database. It never installs or reconfigures a server, and it does nothing
# when VA_TEST_POSTGRES_URL names another server.
if [[ -z ${VA_TEST_POSTGRES_URL:-} ]]; then
  start_error=
  if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    # pg_lsclusters -h prints one line per cluster: version, name, port, status, owner, data folder, log.
    cluster=$(command -v pg_lsclusters >/dev/null && pg_lsclusters -h | awk '$3 == 5432 { print $1 " " $2; exit }' || true)
    start_cmd=()
    if [[ -n $cluster ]]; then
      start_cmd=(pg_ctlcluster "${cluster% *}" "${cluster#* }" start)
    elif [[ -x /etc/init.d/postgresql ]]; then
      start_cmd=(service postgresql start)
    fi
    if ((${#start_cmd[@]} > 0)); then
      echo "setup: starting PostgreSQL on 127.0.0.1:5432 ('${start_cmd[*]}')"
      if start_output=$("${sudo_cmd[@]}" "${start_cmd[@]}" 2>&1); then
        for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && break; sleep 0.1; done
      else
        start_error=" ('${start_cmd[*]}' failed: ${start_output%%$'\n'*})"
      fi
    fi
  fi

  if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    echo "setup: no PostgreSQL listens on 127.0.0.1:5432${start_error}, so the PostgreSQL tests will fail; install or start PostgreSQL there, or set VA_TEST_POSTGRES_URL to a server the tests may use" >&2
  elif ! command -v psql >/dev/null; then
    echo "setup: psql not found, so the PostgreSQL test database was not checked; install postgresql-client or create the database 'test' yourself" >&2
  elif ! found=$(PGCONNECT_TIMEOUT=5 psql -w -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'" 2>&1); then
    echo "setup: login to PostgreSQL on 127.0.0.1:5432 as user postgres failed (${found%%$'\n'*}); allow it in pg_hba.conf or set VA_TEST_POSTGRES_URL" >&2
  elif [[ $found != 1 ]]; then
    echo "setup: creating PostgreSQL database 'test' on 127.0.0.1:5432"
    create_output=$(PGCONNECT_TIMEOUT=5 createdb -w -h 127.0.0.1 -p 5432 -U postgres test 2>&1) \
      || echo "setup: failed to create PostgreSQL database 'test' (${create_output%%$'\n'*}); create it yourself or set VA_TEST_POSTGRES_URL" >&2
  fi
fi

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
