#!/usr/bin/env bash
# Start PostgreSQL and Redis if they are not already up, and create the
# owner and application roles (idempotent). Used by .ci/run and by developers.
set -euo pipefail

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  version=$(ls /etc/postgresql | sort -n | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi

# careloop_owner owns the schema, runs migrations and makes the platform changes
# (creating and suspending clinics: `flask tenants ...` connects through
# DATABASE_OWNER_URL); careloop_app is what the application connects as: it owns
# nothing, cannot bypass row-level security, only reads tenants and domains (the
# migrations grant that) and must not be able to become the owner.
sql="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'careloop_owner') THEN
    CREATE ROLE careloop_owner LOGIN CREATEDB PASSWORD 'careloop';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'careloop_app') THEN
    CREATE ROLE careloop_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD 'careloop';
  END IF;
  IF pg_has_role('careloop_app', 'careloop_owner', 'MEMBER') THEN
    REVOKE careloop_owner FROM careloop_app;
  END IF;
END \$\$;"
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
  runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -c "$sql"
else
  psql -q -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -c "$sql"
fi

# PgBouncer in transaction mode on 127.0.0.1:6433, in front of every database on 5432: `make test` runs
# the isolation and route-walk tests through it as well (the README shows the configuration).
pgbouncer_dir=/tmp/careloop-pgbouncer
if command -v pgbouncer >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 \
   && ! pg_isready -h 127.0.0.1 -p 6433 -q 2>/dev/null; then
  mkdir -p "$pgbouncer_dir"
  printf '"careloop_app" ""\n"careloop_owner" ""\n' > "$pgbouncer_dir/userlist.txt"
  cat > "$pgbouncer_dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = 6433
unix_socket_dir =
auth_type = trust
auth_file = $pgbouncer_dir/userlist.txt
pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
admin_users = careloop_owner
ignore_startup_parameters = extra_float_digits
pidfile = $pgbouncer_dir/pgbouncer.pid
logfile = $pgbouncer_dir/pgbouncer.log
INI
  chown -R postgres "$pgbouncer_dir"
  runuser -u postgres -- pgbouncer -d "$pgbouncer_dir/pgbouncer.ini"
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 6433 -q 2>/dev/null && break; sleep 0.5; done
fi
