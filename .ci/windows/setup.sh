#!/usr/bin/env bash
# Prepare this Debian 12 x86_64 machine (as root) to build Rust code for
# x86_64-pc-windows-gnu and run its test binaries under Wine:
#   - apt: gcc-mingw-w64-x86-64 (linker) and wine64
#   - rustup: the x86_64-pc-windows-gnu std
#   - a Wine prefix with a stand-in bcryptprimitives.dll (see processprng.c)
# and write .ci/windows/env.sh, which callers `source` before
# `cargo test --target x86_64-pc-windows-gnu`.
#
# Idempotent and quick when re-run. Exit status:
#   0  ready
#   3  a download failed (no network?); one line "WARNING: windows tests not
#      run: <reason>" is printed on stdout and the caller may go on without
#      the Windows tests
#   other non-zero: a real failure, with a message on stderr
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TARGET=x86_64-pc-windows-gnu
APT_PKGS=(gcc-mingw-w64-x86-64 wine64)
ENV_FILE="$HERE/env.sh"
export WINEPREFIX="${WINEPREFIX:-$HOME/.wine}"
export WINEDEBUG=-all
unset DISPLAY WAYLAND_DISPLAY

LOG=$(mktemp -t windows-setup.XXXXXX)
WORK=$(mktemp -d -t windows-setup.XXXXXX)
trap 'rm -rf "$LOG" "$WORK"' EXIT

say()  { echo "windows-setup: $*"; }
die()  {
    echo "windows-setup: ERROR: $*" >&2
    if [ -s "$LOG" ]; then echo "--- last lines of log ---" >&2; tail -n 25 "$LOG" >&2; fi
    exit 1
}
skip() { echo "WARNING: windows tests not run: $*"; exit 3; }
# Did the command logged in $LOG fail because something could not be downloaded?
net_failure() {
    grep -qiE 'Temporary failure resolving|Could not resolve|Failed to fetch|Unable to fetch|Some index files failed|Could not connect|Connection (refused|timed out|reset)|Network is unreachable|No route to host|could not download|download failed|failed to download|error sending request|dns error|operation timed out' "$LOG"
}

# ---------------------------------------------------------------- 1. apt
pkgs_installed() {
    local p
    for p in "${APT_PKGS[@]}"; do
        [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || return 1
    done
}
have_candidates() {
    local p
    for p in "${APT_PKGS[@]}"; do
        # (no `| grep -q` here: with pipefail its early exit can fail the pipe)
        [[ "$(apt-cache policy "$p" 2>/dev/null)" == *"Candidate: "[0-9]* ]] || return 1
    done
}
apt_update() {
    say "apt-get update"
    if ! timeout 600 apt-get -q -o DPkg::Lock::Timeout=300 update >"$LOG" 2>&1 || grep -q '^[WE]: Failed to fetch' "$LOG"; then
        net_failure && skip "apt-get update could not download package lists"
        die "apt-get update failed"
    fi
}
apt_install() {
    DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get -q -y -o DPkg::Lock::Timeout=300 \
        install --no-install-recommends "${APT_PKGS[@]}" >"$LOG" 2>&1
}
if ! pkgs_installed; then
    have_candidates || apt_update
    have_candidates || die "apt has no candidate for ${APT_PKGS[*]} (not Debian 12?)"
    say "apt-get install ${APT_PKGS[*]}"
    if ! apt_install; then
        # Maybe the package lists are stale (404): refresh once and retry.
        apt_update
        if ! apt_install; then
            net_failure && skip "apt-get install ${APT_PKGS[*]} could not download packages"
            die "apt-get install ${APT_PKGS[*]} failed"
        fi
    fi
fi

MINGW_GCC=x86_64-w64-mingw32-gcc
MINGW_OBJDUMP=x86_64-w64-mingw32-objdump
command -v "$MINGW_GCC" >/dev/null || die "$MINGW_GCC not found after install"
WINE=
for c in /usr/lib/wine/wine64 "$(command -v wine64 || true)"; do
    if [ -n "$c" ] && [ -x "$c" ]; then WINE=$c; break; fi
done
[ -n "$WINE" ] || die "wine64 not found after install"
WINESERVER=
for c in "$(dirname "$WINE")/wineserver64" "$(dirname "$WINE")/wineserver" "$(command -v wineserver || true)"; do
    if [ -n "$c" ] && [ -x "$c" ]; then WINESERVER=$c; break; fi
done
[ -n "$WINESERVER" ] || die "wineserver not found next to $WINE"
export WINESERVER

# ---------------------------------------------------------------- 2. rustup
# Run from the repo root so a rust-toolchain file there picks the toolchain.
cd "$REPO"
command -v rustup >/dev/null || die "rustup not found"
if ! grep -qx "$TARGET" <<<"$(rustup target list --installed 2>/dev/null)"; then
    say "rustup target add $TARGET"
    if ! timeout 900 rustup target add "$TARGET" >"$LOG" 2>&1; then
        net_failure && skip "rustup could not download the $TARGET standard library"
        die "rustup target add $TARGET failed"
    fi
fi
cd "$WORK"

# ---------------------------------------------------------------- 3. Wine prefix
# Without a display wineboot must not try to show dialogs or install
# Mono/Gecko: disable mscoree/mshtml while booting.
wine_run() { WINEDLLOVERRIDES="mscoree,mshtml=" timeout "$1" "$WINE" "${@:2}" </dev/null; }
SYS32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -f "$WINEPREFIX/system.reg" ] || [ ! -d "$SYS32" ]; then
    say "initialising Wine prefix $WINEPREFIX"
    if ! wine_run 300 wineboot -i >"$LOG" 2>&1; then
        die "wineboot -i failed or timed out"
    fi
    timeout 120 "$WINESERVER" -w || true
    [ -d "$SYS32" ] || die "wineboot did not create $SYS32"
fi

# Build the ProcessPrng stand-in and install it as a native DLL (build flags
# make the output byte-identical across runs, so re-runs can skip the copy).
"$MINGW_GCC" -shared -O2 -s -Wall -Werror -o "$WORK/bcryptprimitives.dll" \
    "$HERE/processprng.c" -ladvapi32 -static-libgcc -Wl,--no-insert-timestamp,--disable-auto-image-base >"$LOG" 2>&1 \
    || die "compiling processprng.c failed"
grep -qE '[[:space:]]ProcessPrng$' <<<"$("$MINGW_OBJDUMP" -p "$WORK/bcryptprimitives.dll")" \
    || die "bcryptprimitives.dll does not export an undecorated ProcessPrng"
if ! cmp -s "$WORK/bcryptprimitives.dll" "$SYS32/bcryptprimitives.dll"; then
    say "installing bcryptprimitives.dll (ProcessPrng) into $SYS32"
    install -m 0644 "$WORK/bcryptprimitives.dll" "$SYS32/bcryptprimitives.dll"
fi
# Wine would otherwise prefer its builtin bcryptprimitives (no ProcessPrng).
if ! grep -q '^"bcryptprimitives"="native,builtin"' "$WINEPREFIX/user.reg" 2>/dev/null; then
    wine_run 120 reg add 'HKCU\Software\Wine\DllOverrides' /v bcryptprimitives \
        /d native,builtin /f >"$LOG" 2>&1 || die "could not set the bcryptprimitives DLL override"
    timeout 60 "$WINESERVER" -w || true   # flushes user.reg
fi

# ---------------------------------------------------------------- 4. env.sh
WINEDLLOVERRIDES_VALUE="bcryptprimitives=n,b;mscoree,mshtml="
tmp_env=$(mktemp "$HERE/.env.sh.XXXXXX")
cat >"$tmp_env" <<ENV
# Generated by .ci/windows/setup.sh; source it before
#   cargo test --target $TARGET
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$WINE
export WINEPREFIX=$WINEPREFIX
export WINESERVER=$WINESERVER
export WINEDEBUG=-all
export WINEDLLOVERRIDES='$WINEDLLOVERRIDES_VALUE'
unset DISPLAY WAYLAND_DISPLAY
ENV
chmod 0644 "$tmp_env"
mv -f "$tmp_env" "$ENV_FILE"

# ---------------------------------------------------------------- 5. smoke test
# A std program that needs random seeds (HashMap) and spawns a process.
cat >"$WORK/smoke.rs" <<'RS'
use std::collections::HashMap;
fn main() {
    let mut m = HashMap::new();
    m.insert("k", 1);
    let st = std::process::Command::new("cmd").args(["/c", "exit 3"]).status().unwrap();
    assert_eq!(st.code(), Some(3));
    println!("smoke-ok {}", m["k"]);
}
RS
(cd "$REPO" && rustc --edition 2021 --target "$TARGET" -C linker="$MINGW_GCC" \
    -o "$WORK/smoke.exe" "$WORK/smoke.rs") >"$LOG" 2>&1 || die "could not build a $TARGET test program"
out=$(
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    timeout 120 "$WINE" "$WORK/smoke.exe" </dev/null 2>>"$LOG"
) || die "a $TARGET test program failed under Wine"
[ "$out" = "smoke-ok 1" ] || die "unexpected output under Wine: $out"

# Wait for the wineserver and Wine's helper processes (services.exe,
# winedevice.exe, ...) to exit; they linger ~3s after the last client. Not
# `wineserver -k`: that would also kill other Wine programs using this prefix.
timeout 60 "$WINESERVER" -w || say "note: a wineserver is still busy in $WINEPREFIX (another Wine program?)"

say "ready; run: . .ci/windows/env.sh && cargo test --target $TARGET"
