#!/usr/bin/env bash
# The mutation score of harness/checks and harness/evidence/collect.py against the
# fast unit tests: scripts/mutation.py on the project's venv (see its --help).
#
#   scripts/mutation.sh                          # every mutant, 2 workers (10-15 minutes)
#   scripts/mutation.sh --module money --show-survivors
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/mutation.py "$@"
