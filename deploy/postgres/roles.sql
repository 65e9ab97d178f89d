-- A role and a database for one service, the database owned by its role: the service makes its
-- own schema and tables there (`migrate`) and cannot connect to another service's database.
-- Run it once per service, as the server's administrator (a managed server's admin user will do):
--
--   psql "postgresql://admin@db.example:5432/postgres" -v ON_ERROR_STOP=1 \
--        -v service=registry -v password="$REGISTRY_DB_PASSWORD" -f deploy/postgres/roles.sql
--
-- then the same with service=reporting and service=aggregator. docker-compose.yml runs it on
-- the first start of its PostgreSQL (deploy/compose/postgres-init.sh).

CREATE ROLE :"service" LOGIN PASSWORD :'password';
-- An administrator that is no superuser (managed servers) must be a member to give it a database.
GRANT :"service" TO CURRENT_USER;
CREATE DATABASE :"service" OWNER :"service";
REVOKE ALL ON DATABASE :"service" FROM PUBLIC;
