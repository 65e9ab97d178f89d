#!/bin/sh
# Run by the postgres image once, on an empty data volume (/docker-entrypoint-initdb.d): a role and
# a database per service (deploy/postgres/roles.sql), each password from the environment.
set -eu
for service in registry reporting aggregator; do
  variable="$(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  eval "password=\${$variable:?$variable is not set}"
  psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       -v service="$service" -v password="$password" -f /warroom/roles.sql
done
