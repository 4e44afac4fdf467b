#!/usr/bin/env bash
# End-to-end benchmark: our demo (discord-oauth) vs Flask-Discord 0.1.69, same fake Discord, same load.
#
#   bash bench/run.sh                      # the documented command (writes BENCHMARKS.md)
#
# Parameters (environment):
#   STORM_USERS=200      users in the login storm (workload b)
#   CPU_USERS=500        users in the second storm, used for CPU per login and RSS after it
#   CONCURRENCY=20       login-storm concurrency
#   BURST_USERS=100      users pressing "join" at once (workload c)
#   HOT_SECONDS=10       duration of each wrk run (workload a)
#   HOT_CONNS=64         wrk connections
#   WRK_THREADS=1        wrk threads (the machine has 2 cores, shared by wrk, the app and the fake)
#   LOADGEN_THREADS=1    tokio worker threads of the Rust load generator
#   FLASK_CONFIG=...     gunicorn config for the main table, e.g. "sync:4", "gthread:2x8", "gevent:2x100"
#   SWEEP="sync:2 ..."   extra gunicorn configs to measure too (a table per config in bench/out/)
#   WRITE_MD=1           write the table into BENCHMARKS.md (0: print only)
#   BENCH_IGNORE_SMOKE=1 keep going when a smoke check fails (numbers are then marked as not counting)
#   FAKE_PORT / OURS_PORT / FLASK_PORT   loopback ports (default 18080 / 18081 / 18082)
#   WAIT_QUIET=180      wait up to this many seconds for other processes to go below 0.3 busy cores
#   ONLY=flask           measure the Flask side only (gunicorn sweeps; never writes BENCHMARKS.md)
#
# Everything listens on and targets 127.0.0.1 only. Every load is bounded in count and in time.
# All processes started here are stopped on exit (trap).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
OUT="$BENCH/out"
mkdir -p "$OUT"
rm -f "$OUT"/flask-*.json "$OUT"/ours.json "$OUT"/results.json "$OUT"/ceiling.json "$OUT"/workloads-*.log

STORM_USERS="${STORM_USERS:-200}"
CPU_USERS="${CPU_USERS:-500}"
CONCURRENCY="${CONCURRENCY:-20}"
BURST_USERS="${BURST_USERS:-100}"
HOT_SECONDS="${HOT_SECONDS:-10}"
HOT_CONNS="${HOT_CONNS:-64}"
WRK_THREADS="${WRK_THREADS:-1}"
LOADGEN_THREADS="${LOADGEN_THREADS:-1}"
FLASK_CONFIG="${FLASK_CONFIG:-gthread:2x8}"
SWEEP="${SWEEP:-}"
WRITE_MD="${WRITE_MD:-1}"
ONLY="${ONLY:-}"
[ "$ONLY" = flask ] && WRITE_MD=0
FAKE_PORT="${FAKE_PORT:-18080}"
OURS_PORT="${OURS_PORT:-18081}"
FLASK_PORT="${FLASK_PORT:-18082}"
# Bounds (seconds) for waiting on things to come up.
READY_TIMEOUT="${READY_TIMEOUT:-60}"

FAKE="http://127.0.0.1:$FAKE_PORT"
OURS="http://127.0.0.1:$OURS_PORT"
FLASK="http://127.0.0.1:$FLASK_PORT"
PY="${PYTHON:-python3}"
HARNESS="$BENCH/harness.py"
LOADGEN="$BENCH/loadgen/target/release/bench-loadgen"
CMDLINE="bash bench/run.sh"

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------------------------------------
# Cleanup: stop every process this script started, by pid.
# ------------------------------------------------------------------------------------------------
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]:-}"; do
    [ -z "$p" ] && continue
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() {
  local p="$1"
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
}

wait_http() { # url, what
  local url="$1" what="$2" t0=$SECONDS
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    (( SECONDS - t0 > READY_TIMEOUT )) && die "$what did not answer $url within ${READY_TIMEOUT}s (see $OUT/*.log)"
    sleep 0.2
  done
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ------------------------------------------------------------------------------------------------
# Prerequisites
# ------------------------------------------------------------------------------------------------
command -v cargo >/dev/null || die "cargo not found"
command -v curl >/dev/null || die "curl not found"
command -v "$PY" >/dev/null || die "python3 not found"
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing wrk (Debian package)"
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }
  fi
  command -v wrk >/dev/null || die "wrk not found: apt-get install -y wrk"
fi
for p in "$FAKE_PORT" "$OURS_PORT" "$FLASK_PORT" "${CEILING_PORT:-18089}"; do port_free "$p" || die "port $p is in use"; done

# ------------------------------------------------------------------------------------------------
# Build (release) and the Python side
# ------------------------------------------------------------------------------------------------
log "building the fake Discord and the demo (release)"
(cd "$ROOT" && cargo build --release -p discord-oauth-mock && { [ "$ONLY" = flask ] || cargo build --release -p discord-oauth --example demo --all-features; }) \
  >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; die "cargo build failed (full log: $OUT/build.log)"; }
TARGET_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null | "$PY" -c 'import json,sys;print(json.load(sys.stdin)["target_directory"])')"
MOCK_BIN="$TARGET_DIR/release/discord-oauth-mock"
DEMO_BIN="$TARGET_DIR/release/examples/demo"
[ -x "$MOCK_BIN" ] || die "missing $MOCK_BIN"
[ "$ONLY" = flask ] || [ -x "$DEMO_BIN" ] || die "missing $DEMO_BIN"

log "building the load generator (bench/loadgen, release)"
cargo build --release --manifest-path "$BENCH/loadgen/Cargo.toml" >"$OUT/loadgen-build.log" 2>&1 \
  || { tail -30 "$OUT/loadgen-build.log" >&2; die "loadgen build failed"; }

VENV="$BENCH/.venv"
REQ_STAMP="$(sha256sum "$BENCH/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/gunicorn" ] || [ "$(cat "$VENV/.bench-requirements" 2>/dev/null)" != "$REQ_STAMP" ]; then
  log "creating $VENV and installing Flask-Discord 0.1.69 + gunicorn + gevent from PyPI (bench/requirements.txt)"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$BENCH/requirements.txt" >"$OUT/pip.log" 2>&1 \
    || { tail -20 "$OUT/pip.log" >&2; die "pip install failed"; }
  echo "$REQ_STAMP" >"$VENV/.bench-requirements"
fi
"$VENV/bin/python" -c 'import flask_discord; assert flask_discord.__version__ == "0.1.69"' || die "Flask-Discord 0.1.69 not installed"

# ------------------------------------------------------------------------------------------------
# The fake Discord
# ------------------------------------------------------------------------------------------------
log "starting the fake Discord on $FAKE"
"$MOCK_BIN" --port "$FAKE_PORT" >"$OUT/fake.log" 2>&1 &
FAKE_PID=$!
PIDS+=("$FAKE_PID")
wait_http "$FAKE/_mock/config" "the fake Discord"
curl -fsS "$FAKE/_mock/config" >"$OUT/fake-config.json"
read -r CLIENT_ID CLIENT_SECRET BOT_TOKEN < <("$PY" - "$OUT/fake-config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
def pick(*names):
    for n in names:
        if c.get(n) not in (None, ""):
            return str(c[n])
    raise SystemExit(f"fake config lacks {names}: {sorted(c)}")
print(pick("client_id"), pick("client_secret"), pick("bot_token"))
EOF
)
# The fake's rate limits are off except during the bot burst (harness.py switches them on for it):
# its token endpoint allows 500 code exchanges per 10 s per IP, and both apps log in faster than
# that, so with limits on a storm would measure the fake's limit (or, for a library that learns the
# limit from the headers, its own proactive waiting), not the app. Off from the start, so that
# neither app learns a token-endpoint bucket during the smoke checks.
curl -fsS -X POST -H 'Content-Type: application/json' -d '{"enabled":false}' "$FAKE/_mock/rate-limits" >/dev/null \
  || die "could not switch the fake's rate limits off"
for cb in "$OURS/callback" "$FLASK/callback"; do
  curl -fsS -X POST -H 'Content-Type: application/json' -d "{\"uri\":\"$cb\"}" "$FAKE/_mock/redirect-uris" >/dev/null \
    || die "could not register redirect URI $cb at the fake"
done
# The guild for the bot burst: the seed's "lobby" guild (bot can add members; 201).
GUILD="${GUILD:-$(curl -fsS "$FAKE/_mock/guilds" | "$PY" -c '
import json, sys
gs = json.load(sys.stdin)
gs = gs.get("guilds", gs) if isinstance(gs, dict) else gs
names = {g.get("name", ""): g["id"] for g in gs}
lobby = [g["id"] for g in gs if "lobby" in g.get("name", "").lower()]
print(lobby[0] if lobby else "1145678901234567890")')}"

common_env() { # redirect uri
  printf '%s\n' \
    "DISCORD_CLIENT_ID=$CLIENT_ID" "DISCORD_CLIENT_SECRET=$CLIENT_SECRET" "DISCORD_REDIRECT_URI=$1" \
    "DISCORD_BOT_TOKEN=$BOT_TOKEN" "DISCORD_BASE_URL=$FAKE" "DISCORD_CDN_URL=$FAKE/cdn" \
    "DISCORD_USERS_CACHE_MAX_LIMIT=${DISCORD_USERS_CACHE_MAX_LIMIT:-100}" \
    "SECRET_KEY=bench-secret-key-0123456789abcdef0123456789abcdef"
}

# ------------------------------------------------------------------------------------------------
# The apps
# ------------------------------------------------------------------------------------------------
start_ours() {
  log "starting our demo on $OURS"
  env $(common_env "$OURS/callback") BIND="127.0.0.1:$OURS_PORT" RUST_LOG="${RUST_LOG:-warn}" \
    "$DEMO_BIN" >"$OUT/ours.log" 2>&1 &
  OURS_PID=$!
  PIDS+=("$OURS_PID")
  wait_http "$OURS/health" "our demo"
}

gunicorn_args() { # config -> gunicorn arguments
  local kind="${1%%:*}" spec="${1#*:}"
  case "$kind" in
    sync) echo "-k sync -w $spec" ;;
    gthread) echo "-k gthread -w ${spec%x*} --threads ${spec#*x}" ;;
    gevent) echo "-k gevent -w ${spec%x*} --worker-connections ${spec#*x}" ;;
    *) die "unknown gunicorn config $1 (sync:N, gthread:WxT, gevent:WxC)" ;;
  esac
}

start_flask() { # config
  log "starting the Flask-Discord app under gunicorn ($1) on $FLASK"
  # shellcheck disable=SC2046
  env $(common_env "$FLASK/callback") \
    "$VENV/bin/gunicorn" --chdir "$BENCH" -b "127.0.0.1:$FLASK_PORT" $(gunicorn_args "$1") \
    --backlog 2048 --log-level warning flask_app:app >"$OUT/flask.log" 2>&1 &
  FLASK_PID=$!
  PIDS+=("$FLASK_PID")
  wait_http "$FLASK/health" "the Flask-Discord app"
}

SMOKE_NOTE=""
smoke() { # name url
  log "smoke check of the contract: $1"
  if "$LOADGEN" smoke --app "$2" --guild "$GUILD" --user "${SMOKE_USER:-0}" --user-ids "$USER_IDS" --max-seconds 60 >"$OUT/smoke-$1.json" 2>"$OUT/smoke-$1.log"; then
    cat "$OUT/smoke-$1.log" >&2
  else
    cat "$OUT/smoke-$1.log" >&2
    [ "${BENCH_IGNORE_SMOKE:-0}" = 1 ] || die "smoke check failed for $1: its numbers would not count (BENCH_IGNORE_SMOKE=1 to go on)"
    SMOKE_NOTE="$SMOKE_NOTE $1"
  fi
}

workloads() { # name pid url out user_base
  local cfg
  cfg=$("$PY" -c 'import json,sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' \
    name "$1" pid "$2" app "$3" out "$4" user_base "$5" stats "$FAKE/_mock/stats" loadgen "$LOADGEN" \
    wrk "$(command -v wrk)" lua "$BENCH/wrk_cookie.lua" guild "$GUILD" hot_seconds "$HOT_SECONDS" \
    hot_conns "$HOT_CONNS" wrk_threads "$WRK_THREADS" storm_users "$STORM_USERS" cpu_users "$CPU_USERS" \
    concurrency "$CONCURRENCY" burst_users "$BURST_USERS" loadgen_threads "$LOADGEN_THREADS" \
    log "$OUT/workloads-$1.log" limits "$FAKE/_mock/rate-limits" user_ids "$USER_IDS" fake_pid "$FAKE_PID")
  "$PY" "$HARNESS" workloads "$cfg"
}

# User ids: the fake logs any snowflake in as a generated, deterministic user, so every session of
# a run is a distinct Discord account: user n logs in as USER_BASE + n (the hot loop's user is
# USER_BASE, the storms and the burst count up from it), each login a new authorization with its
# own tokens. Both apps get the same sequence. USER_IDS=a,b,c makes the sessions cycle over those
# accounts instead (the method of earlier runs, with the 6 seeded ones).
USER_IDS="${USER_IDS:-}"
USER_BASE="${USER_BASE:-200000000000000000}"
SMOKE_USER="$USER_BASE"

log "waiting (at most ${WAIT_QUIET:-180}s) for the machine to be quiet"
BUSY_BEFORE=$("$PY" "$HARNESS" wait-quiet "${WAIT_QUIET:-180}" 0.3)
log "machine load before the run: $BUSY_BEFORE cores busy, loadavg $(cut -d' ' -f1-3 /proc/loadavg); other processes' CPU is reported as 'other' cores"
[ "$ONLY" = flask ] || start_ours
start_flask "$FLASK_CONFIG"
[ "$ONLY" = flask ] || smoke ours "$OURS"
smoke flask "$FLASK"

log "ceiling of the hot loop: wrk against a bare hyper 'ok' server"
"$PY" "$HARNESS" ceiling "$("$PY" -c 'import json,sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' \
  loadgen "$LOADGEN" wrk "$(command -v wrk)" lua "$BENCH/wrk_cookie.lua" hot_seconds "$HOT_SECONDS" \
  hot_conns "$HOT_CONNS" wrk_threads "$WRK_THREADS" port "${CEILING_PORT:-18089}" out "$OUT/ceiling.json" log "$OUT/ceiling.log")" \
  || echo '{}' >"$OUT/ceiling.json"

if [ "$ONLY" = flask ]; then
  echo '{}' >"$OUT/ours.json"
else
  log "workloads against our demo"
  workloads ours "$OURS_PID" "$OURS" "$OUT/ours.json" "$USER_BASE"
fi
log "workloads against Flask-Discord ($FLASK_CONFIG)"
workloads flask "$FLASK_PID" "$FLASK" "$OUT/flask-$FLASK_CONFIG.json" "$USER_BASE"

for cfg in $SWEEP; do
  [ "$cfg" = "$FLASK_CONFIG" ] && continue
  stop_pid "$FLASK_PID"
  start_flask "$cfg"
  smoke "flask-$cfg" "$FLASK"
  log "workloads against Flask-Discord ($cfg)"
  workloads flask "$FLASK_PID" "$FLASK" "$OUT/flask-$cfg.json" "$USER_BASE"
done

# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------
"$PY" "$HARNESS" merge "$OUT/results.json" "$OUT/ours.json" "$OUT/flask-$FLASK_CONFIG.json" "$OUT/ceiling.json"
MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), $(uname -sr)"
CMD="$CMDLINE"
[ "$STORM_USERS$CPU_USERS$CONCURRENCY$BURST_USERS$HOT_SECONDS$HOT_CONNS$WRK_THREADS$FLASK_CONFIG" != "2005002010010641gthread:2x8" ] && \
  CMD="STORM_USERS=$STORM_USERS CPU_USERS=$CPU_USERS CONCURRENCY=$CONCURRENCY BURST_USERS=$BURST_USERS HOT_SECONDS=$HOT_SECONDS HOT_CONNS=$HOT_CONNS WRK_THREADS=$WRK_THREADS FLASK_CONFIG=$FLASK_CONFIG $CMDLINE"
[ -n "$SWEEP" ] && CMD="SWEEP=\"$SWEEP\" $CMD"
"$PY" "$HARNESS" publish "$OUT/results.json" "$ROOT/BENCHMARKS.md" "$WRITE_MD" \
  "$(date -u '+%Y-%m-%d %H:%M UTC')" "$MACHINE" "$CMD" "$FLASK_CONFIG" "$SWEEP" "$OUT" "${SMOKE_NOTE# }" \
  "wrk $(wrk --version 2>&1 | head -1 | awk '{print $2}'), -t$WRK_THREADS -c$HOT_CONNS -d${HOT_SECONDS}s"
