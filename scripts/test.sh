#!/usr/bin/env bash
# Every test of Courier, on a fresh machine with only Rust (rustup): installs what the tests
# need, then runs formatting, lints, the test suite and the ROS 2 type-check.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# ---- install ---------------------------------------------------------------------------------
# Add what a test needs to these lists (one place); installed only when missing.
APT_PACKAGES=()   # Debian/Ubuntu packages, e.g. (libfoo-dev)
PIP_PACKAGES=(rerun-sdk==0.36.3)   # the Rerun CLI of the SDK version, for `rerun rrd verify` in sim tests

step "install: Rust toolchain (rust-toolchain.toml pins it, with rustfmt and clippy)"
rustup show active-toolchain || rustup toolchain install
cargo --version

if ((${#APT_PACKAGES[@]})); then
  step "install: apt packages ${APT_PACKAGES[*]}"
  missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi
if ((${#PIP_PACKAGES[@]})); then
  step "install: pip packages ${PIP_PACKAGES[*]}"
  python3 -m pip install --quiet "${PIP_PACKAGES[@]}"
fi
# The sim tests run `rerun rrd verify`; point them at the CLI pip just installed.
RERUN_BIN="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/rerun"
export RERUN_BIN RERUN_ANALYTICS=0
# Nothing is needed for the ROS 2 type-check: r2r's doc-only feature uses its bundled message
# bindings, so neither ROS 2 nor libclang is required (checked on Debian 12 without either).

# ---- checks ----------------------------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --workspace

step "ROS 2 nodes type-check (r2r doc-only: no ROS needed, no linking)"
cargo clippy -p courier-ros --features ros2-doc-only --all-targets -- -D warnings
