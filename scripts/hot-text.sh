#!/usr/bin/env bash
# Remakes prochandle-cli/link/hot-text.ld, the list of functions that the
# command lines run in loops execute, which the linker places together
# (docs/cli.md, "Fixed costs"). Run it after changes to what `run` or
# `--version` execute, then rebuild and compare the peak RSS row of
# scripts/bench-cli.sh: a stale list costs memory, never correctness.
#
# Each line is single-stepped under ptrace (scripts/hot-text-trace.c,
# x86-64 Linux), its children that share the address space included;
# every function with an instruction executed is listed, under all of its
# names (LLVM merges identical functions into aliases, and the section
# bears one of them), as a pattern without the symbol's hash.
#
# Usage: scripts/hot-text.sh [BINARY]
#   BINARY   a release build with symbols (default target/release/prochandle)
# Needs a C compiler (cc) and nm; takes a few minutes (single steps are
# system calls).
set -euo pipefail
binary=${1:-target/release/prochandle}
out=prochandle-cli/link/hot-text.ld
[ -x "$binary" ] || { echo "no $binary: cargo build --release -p prochandle-cli" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/trace" scripts/hot-text-trace.c

# In order of how often they run: what comes first is laid out first.
lines=(
    "run 10 /bin/true"
    "run --child-only 10 /bin/true"
    "--version"
    "run 0.2 sleep 5"
    "run --child-only 0.2 sleep 5"
    "run -k 1 -s INT 10 /bin/true"
    "run 10 sh -c true"
)
traces=()
for i in "${!lines[@]}"; do
    read -ra words <<<"${lines[$i]}"
    "$work/trace" "$work/pcs.$i" "$binary" "$binary" "${words[@]}" >/dev/null
    traces+=("$work/pcs.$i")
done

# Function symbols: start, size, name (decimal), by address.
nm -t d -S --defined-only "$binary" |
    awk 'NF == 4 && $3 ~ /^[tTwW]$/ { print $1 + 0, $2 + 0, $4 }' | sort -n -k1,1 >"$work/syms"

# The functions of each trace's addresses (both sorted), in order of first
# appearance, each under all the names at its address.
awk -v nsyms="$(wc -l <"$work/syms")" '
    FILENAME == ARGV[1] {
        n++; start[n] = $1; size[n] = $2; name[n] = $3
        names[$1] = ($1 in names) ? names[$1] " " $3 : $3
        next
    }
    FNR == 1 { j = 1 }
    {
        while (j < nsyms && start[j + 1] <= $1) j++
        if ($1 >= start[j] && $1 < start[j] + (size[j] ? size[j] : 1) && !(start[j] in done)) {
            done[start[j]] = 1
            k = split(names[start[j]], all, " ")
            for (m = 1; m <= k; m++) print all[m]
        }
    }' "$work/syms" "${traces[@]}" >"$work/functions"

# Patterns: legacy names without their hash (17h<16 hex>E), v0 names with
# `*` for crate disambiguators (Cs..._) and back-references (B..._), local
# copies (NAME.123) under their name; each once.
sed -E 's/\.[0-9]+$//' "$work/functions" |
    sed -E '/^_ZN/ s/17h[0-9a-f]{16}E$/17h*/' |
    sed -E '/^_R/ { s/Cs[0-9A-Za-z]+_/Cs*_/g; s/B[0-9A-Za-z]*_/B*_/g; s/$/*/ }' |
    grep -v -x -e _start -e '_init' -e '_fini' |
    awk '!seen[$0]++' >"$work/patterns"

{
    cat <<'EOF'
/* The functions `prochandle run` and `prochandle --version` execute,
 * placed together at the start of the code (a section of their own,
 * before the rest of .text), so that a run maps in ~0.5 MB of the
 * binary's 2.4 MB of code instead of 1.6 MB: the kernel maps a file's
 * pages 64 KiB at a time around each one touched, and LTO left the
 * functions of a run spread across all of it. Linked in by build.rs
 * (Linux); see docs/cli.md, "Fixed costs".
 *
 * Only layout: a name that no longer matches (a function renamed or
 * inlined away) leaves that function where the linker would put it, so a
 * stale list costs memory, never correctness. Patterns end in `17h*` for
 * legacy-mangled names (any hash: every instance of a generic, any
 * compiler); in v0 names `*` stands for the crate disambiguators and
 * back-references, and ends them (local copies are `NAME.123`).
 * `.text.unlikely.` is where LLVM puts functions it thinks cold. Order:
 * C's start-up code, the plain `run` line, `run --child-only`,
 * `--version`, a run that times out, then lines read by clap.
 *
 * Made by scripts/hot-text.sh: do not edit by hand.
 */
SECTIONS
{
  .text.hot : {
    /* The C start-up code (crt1.o's _start, crti.o, crtbegin.o...),
       which runs before main: plain .text sections. */
    *crt*.o(.text)
EOF
    awk '{ printf "    *(.text.%s .text.unlikely.%s)\n", $0, $0 }' "$work/patterns"
    cat <<'EOF'
  }
}
INSERT BEFORE .text;
EOF
} >"$out"
echo "$out: $(wc -l <"$work/patterns") patterns from $(wc -l <"$work/functions") functions"
