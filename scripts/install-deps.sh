#!/usr/bin/env bash
# Installs what the tests need and a fresh machine may lack: Debian packages (when run as root)
# and the locked npm dependencies. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# command the tests run -> Debian package that provides it
declare -A SYSTEM_PACKAGES=(
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [chromium]=chromium
  [turnserver]=coturn
)

missing=()
for command in "${!SYSTEM_PACKAGES[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${SYSTEM_PACKAGES[$command]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: the tests need these Debian packages: ${missing[*]}; run as root or install them." >&2
    exit 1
  fi
  echo "install-deps: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
