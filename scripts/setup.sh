#!/usr/bin/env bash
# Installs the system tools mindanim and its tests use, where they are missing (Debian/Ubuntu, as root or with sudo):
#   ffmpeg          video decoding/encoding (data import, reconstruct)
#   python3-numpy   NumPy interoperability test of the .npy reader/writer
#   nodejs, npm     hyparquet: the independent (non-.NET) Parquet reader the format tests use
#   libgtk-3-0, libdrm2, libatomic1  shared libraries OpenCV's native build (OpenCvSharp4 runtime, EPE metric) links against
#   chromium        headless browser scripts/check-report opens the demo's report.html in (a few hundred MB)
#   wordnet-base    the WordNet 3.0 database (/usr/share/wordnet) caption augmentation (EDA) of semantic training reads
set -uo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
/usr/bin/python3 -c "import numpy" >/dev/null 2>&1 || need+=(python3-numpy)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -f /usr/share/wordnet/data.noun ] || need+=(wordnet-base)
for lib in libgtk-3.so.0:libgtk-3-0 libdrm.so.2:libdrm2 libatomic.so.1:libatomic1; do
  { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q "${lib%%:*}" || need+=("${lib##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need[*]}"
    $SUDO apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
      || { echo "setup: could not install ${need[*]}; install them with: apt-get install ${need[*]}" >&2; exit 1; }
  else
    echo "setup: please install: ${need[*]}" >&2
    exit 1
  fi
fi
# hyparquet (pure JavaScript Parquet reader) into the user cache, pinned.
hp="${XDG_CACHE_HOME:-$HOME/.cache}/mindanim/node"
if [ ! -f "$hp/node_modules/hyparquet/src/node.js" ]; then
  echo "setup: installing hyparquet into $hp"
  npm install --silent --no-audit --no-fund --prefix "$hp" hyparquet@1.31.5 >/dev/null \
    || { echo "setup: could not install hyparquet with npm" >&2; exit 1; }
fi
# puppeteer-core (drives the system chromium; never downloads a browser of its own) into the same prefix, pinned.
# 24.x: the last major that runs on Node 18/20 (Debian 12's nodejs); 25.x needs Node >= 22.12.
if [ ! -f "$hp/node_modules/puppeteer-core/package.json" ]; then
  echo "setup: installing puppeteer-core into $hp"
  PUPPETEER_SKIP_DOWNLOAD=1 npm install --silent --no-audit --no-fund --prefix "$hp" puppeteer-core@24.43.1 >/dev/null \
    || { echo "setup: could not install puppeteer-core with npm" >&2; exit 1; }
fi
exit 0
