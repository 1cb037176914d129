#!/usr/bin/env bash
# The main job: the `prochandle` tool on this machine. What the system
# gives for process handles, then a command run through its handle and this
# shell described through one.
set -euo pipefail
cd "$(dirname "$0")/.."
prochandle() { cargo run --release -q -p prochandle-cli -- "$@"; }

echo '$ prochandle check'
prochandle check
echo
echo '$ prochandle run --time -- sleep 0.1'
prochandle run --time -- sleep 0.1 2>&1
echo
echo "\$ prochandle info $$"
prochandle info $$
echo
echo '$ prochandle run --timeout 200ms -- sleep 10'
status=0
prochandle run --timeout 200ms -- sleep 10 || status=$?
echo "exit $status (124: timed out, as timeout(1))"
echo
echo "\$ prochandle run 0.5 sh -c '(setsid sleep 77 &); sleep 30'   # a daemon that leaves the group"
status=0
prochandle run 0.5 sh -c '(setsid sleep 77 &); sleep 30' || status=$?
echo "exit $status; still running: $(pgrep -fc 'sleep 77' || true) (the whole tree is held, setsid or not)"
