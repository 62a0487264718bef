#!/usr/bin/env bash
# The two system programs some tests drive: Debian's chromium (the Swagger UI
# pages in a real browser, e2e/) and docker-compose 1.29 (validates
# docker-compose.yml without a Docker engine). Installs them with apt when
# missing and allowed (root on Debian); otherwise says exactly what to install.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test tools with apt: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "the tests need: ${missing[*]}; install them, e.g. sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
