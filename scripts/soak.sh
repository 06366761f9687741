#!/usr/bin/env bash
# Soak: the standard suite on many seeds against every service paychaos is
# expected to pass, to find verdicts that depend on luck before CI does.
#
#   scripts/soak.sh [SEEDS] [TARGETS]     e.g. scripts/soak.sh "1 2 3 4 5" "reference node_shop"
#
# SEEDS defaults to 5 random seeds; TARGETS to reference, node_shop and sample
# (the Stripe sample in tests/fixtures). Prints one line per run and a tally;
# exits 1 if any run did not pass. Reports of failed runs are kept under
# reports/soak/<target>-<seed>. Set PAYCHAOS_FAULT_BACKEND=toxiproxy to soak
# the real Toxiproxy backend. SOAK_HOG=1 keeps one core busy (a CPU hog, the
# busy CI machine) for the whole soak.
set -uo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-"$(for _ in 1 2 3 4 5; do echo $((RANDOM * 32768 + RANDOM)); done | tr '\n' ' ')"}
targets=${2:-"reference node_shop sample"}
declare -A target_file=(
  [reference]="scenarios/targets/reference.yaml scenarios/contracts/reference.yaml"
  [node_shop]="scenarios/targets/node_shop.yaml scenarios/contracts/node_shop.yaml"
  [sample]="tests/fixtures/sample_suite/target.yaml tests/fixtures/sample_suite/contract.yaml"
)
[ -d examples/node_shop/node_modules ] || make --no-print-directory node_shop >/dev/null
mkdir -p reports/soak
if [ "${SOAK_HOG:-0}" = 1 ]; then
  python3 -c 'while True: pass' &
  hog=$!
  trap 'kill $hog 2>/dev/null' EXIT
  echo "soak: a CPU hog (pid $hog) keeps one core busy"
fi
passed=0; failed=0
for t in $targets; do
  read -r target contract <<<"${target_file[$t]}"
  for seed in $seeds; do
    out="reports/soak/$t-$seed"
    start=$(date +%s)
    env -u REFTARGET_BUG -u MINISHOP_BUG -u SAMPLE_BUG .venv/bin/paychaos run scenarios/standard \
      --target "$target" --contract "$contract" --seed "$seed" --report-dir "$out" --quiet >"$out.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ "$rc" = 0 ]; then
      passed=$((passed + 1)); rm -rf "$out" "$out.log"
      echo "pass  $t seed $seed (${secs}s)"
    else
      failed=$((failed + 1))
      echo "FAIL  $t seed $seed exit $rc (${secs}s): $(grep -E '^(PASS|FAIL|ERROR)' "$out.log" | tail -1)  [$out]"
    fi
  done
done
echo "soak: $passed passed, $failed failed"
[ "$failed" = 0 ]
