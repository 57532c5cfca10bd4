#!/bin/sh
# Create (or upgrade) Temporal's two PostgreSQL databases: `temporal` and `temporal_visibility`.
#
# Runs in the temporalio/admin-tools image (service `temporal-admin-tools` in
# docker-compose.yml) before the server starts. Follows compose/scripts/setup-postgres.sh in
# temporalio/samples-server, with a wait loop instead of a single port probe.
#
# Safe to run on every `docker compose up`: `create` ignores an existing database,
# `setup-schema -v 0.0` only adds the version tables when missing, and `update-schema` applies
# just the versioned migrations newer than the recorded schema version. That last step is also
# what upgrades the schema when the admin-tools image is moved to a newer Temporal release.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${POSTGRES_PWD:?POSTGRES_PWD is required}"
DB_PORT="${DB_PORT:-5432}"
DB_PLUGIN="${DB:-postgres12}"
SCHEMA_DIR="${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
# temporal-sql-tool reads the password from SQL_PASSWORD (kept off the command line).
export SQL_PASSWORD="$POSTGRES_PWD"

echo "waiting for PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT} ..."
attempt=1
until nc -z -w 5 "$POSTGRES_SEEDS" "$DB_PORT"; do
  if [ "$attempt" -ge 60 ]; then
    echo "PostgreSQL did not open its port after $attempt attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

sql_tool() {
  temporal-sql-tool --plugin "$DB_PLUGIN" --ep "$POSTGRES_SEEDS" -p "$DB_PORT" \
    -u "$POSTGRES_USER" "$@"
}

for db in temporal visibility; do
  name="$db"
  [ "$db" = visibility ] && name="temporal_visibility"
  echo "schema for database '$name' ..."
  sql_tool --db "$name" create
  sql_tool --db "$name" setup-schema -v 0.0
  sql_tool --db "$name" update-schema -d "$SCHEMA_DIR/$db/versioned"
done

echo "PostgreSQL schema setup complete"
