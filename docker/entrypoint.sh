#!/bin/sh
# guideground container entrypoint.
#
# For `guideground serve` (the default command) it first makes sure the harmful-request screen is
# usable: if $GUIDEGROUND_SAFETY__SCREEN_FILE is missing, or no longer loads with this image's code, it
# is trained from the shared data mounted at $GUIDEGROUND_DATA__SHARED_DIR (and kept in the /srv/var
# volume); with neither it stops with a message, unless GUIDEGROUND_SAFETY__ENABLED=false. When the
# audit store is PostgreSQL it waits for the server (DB_WAIT_SECONDS, default 60). Any other command
# (`guideground config`, `sh`, ...) is run as is.
set -eu

log() { printf 'guideground-entrypoint: %s\n' "$*" >&2; }

# Same spellings pydantic accepts for a false bool.
is_false() {
    case "$(printf '%s' "${1:-}" | tr '[:upper:]' '[:lower:]')" in
        0 | false | f | no | n | off) return 0 ;;
        *) return 1 ;;
    esac
}

# Exits 0 if the screen artefact $1 loads with the installed code; otherwise prints why and fails.
screen_problem() {
    python - "$1" <<'PY'
import sys

from app.safety.screen import RequestScreen

try:
    RequestScreen.load(sys.argv[1])
except Exception as exc:  # noqa: BLE001
    print(getattr(exc, "message", None) or exc)
    sys.exit(1)
PY
}

ensure_screen() {
    screen="${GUIDEGROUND_SAFETY__SCREEN_FILE:-/srv/var/safety/screen.npz}"
    data="${GUIDEGROUND_DATA__SHARED_DIR:-/data}"
    if is_false "${GUIDEGROUND_SAFETY__ENABLED:-true}"; then
        log "WARNING: GUIDEGROUND_SAFETY__ENABLED=${GUIDEGROUND_SAFETY__ENABLED}: harmful requests are NOT screened"
        return 0
    fi
    why="not found"
    if [ -f "$screen" ]; then
        # The artefact lives in a volume that outlives the image: after an upgrade it may no longer
        # match the code (feature set, weights), and the service would never become ready.
        if why="$(screen_problem "$screen")"; then
            log "safety screen: $screen"
            return 0
        fi
        why="${why:-could not be checked}"
        log "safety screen at $screen does not load with this image: $why"
    fi
    if [ -f "$data/medsafetybench/medsafetybench_train.jsonl" ] && [ -f "$data/medquad/medquad_qa.jsonl" ]; then
        log "training the safety screen from $data into $screen (once; a few minutes)"
        mkdir -p "$(dirname "$screen")"
        started=$(date +%s)
        if ! guideground safety train --out "$screen" --quiet; then
            log "ERROR: training the safety screen failed (see above); nothing was served"
            exit 1
        fi
        log "safety screen trained in $(($(date +%s) - started)) s: $screen"
        return 0
    fi
    cat >&2 <<EOF
guideground-entrypoint: ERROR: no usable harmful-request screen, and it cannot be trained.
  screen file:  $screen  ($why)
  shared data:  $data  (no medsafetybench/medsafetybench_train.jsonl + medquad/medquad_qa.jsonl)
Fix one of:
  - mount the shared data folder read-only at $data (compose mounts \${GG_SHARED_DATA:-../../shared/data});
    the screen is then trained once and kept in the /srv/var volume;
  - mount a screen trained by this version at $screen (\`guideground safety train --out screen.npz\`);
  - or serve WITHOUT the screen, explicitly: GUIDEGROUND_SAFETY__ENABLED=false.
EOF
    exit 78 # EX_CONFIG
}

wait_for_db() {
    case "${GUIDEGROUND_DATABASE__URL:-}" in
        postgres*) ;;
        *) return 0 ;;
    esac
    # The audit store is opened once at start-up; if the database is not up then, the service runs
    # without an audit trail, so give a starting PostgreSQL container time to accept connections.
    python - "${DB_WAIT_SECONDS:-60}" <<'PY' || log "WARNING: database not reachable; the service starts without the audit store"
import os, sys, time

from sqlalchemy import text

from app.audit.store import AuditStore

engine = AuditStore(os.environ["GUIDEGROUND_DATABASE__URL"]).engine
deadline = time.monotonic() + float(sys.argv[1])
while True:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001
        if time.monotonic() > deadline:
            print(f"guideground-entrypoint: database still unreachable: {exc.__class__.__name__}", file=sys.stderr)
            sys.exit(1)
        time.sleep(2)
PY
}

# `docker run IMAGE serve --port 9000` is short for `guideground serve --port 9000`.
if [ "${1:-}" = "serve" ]; then
    set -- guideground "$@"
fi
if [ "$#" -eq 0 ]; then
    set -- guideground serve --host 0.0.0.0 --port 8000
fi

if [ "$1" = "guideground" ] && [ "${2:-}" = "serve" ]; then
    ensure_screen
    wait_for_db
fi

exec "$@"
