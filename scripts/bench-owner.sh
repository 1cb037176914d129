#!/usr/bin/env bash
# What the owner-death protection costs `prochandle run`: the wall time of
# `run 10 /bin/true` with the default protection (as root the cgroup's
# guardian, as an unprivileged user the keeper) and with --no-guardian,
# against `timeout 10 /bin/true` in the same run, in rounds that
# alternate the three so that a change in load hits all of them alike.
#
# Usage: scripts/bench-owner.sh [ROUNDS] [BINARY]
#   ROUNDS  commands per variant and user (default 300)
#   BINARY  the prochandle binary (default target/release/prochandle)
# As root it measures root and, through setpriv, the user nobody (the
# binary must then be reachable by nobody: copy it to /tmp if not).
set -euo pipefail
rounds=${1:-300}
binary=${2:-target/release/prochandle}
[ -x "$binary" ] || { echo "no $binary: cargo build --release -p prochandle-cli" >&2; exit 2; }

# Median, in microseconds, of the numbers on stdin (one a line).
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Runs "$@" once and prints how long it took, in microseconds.
clock() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    echo $(((end - start) / 1000))
}

bench_user() {
    local label=$1; shift
    local as=("$@")
    local t_timeout=() t_run=() t_bare=()
    for _ in $(seq "$rounds"); do
        t_timeout+=("$(clock "${as[@]}" timeout 10 /bin/true)")
        t_run+=("$(clock "${as[@]}" "$binary" run 10 /bin/true)")
        t_bare+=("$(clock "${as[@]}" "$binary" run --no-guardian 10 /bin/true)")
    done
    local m_timeout m_run m_bare
    m_timeout=$(printf '%s\n' "${t_timeout[@]}" | median)
    m_run=$(printf '%s\n' "${t_run[@]}" | median)
    m_bare=$(printf '%s\n' "${t_bare[@]}" | median)
    printf '%-8s timeout %6d us | run (default) %6d us = %.2fx | run --no-guardian %6d us = %.2fx | protection +%d us\n' \
        "$label" "$m_timeout" "$m_run" "$(echo "$m_run / $m_timeout" | bc -l)" \
        "$m_bare" "$(echo "$m_bare / $m_timeout" | bc -l)" "$((m_run - m_bare))"
}

echo "median wall time of $rounds runs each, alternating; $(uname -sr), $(nproc) CPUs"
bench_user "$(id -un)"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    bench_user nobody setpriv --reuid=nobody --regid=nogroup --clear-groups
fi
