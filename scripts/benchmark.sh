#!/usr/bin/env bash
# Measures the figures recorded in BENCHMARKS.md: API calls per run from the 200-day simulation,
# wall time and peak memory of the two simulations and of the whole test suite, and how long the
# cluster sync gate delays a rotation with a fake operator. Run it from a checkout after `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mocha_file=(mocha --no-config -r ts-node/register/transpile-only --extension ts --timeout 1200000 --exit)
timed() {
  local label=$1
  shift
  /usr/bin/time -f "$label: %e s wall, %M KiB peak RSS" -o "$work/time" "$@" >"$work/out" 2>&1 ||
    { cat "$work/out"; exit 1; }
  cat "$work/time"
}

echo "node $(node --version), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB"

ANYTHINGLLM_BENCHMARK_OUT="$work/calls.json" timed "200-day simulation" \
  "${mocha_file[@]}" test/harness/schedule.test.ts
node -e '
  const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const stats = (xs) => `min ${Math.min(...xs)}, max ${Math.max(...xs)}, runs ${xs.length}`;
  console.log(`API calls of a run that rotates: ${stats(c.rotationRunCalls)}`);
  console.log(`API calls of a run with nothing due: ${stats(c.idleRunCalls)}`);
  const holds = c.gateHoldSeconds.slice().sort((a, b) => a - b);
  const median = holds[Math.floor(holds.length / 2)];
  console.log(
    `simulated gate hold per hand-off: min ${holds[0]} s, median ${median} s, ` +
      `max ${holds[holds.length - 1]} s over ${holds.length} hand-offs; ` +
      `fixed wait ${c.fixedWaitSeconds[0]} s`,
  );
' "$work/calls.json"

timed "fault campaign" "${mocha_file[@]}" test/harness/faults.test.ts
timed "whole test suite (npm test)" npm test --silent

echo "cluster sync gate with a fake operator (poll interval starts at 1 s):"
ts-node --transpile-only scripts/benchmarkGate.ts
