#!/usr/bin/env bash
# Carefront's whole test suite: formatting, lints, and every test on SQLite and PostgreSQL.
# Installs or starts what the tests need (PostgreSQL, the official FHIR R4 examples).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '\n==> %s\n' "$*"; }

# PostgreSQL: CAREFRONT_TEST_PG if given, else the local server on 127.0.0.1:5432,
# started (or installed) when it is not running. A missing PostgreSQL fails the run.
export CAREFRONT_TEST_PG="${CAREFRONT_TEST_PG:-postgres://postgres@127.0.0.1:5432}"
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if [ "$CAREFRONT_TEST_PG" = "postgres://postgres@127.0.0.1:5432" ] && ! pg_up; then
  say "starting PostgreSQL"
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq postgresql) >/dev/null
  fi
  ver=$(ls /etc/postgresql | sort -n | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
fi

# The official R4 examples: ../shared/data when present, else the npm package.
if [ -z "${CAREFRONT_FHIR_EXAMPLES:-}" ]; then
  if [ -d "$root/../shared/data/fhir-r4/examples" ]; then
    export CAREFRONT_FHIR_EXAMPLES="$root/../shared/data/fhir-r4/examples"
  else
    cache="$root/target/fhir-r4-examples"
    if [ ! -d "$cache/package" ]; then
      say "fetching hl7.fhir.r4.examples@4.0.1 from the npm registry"
      mkdir -p "$cache"
      (cd "$cache" && npm pack --silent hl7.fhir.r4.examples@4.0.1 >/dev/null && tar xzf hl7.fhir.r4.examples-4.0.1.tgz)
    fi
    export CAREFRONT_FHIR_EXAMPLES="$cache/package"
  fi
fi

# Browser tests drive Debian's Chromium with playwright-core (no browser download).
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  say "installing Chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
(cd tests/browser && npm ci --silent --no-audit --no-fund)

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

say "tests (each API test runs on SQLite and on PostgreSQL)"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

say "browser tests (Chromium; screenshots in test-artifacts/screenshots)"
cargo build -p carefront
(cd tests/browser && npm test --silent)
