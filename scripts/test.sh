#!/usr/bin/env bash
# The whole test suite, with its set-up, on a fresh machine of this kind.
# Runs: rustfmt and clippy checks, every test (normal mode and forced
# guarded-PID mode), doctests, and the docs build with warnings denied.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings

if cargo nextest --version >/dev/null 2>&1; then
  run_tests() { cargo nextest run --workspace --all-features --no-fail-fast "$@"; }
else
  run_tests() { cargo test --workspace --all-features --no-fail-fast "$@"; }
fi

step "tests (handles where the system has them)"
run_tests

step "tests in forced guarded-PID mode (PROCHANDLE_FORCE_PID=1)"
PROCHANDLE_FORCE_PID=1 run_tests

step "doctests"
cargo test --workspace --all-features --doc

step "examples (the seed's use cases)"
for example in check pidfd_in_use getfd poll_exit setns; do
  cargo run -q -p prochandle --example "$example"
done

step "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps
