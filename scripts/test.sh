#!/usr/bin/env bash
# Every test of Courier, on a fresh machine: installs what the tests need, then runs
# formatting, lints, the test suite and the ROS 2 type-check.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
rustup show active-toolchain || rustup toolchain install
cargo --version

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --workspace

step "ROS 2 nodes type-check (r2r doc-only: no ROS needed, no linking)"
cargo clippy -p courier-ros --features ros2-doc-only --all-targets -- -D warnings
