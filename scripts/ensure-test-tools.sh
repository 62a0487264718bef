#!/usr/bin/env bash
# The system programs some tests drive: Debian's chromium (the Swagger UI pages
# in a real browser, e2e/), docker-compose 1.29 (validates docker-compose.yml
# without a Docker engine), pgbouncer 1.18 and haproxy 2.6 (the drills' production
# topology, started by the tests themselves) and redis-server (make bench).
# Installs them with apt when missing and allowed (root on Debian); otherwise
# says exactly what to install.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
# By path: /usr/sbin is not on every user's PATH.
[ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
[ -x /usr/sbin/haproxy ] || missing+=(haproxy)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test tools with apt: ${missing[*]}"
  # Debian's postinst scripts start pgbouncer (6432), haproxy and redis-server
  # (6379) as daemons. Tests start their own instances on free ports, so a
  # policy-rc.d that refuses every start (exit 101) is in place during the
  # install; whatever policy-rc.d was there before (a container's, usually) is
  # put back afterwards. Nothing is stopped: a redis already running stays up.
  policy=/usr/sbin/policy-rc.d
  saved=""
  if [ -e "$policy" ]; then
    saved="$(mktemp)"
    cp -p "$policy" "$saved"
  fi
  restore_policy() {
    if [ -n "$saved" ]; then
      mv -f "$saved" "$policy"
    else
      rm -f "$policy"
    fi
  }
  trap restore_policy EXIT
  printf '#!/bin/sh\n# ensure-test-tools.sh: no daemon starts during the install\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "the tests need: ${missing[*]}; install them, e.g. sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
