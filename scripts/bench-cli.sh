#!/usr/bin/env bash
# The CLI's fixed costs against the tool it replaces, as ratios measured in
# the same run: `prochandle run 10 /bin/true` (default containment, with
# its owner-death protection), `run --child-only`, and `--version`, each
# against `timeout` (GNU coreutils); then peak resident memory.
#
# Each row is ROUNDS rounds of hyperfine (RUNS runs of each command, no
# shell in between, the order swapped every round), short enough that a
# change in the machine's load falls on both sides. A row prints the
# median of the rounds' medians for each side and their ratio, the ratio
# of the fastest runs (what is left when nothing else got in the way),
# and the quartiles of the single rounds' ratios as the spread. Peak RSS is GNU time's `%M` (the
# largest of the command and the children it waited for), median of 21.
#
# Usage: scripts/bench-cli.sh [BINARY]
#   BINARY   the prochandle binary (default target/release/prochandle)
#   ROUNDS=21 RUNS=30 (environment) to change the sample
# Needs hyperfine (https://github.com/sharkdp/hyperfine; Debian/Ubuntu:
# apt-get install hyperfine), GNU time (/usr/bin/time) and timeout(1).
set -euo pipefail
binary=${1:-target/release/prochandle}
rounds=${ROUNDS:-21}
runs=${RUNS:-30}
[ -x "$binary" ] || { echo "no $binary: cargo build --release -p prochandle-cli" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "needs hyperfine" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Median, and quantile Q, of the numbers on stdin (one a line).
median() { quantile 0.5; }
quantile() { sort -g | awk -v q="$1" '{ a[NR] = $1 } END { print a[int((NR - 1) * q + 1.5)] }'; }

# Rounds of hyperfine for PEER and OURS; prints the medians (ms), their
# ratio, the ratio of the fastest runs and the rounds' ratio quartiles.
pair() {
    local peer=$1 ours=$2 i csv="$work/round.csv"
    : >"$work/rounds"
    for i in $(seq "$rounds"); do
        # command,mean,stddev,median,user,system,min,max: one row each.
        if [ $((i % 2)) = 1 ]; then
            hyperfine -N --style none -w 3 -r "$runs" --export-csv "$csv" "$peer" "$ours" >/dev/null 2>&1
            awk -F, 'NR == 2 { p = $4; pm = $7 } NR == 3 { o = $4; om = $7 } END { print p, o, o / p, pm, om }' "$csv" >>"$work/rounds"
        else
            hyperfine -N --style none -w 3 -r "$runs" --export-csv "$csv" "$ours" "$peer" >/dev/null 2>&1
            awk -F, 'NR == 2 { o = $4; om = $7 } NR == 3 { p = $4; pm = $7 } END { print p, o, o / p, pm, om }' "$csv" >>"$work/rounds"
        fi
    done
    local p o pm om q1 q3
    p=$(cut -d' ' -f1 "$work/rounds" | median)
    o=$(cut -d' ' -f2 "$work/rounds" | median)
    pm=$(cut -d' ' -f4 "$work/rounds" | sort -g | head -1)
    om=$(cut -d' ' -f5 "$work/rounds" | sort -g | head -1)
    q1=$(cut -d' ' -f3 "$work/rounds" | quantile 0.25)
    q3=$(cut -d' ' -f3 "$work/rounds" | quantile 0.75)
    awk -v p="$p" -v o="$o" -v pm="$pm" -v om="$om" -v q1="$q1" -v q3="$q3" \
        'BEGIN { printf "%8.3f %8.3f %6.2fx %6.2fx  %.2f-%.2fx", p * 1000, o * 1000, o / p, om / pm, q1, q3 }'
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
printf '%-34s %8s %8s %7s %7s  %-10s   %s\n' "" "peer ms" "ours ms" "ratio" "fastest" "rounds q1-q3" "target"
row "run 10 /bin/true" "<= 1.2x" "timeout 10 /bin/true" "$binary run 10 /bin/true"
row "run --child-only 10 /bin/true" "<= 1.1x" "timeout 10 /bin/true" "$binary run --child-only 10 /bin/true"
row "--version" "<= 1.2x" "timeout --version" "$binary --version"
if "$binary" run --help 2>/dev/null | grep -c -- --no-guardian >/dev/null; then
    row "run --no-guardian 10 /bin/true" "(no target)" "timeout 10 /bin/true" "$binary run --no-guardian 10 /bin/true"
fi
peer_rss=$(peak_rss timeout 10 /bin/true)
ours_rss=$(peak_rss "$binary" run 10 /bin/true)
awk -v p="$peer_rss" -v o="$ours_rss" \
    'BEGIN { printf "%-34s %6d KiB %6d KiB %5.2fx %7s  %-12s   <= 1.5x\n", "peak RSS, run 10 /bin/true", p, o, o / p, "", "" }'
