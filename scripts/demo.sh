#!/usr/bin/env bash
# The main job: show what this machine gives for process handles, and use one.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release -q -p prochandle --example check
