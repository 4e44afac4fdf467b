#!/usr/bin/env bash
# Hot `GET /me` for each SESSION_STORE against the cookie store, measured in one run.
#
#   bash bench/stores.sh           # from anywhere; PostgreSQL and Redis on this machine's defaults
#
# For each store below, the demo (release build, offline fake Discord) is started with that
# SESSION_STORE (and REDIS_URL where the row says so), one login, then bench/hot_path_callgrind.sh
# measures it: wrk req/s of /me with the cookie (WRK part) and, with CALLGRIND=1, instructions per
# /me request (callgrind; counts only the demo's own instructions, not the time spent waiting for
# a database). Rounds are interleaved (every store once per round) so that drift of the machine
# hits every store alike; the ratio reported is median(/me of the store) / median(/me of cookie).
#
# Rows (name = SESSION_STORE [+ REDIS_URL]):
#   cookie         cookie                        (the baseline: no server state)
#   cookie+redis   cookie + REDIS_URL            (logouts, states, refresh, rate limits in Redis)
#   memory         memory
#   sqlite         sqlite:<temp file>
#   postgres       $PG_URL
#   redis          $REDIS + REDIS_URL=$REDIS
#   <row>-0        the same with SESSION_RECHECK_MS=0: the store is asked on every request (what the
#                  50 ms recheck interval saves), e.g. sqlite-0, postgres-0, redis-0, cookie+redis-0
#
# Parameters (environment): ROUNDS=3, WRK_DURATION=5s, WRK_CONNS=64, CALLGRIND=0 (1: also
# instructions per request), STORES="cookie cookie+redis memory sqlite postgres redis",
# PG_URL=postgres://postgres@127.0.0.1:5432/test, REDIS=redis://127.0.0.1:6379, DEMO_BIN=path,
# OUT_DIR (default bench/out/stores). The demo's records of earlier runs in PostgreSQL and Redis
# are left to expire (their TTL); the SQLite file is removed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT_DIR:-$ROOT/bench/out/stores}"
ROUNDS="${ROUNDS:-3}"
WRK_DURATION="${WRK_DURATION:-5s}"
WRK_CONNS="${WRK_CONNS:-64}"
CALLGRIND="${CALLGRIND:-0}"
STORES="${STORES:-cookie cookie+redis memory sqlite postgres redis cookie+redis-0 sqlite-0 postgres-0 redis-0}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
REDIS="${REDIS:-redis://127.0.0.1:6379}"
mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

log() { printf '== %s\n' "$*" >&2; }

if [ -z "${DEMO_BIN:-}" ]; then
  log "building the demo (cargo build --release --example demo --all-features)"
  (cd "$ROOT" && cargo build --release --example demo --all-features) >"$OUT/build.log" 2>&1 \
    || { tail -30 "$OUT/build.log" >&2; exit 1; }
  DEMO_BIN="$ROOT/target/release/examples/demo"
fi

# env_of <row>: the variables of a row, as NAME=value words.
env_of() {
  case "$1" in
    *-0) echo "$(env_of "${1%-0}") SESSION_RECHECK_MS=0" ;;
    cookie) echo "SESSION_STORE=cookie" ;;
    cookie+redis) echo "SESSION_STORE=cookie REDIS_URL=$REDIS" ;;
    memory) echo "SESSION_STORE=memory" ;;
    sqlite) echo "SESSION_STORE=sqlite:$TMP/sessions.db" ;;
    postgres) echo "SESSION_STORE=$PG_URL" ;;
    redis) echo "SESSION_STORE=$REDIS REDIS_URL=$REDIS" ;;
    *) echo "unknown row $1" >&2; exit 1 ;;
  esac
}

declare -A RPS IR
for round in $(seq 1 "$ROUNDS"); do
  for row in $STORES; do
    dir="$OUT/$row.round$round"
    # shellcheck disable=SC2046
    env -u REDIS_URL $(env_of "$row") DEMO_BIN="$DEMO_BIN" OUT_DIR="$dir" SKIP_CALLGRIND=1 \
      WRK_ROUNDS=1 WRK_DURATION="$WRK_DURATION" WRK_CONNS="$WRK_CONNS" WARMUP=300 \
      bash "$ROOT/bench/hot_path_callgrind.sh" >"$dir.log" 2>&1 \
      || { tail -20 "$dir.log" >&2; echo "row $row failed (log: $dir.log)" >&2; exit 1; }
    me=$(sed -n 's|.*/me \([0-9.]*\) req/s.*|\1|p' "$dir/summary.txt" | head -1)
    RPS[$row]="${RPS[$row]:-} $me"
    log "round $round: $row /me $me req/s"
  done
done

if [ "$CALLGRIND" = 1 ]; then
  for row in $STORES; do
    dir="$OUT/$row.callgrind"
    # shellcheck disable=SC2046
    env -u REDIS_URL $(env_of "$row") DEMO_BIN="$DEMO_BIN" OUT_DIR="$dir" SKIP_WRK=1 \
      CALLGRIND_RUNS=1 MEASURE="me" REQUESTS=2000 WARMUP=300 \
      bash "$ROOT/bench/hot_path_callgrind.sh" >"$dir.log" 2>&1 \
      || { tail -20 "$dir.log" >&2; echo "row $row failed (log: $dir.log)" >&2; exit 1; }
    IR[$row]=$(sed -n 's|.* = *\([0-9]*\) Ir/request.*|\1|p' "$dir.log" | tail -1)
    log "$row: ${IR[$row]} Ir per /me"
  done
fi

median() { printf '%s\n' $1 | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
base=$(median "${RPS[cookie]:-0}")
{
  echo
  echo "hot GET /me per SESSION_STORE  --  $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(cd "$ROOT" && git rev-parse --short HEAD)"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); wrk -t1 -c$WRK_CONNS -d$WRK_DURATION, $ROUNDS interleaved rounds, demo TOKIO_WORKER_THREADS=2"
  printf '| store | /me req/s (median; rounds) | ÷ cookie |%s\n' "$([ "$CALLGRIND" = 1 ] && echo ' Ir per /me | Ir ÷ cookie |')"
  printf '|---|---|---|%s\n' "$([ "$CALLGRIND" = 1 ] && echo '---|---|')"
  for row in $STORES; do
    m=$(median "${RPS[$row]}")
    extra=""
    if [ "$CALLGRIND" = 1 ]; then
      extra=" ${IR[$row]} | $(awk -v a="${IR[$row]}" -v b="${IR[cookie]}" 'BEGIN { printf "%.2f", a / b }') |"
    fi
    printf '| %s | %s (%s) | %s |%s\n' "$row" "$m" "$(echo ${RPS[$row]} | tr ' ' '/')" \
      "$(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.2f", a / b }')" "$extra"
  done
} | tee "$OUT/summary.md"
