# Shared helpers of the test-ground scripts. Source it; it defines no side effects.
GROUND_DIR="${TERRANE_GROUND_DIR:-$HOME/.cache/terrane/ground}"
RUN_DIR="$GROUND_DIR/run"      # pid files
LOG_DIR="$GROUND_DIR/log"      # daemon logs
STATE_DIR="$GROUND_DIR/state"  # generated config and data
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SYS_PY=/usr/bin/python3        # Debian's python, which has the OpenStack libraries
export PATH="/usr/bin:/usr/sbin:$PATH"
mkdir -p "$RUN_DIR" "$LOG_DIR" "$STATE_DIR"

log() { printf '%s ground: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# start_daemon NAME CMD... : runs CMD in its own session, logs to $LOG_DIR/NAME.log,
# records its PID in $RUN_DIR/NAME.pid. Does nothing when that PID is alive,
# unless a file among CMD's arguments (its configuration) changed since it
# started: then it is restarted.
start_daemon() {
  local name="$1"; shift
  if daemon_alive "$name"; then
    local pidf="$RUN_DIR/$name.pid" arg changed=""
    for arg in "$@"; do [ -f "$arg" ] && [ "$arg" -nt "$pidf" ] && changed="$arg"; done
    [ -z "$changed" ] && return 0
    log "restarting $name: $changed changed"
    kill -s TERM -- "-$(cat "$pidf")" 2>/dev/null || true
    local i; for i in $(seq 1 40); do daemon_alive "$name" || break; sleep 0.25; done
    kill -s KILL -- "-$(cat "$pidf")" 2>/dev/null || true
  fi
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN_DIR/$name.pid"
}

daemon_alive() {
  local f="$RUN_DIR/$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

# wait_for DESCRIPTION SECONDS CMD... : polls CMD every 0.5 s until it succeeds.
wait_for() {
  local what="$1" secs="$2"; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out after ${secs}s waiting for $what"
    sleep 0.5
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
http_ok() { curl -fsS -o /dev/null --max-time 5 "$1"; }

# stop_daemon NAME : TERM the recorded session, then KILL after 10 s.
stop_daemon() {
  local f="$RUN_DIR/$1.pid" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if [ "${pid:-0}" -gt 1 ] 2>/dev/null && kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
