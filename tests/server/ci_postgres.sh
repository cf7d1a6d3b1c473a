#!/usr/bin/env bash
# Install (if missing) and start PostgreSQL on a fresh Debian machine as root, then export
# AGENTCLI_TEST_PG for the server suite. Idempotent; safe to `source` from .ci/run (no `exit`).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
fi
# The cluster Debian's package created (e.g. 15/main); create one if none exists.
if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -1)" main
fi
read -r _pg_version _pg_cluster _pg_port _pg_status _rest <<<"$(pg_lsclusters -h | head -1)"
if [ "$_pg_status" != "online" ]; then
    pg_ctlcluster "$_pg_version" "$_pg_cluster" start
fi
for _ in $(seq 1 30); do
    su postgres -c "psql -p $_pg_port -qAtc 'SELECT 1'" >/dev/null 2>&1 && break
    sleep 1
done
# Password auth over TCP on loopback (Debian's pg_hba uses scram-sha-256 for 127.0.0.1).
su postgres -c "psql -p $_pg_port -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
export AGENTCLI_TEST_PG="postgresql://postgres:postgres@127.0.0.1:${_pg_port}/postgres"
echo "PostgreSQL ${_pg_version}/${_pg_cluster} on port ${_pg_port}: AGENTCLI_TEST_PG=${AGENTCLI_TEST_PG}"
