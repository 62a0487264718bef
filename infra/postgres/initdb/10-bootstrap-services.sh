#!/usr/bin/env bash
# docker-compose's postgres runs this once, when its data volume is empty (the
# official image runs /docker-entrypoint-initdb.d/*): for each service in
# SERVICES, the bootstrap that `make bootstrap` runs, from the same SQL file.
# Passwords: <SERVICE>_DB_PASSWORD, else the development default <service>-dev-password.
set -euo pipefail

sql="${BOOTSTRAP_SQL:-/bootstrap/bootstrap-service.sql}"
for service in ${SERVICES:?SERVICES must name the services, e.g. SERVICES="auth billing"}; do
  variable="${service^^}_DB_PASSWORD"
  password="${!variable:-${service}-dev-password}"
  echo "bootstrap: role and schema \"${service}\" in database \"${POSTGRES_DB:-postgres}\""
  psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v service="$service" -v password="$password" -f "$sql"
done
