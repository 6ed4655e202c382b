#!/usr/bin/env bash
# Installs the system tools mindanim uses where they are missing (Debian/Ubuntu, as root or with sudo).
set -uo pipefail
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing ${need[*]}"
  $SUDO apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || { echo "setup: could not install ${need[*]}; install them with: apt-get install ${need[*]}" >&2; exit 1; }
else
  echo "setup: please install: ${need[*]}" >&2
  exit 1
fi
