#!/bin/sh
# The image's entry point: its first argument says what this container runs.
#
#   registry | reporting | aggregator   the service, on port $WARROOM_PORT (8000)
#   web                                 the War Room website, on port $WARROOM_PORT (8000)
#   relay                               the reporting outbox relay (`warroom relay`)
#   migrate                             every service's migrations, then exit (migrate.py)
#   healthcheck [--deps]                exit 0 if ready (healthcheck.py)
#   anything else                       run as given, e.g. `warroom aggregator rebuild`
set -eu
here=$(dirname "$(readlink -f "$0")")

case "${1:-}" in
  registry | reporting | aggregator | web)
    # One process per container: scale with replicas. Behind a proxy, set FORWARDED_ALLOW_IPS
    # (read by uvicorn) so that the callers' own addresses reach the rate limit.
    exec uvicorn "warroom_$1.app:create_app" --factory --host "${WARROOM_HOST:-0.0.0.0}" \
      --port "${WARROOM_PORT:-8000}" --no-access-log --timeout-graceful-shutdown 20
    ;;
  relay)
    shift
    exec warroom relay "$@"
    ;;
  migrate)
    shift
    exec python "$here/migrate.py" "$@"
    ;;
  healthcheck)
    shift
    exec python "$here/healthcheck.py" "$@"
    ;;
  "" | -h | --help | help)
    sed -n '2,10s/^# \{0,1\}//p' "$0"
    [ -n "${1:-}" ]
    ;;
  *)
    exec "$@"
    ;;
esac
