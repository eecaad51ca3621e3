#!/usr/bin/env bash
# The system packages that building and testing need, installed when missing (Debian/Ubuntu, as root,
# with apt-get); a no-op when all are there. `npm test` runs it first and .ci/run before `npm ci`.
#
#   python3, g++, make   npm ci builds the native addons (better-sqlite3, zstd-napi, fs-ext) from
#                        source with node-gyp; egg scripts run under python3
#   gcc, python3-dev     the fixture eggs' object code (an extension module needs Python.h) is
#                        compiled at fixture time
#   nginx, openssl       the HTTPS repository tests serve files from a real nginx with a throwaway CA
#   procps               kill(1), which the script tests use to see whether a process is alive
#
# Not root, or no apt-get: it says what to install and goes on (the nginx tests then fail at once,
# saying what is missing). With --strict (CI) a package it cannot install is an error.
set -euo pipefail

strict=false
[ "${1:-}" = --strict ] && strict=true

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

need=()
have python3 || need+=(python3)
have g++ || need+=(g++)
have make || need+=(make)
have gcc || need+=(gcc)
python_h() { python3 -c 'import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null; }
have python3 && ! python_h && need+=(python3-dev)
have openssl || need+=(openssl)
have nginx || need+=(nginx)
have kill || need+=(procps)
[ ${#need[@]} -eq 0 ] && exit 0

say() { echo "setup-system: $*" >&2; }

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing ${need[*]}"
  # Installing nginx would start the system's nginx on port 80: the tests start their own on
  # loopback, so daemons are not started during this install (Debian's policy-rc.d).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  if apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"; then
    exit 0
  fi
  say "apt-get could not install ${need[*]}"
else
  say "missing ${need[*]}: install them, e.g. as root: apt-get update && apt-get install -y ${need[*]}"
fi
if $strict; then exit 1; fi
say 'going on without them: the tests that need them will fail, saying what is missing'
