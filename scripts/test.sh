#!/usr/bin/env bash
# `npm test`: installs what is missing, type-checks, then runs every test file.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
echo "test: type-checking"
npx tsc -p test/tsconfig.json --noEmit
npx tsc -p bench/tsconfig.json --noEmit
echo "test: running the test suite"
mapfile -t files < <(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-reporter=spec --test-timeout=300000 "${files[@]}"
