#!/usr/bin/env bash
# `npm test`: installs what is missing, checks lint and format, type-checks, then runs every test file
# with a coverage report.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
echo "test: lint and format (Biome; \`npm run format\` fixes what it can), layers (dependency-cruiser)"
npm run --silent lint
echo "test: type-checking"
npx tsc -p test/tsconfig.json --noEmit
npx tsc -p sdk/tsconfig.json --noEmit
npx tsc -p web/tsconfig.json --noEmit
npx tsc -p bench/tsconfig.json --noEmit
echo "test: building the web apps and the Quran text (web/ into dist/public/)"
node scripts/build-web.mjs
echo "test: running the test suite"
mapfile -t files < <(find test -name '*.test.ts' | sort)
# c8 collects V8 coverage of this process and of every server process the tests start; the report
# is printed at the end and written to coverage/index.html.
exec npx c8 node --import tsx --test --test-reporter=spec --test-timeout=300000 "${files[@]}"
