#!/usr/bin/env bash
# Checks what building and running Baton needs, and installs what is missing with apt-get
# where this user may (root, or password-less sudo). Otherwise prints the exact command.
set -euo pipefail

missing=()
# `setup.sh wrk`: also the HTTP load generator `make bench` prefers.
if [ "${1:-}" = wrk ] && ! command -v wrk >/dev/null 2>&1; then missing+=(wrk); fi
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! pkg-config --exists libpq 2>/dev/null || [ ! -f "$(pkg-config --variable=includedir libpq 2>/dev/null)/libpq-fe.h" ]; then
  missing+=(libpq-dev)
fi
have_server=no
if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
  have_server=yes
else
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then have_server=yes; fi
  done
fi
# As root the embedded cluster runs as the postgres user, which the server package creates.
if [ "$have_server" = no ] || { [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; }; then
  missing+=(postgresql)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ -n "${DATABASE_URL:-}" ] && [ "${missing[*]}" = postgresql ]; then
    : # an external server is configured; the server programs are optional
  else
    echo "setup: installing ${missing[*]}" >&2
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "setup: missing ${missing[*]}. Install them with:" >&2
      echo "  sudo apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: the Swift toolchain (6.1 or newer) is not on PATH; install it from swift.org and add its usr/bin to PATH" >&2
  exit 1
fi
