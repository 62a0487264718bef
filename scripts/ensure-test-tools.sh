#!/usr/bin/env bash
# The system programs some tests drive: Debian's chromium (the Swagger UI pages
# in a real browser, e2e/), docker-compose 1.29 (validates docker-compose.yml
# without a Docker engine), pgbouncer 1.18 and haproxy 2.6 (the drills' production
# topology, started by the tests themselves) and redis-server (make bench).
# Installs them with apt when missing and allowed (root on Debian); otherwise
# says exactly what to install. kubectl (infra/k8s's tests render the manifests
# with its kustomize) is only checked: Debian has no recent enough one.
# Arguments name a subset (make bench: `pgbouncer redis-server`); then kubectl is
# not checked either.
set -euo pipefail

wanted() { local tool; for tool in "${only[@]}"; do [ "$tool" = "$1" ] && return 0; done; return 1; }
only=("$@")
need() { [ ${#only[@]} -eq 0 ] || wanted "$1"; }

missing=()
need chromium && { [ -x /usr/bin/chromium ] || missing+=(chromium); }
need docker-compose && { command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose); }
# By path: /usr/sbin is not on every user's PATH.
need pgbouncer && { [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer); }
need haproxy && { [ -x /usr/sbin/haproxy ] || missing+=(haproxy); }
need redis-server && { [ -x /usr/bin/redis-server ] || missing+=(redis-server); }
# kubectl with kustomize v5 (kubectl 1.27+) renders infra/k8s in its tests. No apt
# install for it: Debian 12's kubernetes-client is 1.20, whose kustomize v2 rejects
# these kustomizations.
# Checked after the apt installs below, so that they happen either way.
check_kubectl() {
  [ ${#only[@]} -eq 0 ] || return 0
  local major
  major="$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p')"
  if [ "${major:-0}" -lt 5 ]; then
    echo "the tests need kubectl 1.27 or later (with kustomize v5) to render infra/k8s: install it from the Kubernetes project's packages (Debian's kubernetes-client 1.20 is too old)" >&2
    return 1
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  check_kubectl
  exit 0
fi

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
  check_kubectl
else
  echo "the tests need: ${missing[*]}; install them, e.g. sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
