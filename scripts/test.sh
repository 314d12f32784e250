#!/usr/bin/env bash
# The whole test suite: formatting, lints, every crate's tests, the bundled
# policy packs' own tests. CI (.ci/run) calls exactly this script.
#
# It installs or starts what the tests need; under CI=true nothing may be skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# PostgreSQL backs the store contract tests. These machines run it on the
# standard port; start it if it stopped (no-op elsewhere).
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 2>/dev/null; then
  step "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "bundled policy tests"
cargo run --quiet --locked -p gatehouse-cli -- policy test

# --- dashboard (owned by the dashboard engineer) ---
step "dashboard browser tests (headless Chromium)"
bash scripts/test-browser.sh
