#!/bin/sh
# `make run`: the development server and, beside it, the background-task worker (django-tasks-db) that the
# organisation-wide export needs (docs/export.md). The worker stops when the server stops (Ctrl-C).
# Usage: scripts/run-dev.sh PYTHON HOST PORT
set -eu
PY="$1"
HOST="$2"
PORT="$3"
export DEBUG=1
# Exports interrupted by an earlier stop are queued again (finished parts and files are kept).
"$PY" manage.py export_annual_report --resume-interrupted --stale-after 0 || true
"$PY" manage.py db_worker --no-reload &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
echo "后台任务进程 / background worker: pid $worker (manage.py db_worker)"
"$PY" manage.py runserver "$HOST:$PORT"
