#!/usr/bin/env bash
# docker-compose's postgres runs this once, when its data volume is empty (the
# official image runs /docker-entrypoint-initdb.d/*): for each service in
# SERVICES, the bootstrap that `make bootstrap` runs, from the same SQL file.
# Passwords: <ROLE>_DB_PASSWORD for the owner role <service> and the runtime role
# <service>_app (AUTH_DB_PASSWORD, AUTH_APP_DB_PASSWORD), else the development
# defaults <role>-dev-password. The runtime role's statement timeout:
# <SERVICE>_STATEMENT_TIMEOUT, default 5s.
set -euo pipefail

sql="${BOOTSTRAP_SQL:-/bootstrap/bootstrap-service.sql}"
for service in ${SERVICES:?SERVICES must name the services, e.g. SERVICES="auth billing"}; do
  owner_variable="${service^^}_DB_PASSWORD"
  app_variable="${service^^}_APP_DB_PASSWORD"
  timeout_variable="${service^^}_STATEMENT_TIMEOUT"
  echo "bootstrap: roles \"${service}\" and \"${service}_app\", schema \"${service}\" in database \"${POSTGRES_DB:-postgres}\""
  psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v service="$service" \
    -v password="${!owner_variable:-${service}-dev-password}" \
    -v app_password="${!app_variable:-${service}_app-dev-password}" \
    -v statement_timeout="${!timeout_variable:-5s}" \
    -f "$sql"
done
