#!/usr/bin/env bash
# bench/stress.sh [BUILDDIR]: the hardening suites at full length (issue 6):
# each race of the hostile matrix 10,000 times, 2,000 kills at random
# moments, every fault the setup path can meet. The test suite runs the same
# scripts a few hundred times each; this is the long run, by one command:
#
#   bench/stress.sh            # builds build-stress/ if BUILDDIR is not given
#
# Runs as root, for hours: on a 2-CPU VM each of the four races took 21 to
# 25 minutes (2026-12-02), so the races alone take about an hour and a half.
# Prints each suite's summary lines and exits non-zero if any check failed.
# RACE_ITERATIONS, KILL_ITERATIONS and FAULT_RUNS override the lengths.
set -euo pipefail

src=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$src/build-stress}
if [[ ! -f $build/build.ninja ]]; then
	meson setup "$build" "$src" >/dev/null
fi
ninja -C "$build" >/dev/null

export ENTER=$build/enter MKROOT=$src/tests/fixtures/mkroot.sh
export TRY_SYSCALL=$build/tests/try-syscall TIOCSTI=$build/tests/tiocsti
export RACE_ITERATIONS=${RACE_ITERATIONS:-10000}
export KILL_ITERATIONS=${KILL_ITERATIONS:-2000}
export FAULT_RUNS=${FAULT_RUNS:-all}

failed=()
# suite NAME SCRIPT [ARGS...]: one suite, its TAP kept in $log_dir, its
# summary (the `# ` lines and failures) printed.
suite() {
	local name=$1 log status=0 t0=$SECONDS
	shift
	log=$log_dir/$name.tap
	echo "== $name"
	bash "$@" >"$log" 2>&1 || status=$?
	grep -E '^(# [a-z]|not ok)' "$log" || true
	echo "== $name: exit $status in $((SECONDS - t0)) s, $(grep -c '^ok' "$log") checks passed, log $log"
	((status == 0)) || failed+=("$name")
}

log_dir=$(mktemp -d /tmp/enter-stress.XXXXXX)
suite races "$src/tests/integration/hostile-matrix.sh" race
suite killstorm "$src/tests/integration/killstorm.sh"
suite faults "$src/tests/integration/faults.sh"
if ((${#failed[@]})); then
	echo "FAILED: ${failed[*]}"
	exit 1
fi
echo "all suites passed"
