#!/usr/bin/env bash
# The CLI's fixed costs against the tool it replaces, as ratios measured in
# the same run: `prochandle run 10 /bin/true` (default containment, with
# its owner-death protection), `run --child-only`, and `--version`, each
# against `timeout` (GNU coreutils); then peak resident memory.
#
# Each row is ROUNDS rounds of hyperfine (RUNS runs of each command, no
# shell in between, the order swapped every round), so that a change in the
# machine's load falls on both sides. A row prints the median of the
# rounds' medians for each side, their ratio, and the lowest and highest
# ratio of a single round as its spread. Peak RSS is GNU time's `%M` (the
# largest of the command and the children it waited for), median of 21.
#
# Usage: scripts/bench-cli.sh [BINARY]
#   BINARY   the prochandle binary (default target/release/prochandle)
#   ROUNDS=9 RUNS=100 (environment) to change the sample
# Needs hyperfine (https://github.com/sharkdp/hyperfine; Debian/Ubuntu:
# apt-get install hyperfine), GNU time (/usr/bin/time) and timeout(1).
set -euo pipefail
binary=${1:-target/release/prochandle}
rounds=${ROUNDS:-9}
runs=${RUNS:-100}
[ -x "$binary" ] || { echo "no $binary: cargo build --release -p prochandle-cli" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "needs hyperfine" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Median of the numbers on stdin (one a line).
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Rounds of hyperfine for PEER and OURS; prints "peer_ms ours_ms ratio lo hi".
pair() {
    local peer=$1 ours=$2 i csv
    : >"$work/rounds"
    for i in $(seq "$rounds"); do
        csv="$work/round.csv"
        if [ $((i % 2)) = 1 ]; then
            hyperfine -N --style none -w 5 -r "$runs" --export-csv "$csv" "$peer" "$ours" >/dev/null 2>&1
            # command,mean,stddev,median,...: the peer is the first row.
            awk -F, 'NR == 2 { p = $4 } NR == 3 { o = $4 } END { print p, o, o / p }' "$csv" >>"$work/rounds"
        else
            hyperfine -N --style none -w 5 -r "$runs" --export-csv "$csv" "$ours" "$peer" >/dev/null 2>&1
            awk -F, 'NR == 2 { o = $4 } NR == 3 { p = $4 } END { print p, o, o / p }' "$csv" >>"$work/rounds"
        fi
    done
    local p o lo hi
    p=$(cut -d' ' -f1 "$work/rounds" | median)
    o=$(cut -d' ' -f2 "$work/rounds" | median)
    lo=$(cut -d' ' -f3 "$work/rounds" | sort -g | head -1)
    hi=$(cut -d' ' -f3 "$work/rounds" | sort -g | tail -1)
    awk -v p="$p" -v o="$o" -v lo="$lo" -v hi="$hi" \
        'BEGIN { printf "%8.3f %8.3f %6.2fx  %.2f-%.2fx", p * 1000, o * 1000, o / p, lo, hi }'
}

row() {
    local label=$1 target=$2 peer=$3 ours=$4
    printf '%-34s %s   %s\n' "$label" "$(pair "$peer" "$ours")" "$target"
}

# Median peak RSS in KiB of 21 runs of "$@".
peak_rss() {
    local i
    for i in $(seq 21); do
        /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>&1 || true
        tail -1 "$work/rss"
    done | median
}

echo "$(uname -sr), $(nproc) CPUs, $(id -un); $rounds rounds x $runs runs; hyperfine $(hyperfine --version | cut -d' ' -f2)"
printf '%-34s %8s %8s %7s  %-10s   %s\n' "" "peer ms" "ours ms" "ratio" "rounds" "target"
row "run 10 /bin/true" "<= 1.2x" "timeout 10 /bin/true" "$binary run 10 /bin/true"
row "run --child-only 10 /bin/true" "<= 1.1x" "timeout 10 /bin/true" "$binary run --child-only 10 /bin/true"
row "--version" "<= 1.2x" "timeout --version" "$binary --version"
if "$binary" run --help | grep -q -- --no-guardian; then
    row "run --no-guardian 10 /bin/true" "(no target)" "timeout 10 /bin/true" "$binary run --no-guardian 10 /bin/true"
fi
peer_rss=$(peak_rss timeout 10 /bin/true)
ours_rss=$(peak_rss "$binary" run 10 /bin/true)
awk -v p="$peer_rss" -v o="$ours_rss" \
    'BEGIN { printf "%-34s %6d KiB %6d KiB %5.2fx  %-10s   <= 1.5x\n", "peak RSS, run 10 /bin/true", p, o, o / p, "" }'
