#!/usr/bin/env bash
# Hot-path benchmark of the demo: instructions per request (callgrind) and requests/s (wrk) of
# a hot `GET /me` (logged in, user cached) against `GET /health` (the same layers, no session work).
#
#   bash bench/hot_path_callgrind.sh            # from the repository root (or anywhere: paths are resolved)
#
# What one run does, all on 127.0.0.1 (the demo runs offline: DISCORD_CLIENT_ID is unset, so it
# starts its built-in fake Discord in-process):
#   1. `cargo build --release --example demo --all-features` (skipped when DEMO_BIN is given).
#   2. callgrind (CALLGRIND_RUNS times): the demo under `valgrind --tool=callgrind
#      --instr-atstart=no` (nothing is instrumented during start-up), TOKIO_WORKER_THREADS=1,
#      RUST_LOG=warn (the demo's request logger is off at warn, so neither route formats a log
#      line), a fixed SECRET_KEY. One login through the offline flow (GET /login -> the fake's
#      authorize URL with mock_user=<seeded user> -> GET /callback?code&state, cookies kept), then
#      instrumentation on, WARMUP requests of each measurement, and per measurement:
#      `callgrind_control --zero`, REQUESTS keep-alive requests on one connection (one curl
#      process), `callgrind_control --dump=<name>`. Instructions per request = the dump's total Ir
#      (every thread of the process; an idle demo costs < 1k Ir per second) / REQUESTS.
#      Measurements: `health` = GET /health without a cookie (as bench/run.sh measures it: the
#      baseline), `health_cookie` = GET /health with the session cookie (what carrying the cookie
#      costs on any route: DiscordLayer looks for it on every request), `me` = GET /me with it.
#   3. wrk: the same release binary NOT under valgrind (TOKIO_WORKER_THREADS=WRK_WORKER_THREADS),
#      a fresh login, WARMUP requests of each route, then WRK_ROUNDS rounds of
#      `wrk -tWRK_THREADS -cWRK_CONNS -dWRK_DURATION` on /health and on /me (with the cookie,
#      bench/wrk_cookie.lua); req/s of each and the ratio /me / /health (median over rounds).
#   4. A summary with the machine. Every process started here is stopped on exit (trap).
#
# Parameters (environment):
#   REQUESTS=3000          measured requests per route (callgrind)
#   WARMUP=500             warm-up requests per route (both parts)
#   CALLGRIND_RUNS=2       how many times to run the whole callgrind part (fresh demo each time)
#   MEASURE="health health_cookie me"   callgrind measurements, in this order
#   WRK_DURATION=10s       duration of each wrk run
#   WRK_THREADS=1          wrk threads
#   WRK_CONNS=64           wrk connections
#   WRK_ROUNDS=1           rounds of (/health, /me) wrk runs; the ratio reported is the median
#   WRK_WORKER_THREADS=2   TOKIO_WORKER_THREADS of the demo in the wrk part (2 = the demo's default)
#   WAIT_QUIET=120         before each wrk run, wait up to this many seconds for other processes to
#                          use < 0.3 cores (the machine may be shared); runs where they used more are
#                          flagged noisy, and the median ratio is taken over the quiet rounds if any
#   DEMO_BIN=path          use this demo binary instead of building one (e.g. another worktree's)
#   SECRET_KEY=...         session cookie key (a fixed 52-byte default)
#   MOCK_USER=id           seeded fake-Discord user to log in as (default: alice, 459873214563123201)
#   SKIP_CALLGRIND=1 / SKIP_WRK=1   run only one part
#   OUT_DIR=path           where dumps and logs go (default bench/out/hot_path, ignored by git)
#   READY_TIMEOUT=120      seconds to wait for the demo to answer (valgrind start-up is slow)
#
# Afterwards, e.g.:
#   callgrind_annotate --inclusive=yes bench/out/hot_path/callgrind.run1.me | head -60
# (bench/out/hot_path/ also keeps callgrind_annotate's self and inclusive listings of every dump.)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT_DIR:-$ROOT/bench/out/hot_path}"
LUA="$ROOT/bench/wrk_cookie.lua"

REQUESTS="${REQUESTS:-3000}"
WARMUP="${WARMUP:-500}"
CALLGRIND_RUNS="${CALLGRIND_RUNS:-2}"
WRK_DURATION="${WRK_DURATION:-10s}"
WRK_THREADS="${WRK_THREADS:-1}"
WRK_CONNS="${WRK_CONNS:-64}"
WRK_ROUNDS="${WRK_ROUNDS:-1}"
WRK_WORKER_THREADS="${WRK_WORKER_THREADS:-2}"
SECRET_KEY="${SECRET_KEY:-hot-path-bench-secret-key-0123456789abcdef0123456789}"
MOCK_USER="${MOCK_USER:-459873214563123201}"
SKIP_CALLGRIND="${SKIP_CALLGRIND:-0}"
SKIP_WRK="${SKIP_WRK:-0}"
READY_TIMEOUT="${READY_TIMEOUT:-120}"
WAIT_QUIET="${WAIT_QUIET:-120}"
# Measurements: name -> path and whether the session cookie is sent. /health goes without the
# cookie (as in bench/run.sh; the project's baseline), /me with it; health_cookie (/health WITH
# the cookie) separates what carrying the cookie costs on every route (DiscordLayer parses it for
# every request) from the session work of /me. MEASURE lists the callgrind measurements.
MEASURE="${MEASURE:-health health_cookie me}"
route_path() { case "$1" in health|health_cookie) echo health ;; *) echo "$1" ;; esac; }
route_cookie() { case "$1" in health) echo "" ;; *) echo "$2" ;; esac; } # name cookie

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'hot_path_callgrind.sh: %s\n' "$*" >&2; exit 1; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

is_uint "$REQUESTS" && [ "$REQUESTS" -gt 0 ] || die "REQUESTS must be a positive integer"
is_uint "$WARMUP" || die "WARMUP must be an integer"
is_uint "$CALLGRIND_RUNS" || die "CALLGRIND_RUNS must be an integer"
is_uint "$WRK_ROUNDS" && [ "$WRK_ROUNDS" -gt 0 ] || die "WRK_ROUNDS must be a positive integer"
[ "${#SECRET_KEY}" -ge 32 ] || die "SECRET_KEY must be at least 32 bytes"

# ------------------------------------------------------------------------------------------------
# Cleanup: stop every process this script started, by pid.
# ------------------------------------------------------------------------------------------------
PIDS=()
stop_pid() {
  local p="$1"
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || true; return 0; }; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
# stop_started <pid>: stops one of our processes and forgets it (its pid may be reused later).
stop_started() {
  local p="$1" i
  stop_pid "$p"
  for i in "${!PIDS[@]}"; do [ "${PIDS[$i]}" = "$p" ] && unset 'PIDS[i]'; done
  return 0
}
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do stop_pid "$p"; done
  rm -rf "${TMP:-}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------------------------------------
# Prerequisites
# ------------------------------------------------------------------------------------------------
command -v curl >/dev/null || die "curl not found"
if [ "$SKIP_CALLGRIND" != 1 ]; then
  command -v valgrind >/dev/null || die "valgrind not found (apt-get install -y valgrind)"
  command -v callgrind_control >/dev/null || die "callgrind_control not found (valgrind package)"
fi
if [ "$SKIP_WRK" != 1 ] && ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing wrk (Debian package)"
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }
  fi
  command -v wrk >/dev/null || die "wrk not found: apt-get install -y wrk"
fi
mkdir -p "$OUT"
TMP="$(mktemp -d)"

# ------------------------------------------------------------------------------------------------
# Build
# ------------------------------------------------------------------------------------------------
if [ -z "${DEMO_BIN:-}" ]; then
  command -v cargo >/dev/null || die "cargo not found"
  log "building the demo (cargo build --release --example demo --all-features)"
  (cd "$ROOT" && cargo build --release --example demo --all-features) >"$OUT/build.log" 2>&1 \
    || { tail -30 "$OUT/build.log" >&2; die "cargo build failed (full log: $OUT/build.log)"; }
  TARGET_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
  DEMO_BIN="${TARGET_DIR:-$ROOT/target}/release/examples/demo"
fi
[ -x "$DEMO_BIN" ] || die "demo binary not found or not executable: $DEMO_BIN"
DEMO_BIN="$(cd "$(dirname "$DEMO_BIN")" && pwd)/$(basename "$DEMO_BIN")"
log "demo binary: $DEMO_BIN"

# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    port_free "$p" && { echo "$p"; return 0; }
  done
  die "no free port found"
}

wait_http() { # url pid what
  local url="$1" pid="$2" what="$3" t0=$SECONDS
  until curl -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || die "$what exited before answering (see its log in $OUT)"
    (( SECONDS - t0 > READY_TIMEOUT )) && die "$what did not answer $url within ${READY_TIMEOUT}s"
    sleep 0.3
  done
}

# start_demo <port> <log> <worker threads> [wrapper...]: starts the demo, sets DEMO_PID.
start_demo() {
  local port="$1" logf="$2" threads="$3"; shift 3
  env -u DISCORD_CLIENT_ID -u DISCORD_CLIENT_SECRET -u DISCORD_REDIRECT_URI -u DISCORD_BOT_TOKEN \
      -u DISCORD_BASE_URL -u DISCORD_CDN_URL -u DISCORD_USERS_CACHE_MAX_LIMIT \
      TOKIO_WORKER_THREADS="$threads" RUST_LOG=warn BIND="127.0.0.1:$port" SECRET_KEY="$SECRET_KEY" \
      "$@" "$DEMO_BIN" >"$logf" 2>&1 &
  DEMO_PID=$!
  PIDS+=("$DEMO_PID")
  wait_http "http://127.0.0.1:$port/health" "$DEMO_PID" "the demo ($logf)"
}

# login <base url>: the offline flow with a cookie jar; prints the `Cookie` header value.
login() {
  local app="$1" jar="$TMP/jar.$RANDOM" loc cb code cookie
  loc=$(curl -sS -o /dev/null -c "$jar" -b "$jar" -w '%{http_code} %{redirect_url}' "$app/login")
  [ "${loc%% *}" = 302 ] || die "GET /login answered ${loc%% *} (want 302)"
  loc="${loc#* }"
  case "$loc" in http://127.0.0.1:*) ;; *) die "the authorize URL is not the local fake Discord: $loc" ;; esac
  # The fake's origin, for its /_mock/stats (upstream calls made by the demo).
  printf '%s\n' "$loc" | sed -n 's|^\(http://127\.0\.0\.1:[0-9]*\)/.*|\1|p' >"$TMP/fake_base"
  cb=$(curl -sS -o /dev/null -c "$jar" -b "$jar" -w '%{http_code} %{redirect_url}' "$loc&mock_user=$MOCK_USER")
  [ "${cb%% *}" = 302 ] || die "the fake's authorize answered ${cb%% *} (want 302; MOCK_USER=$MOCK_USER)"
  cb="${cb#* }"
  case "$cb" in "$app/callback?"*code=*state=*|"$app/callback?"*state=*code=*) ;; *) die "unexpected authorize redirect: $cb" ;; esac
  code=$(curl -sS -o /dev/null -c "$jar" -b "$jar" -w '%{http_code}' "$cb")
  [ "$code" = 302 ] || die "GET /callback answered $code (want 302)"
  cookie=$(awk -F'\t' '$6 ~ /discord_session$/ && $7 != "" { print $6 "=" $7 }' "$jar" | tail -1)
  [ -n "$cookie" ] || die "no session cookie after the callback"
  # The route must answer 200 JSON with the cookie and set no cookie (no idle touch on the hot path).
  local hdr="$TMP/me.headers"
  code=$(curl -sS -D "$hdr" -o "$TMP/me.body" -w '%{http_code}' -H "Cookie: $cookie" "$app/me")
  [ "$code" = 200 ] || die "GET /me with the session cookie answered $code"
  grep -qi '^set-cookie:' "$hdr" && log "warning: GET /me sets a cookie: $(grep -i '^set-cookie:' "$hdr" | head -1)"
  printf '%s\n' "$cookie"
}

# requests <base url> <route> <n> <cookie>: n keep-alive GETs on one connection (one curl
# process; the cookie header only when <cookie> is not empty); fails unless every answer is 200
# and curl opened exactly one connection.
requests() {
  local app="$1" route="$2" n="$3" cookie="$4" cfg res="$TMP/curl.out"
  cfg="$TMP/curl-${app##*:}-$route-$n.cfg"
  [ "$n" -gt 0 ] || return 0
  if [ ! -s "$cfg" ]; then
    for ((i = 0; i < n; i++)); do printf 'url = "%s/%s"\noutput = "/dev/null"\n' "$app" "$route"; done >"$cfg"
  fi
  local hdr=()
  [ -n "$cookie" ] && hdr=(-H "Cookie: $cookie")
  curl -sS --keepalive -K "$cfg" "${hdr[@]}" -w '%{http_code} %{num_connects}\n' >"$res" \
    || die "curl failed on /$route"
  awk -v n="$n" -v r="/$route" '
    { total++; if ($1 != 200) bad++; conns += $2 }
    END {
      if (total != n) { printf "%s: %d answers, want %d\n", r, total, n > "/dev/stderr"; exit 1 }
      if (bad) { printf "%s: %d answers were not 200\n", r, bad > "/dev/stderr"; exit 1 }
      if (conns != 1) { printf "%s: curl opened %d connections, want 1 (no keep-alive?)\n", r, conns > "/dev/stderr"; exit 1 }
    }' "$res" || die "bad answers on /$route"
}

# upstream_calls: requests the demo has sent to its fake Discord so far (its /_mock/stats; the
# control routes are not counted). A hot /me must send none: a change means a cache miss or a
# token refresh happened during the measurement.
upstream_calls() {
  curl -fsS --max-time 30 "$(cat "$TMP/fake_base")/_mock/stats" 2>/dev/null \
    | sed -n 's/.*"total_requests":\([0-9]*\).*/\1/p' | head -1
}

# find_dump <prefix> <hint>: the dump file written by `callgrind_control --dump=<hint>`.
find_dump() {
  local f
  for f in "$1".*; do
    [ -f "$f" ] && grep -q "^desc: Trigger: .*dump $2\$" "$f" 2>/dev/null && { echo "$f"; return 0; }
  done
  return 0
}

# dump_ir <file>: total instructions (Ir) of a callgrind dump.
dump_ir() {
  awk '/^(summary|totals):/ { print $2; exit }' "$1"
}

# cg <pid> <args>: callgrind_control, bounded in time.
cg() {
  local pid="$1"; shift
  timeout 120 callgrind_control "$@" "$pid" >>"$OUT/callgrind_control.log" 2>&1 \
    || die "callgrind_control $* $pid failed (see $OUT/callgrind_control.log)"
}

div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a / b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
SUMMARY=()

# ------------------------------------------------------------------------------------------------
# Part 1: callgrind
# ------------------------------------------------------------------------------------------------
if [ "$SKIP_CALLGRIND" != 1 ]; then
  for run in $(seq 1 "$CALLGRIND_RUNS"); do
    PORT=$(free_port)
    APP="http://127.0.0.1:$PORT"
    base="$OUT/callgrind.run$run"
    rm -f "$base" "$base".*
    log "callgrind run $run: starting the demo under valgrind on $APP"
    start_demo "$PORT" "$OUT/demo-callgrind-run$run.log" 1 \
      valgrind --tool=callgrind --instr-atstart=no --collect-atstart=yes \
      --callgrind-out-file="$base.%p"
    CG_PID=$DEMO_PID
    COOKIE=$(login "$APP")
    log "logged in (cookie ${COOKIE:0:40}...); instrumentation on, warm-up: $WARMUP requests per route"
    UP0=$(upstream_calls)
    cg "$CG_PID" --instr=on
    for r in $MEASURE; do requests "$APP" "$(route_path "$r")" "$WARMUP" "$(route_cookie "$r" "$COOKIE")"; done
    declare -A IR=()
    for r in $MEASURE; do
      cg "$CG_PID" --zero
      requests "$APP" "$(route_path "$r")" "$REQUESTS" "$(route_cookie "$r" "$COOKIE")"
      cg "$CG_PID" --dump="$r"
      f=""
      for _ in $(seq 1 100); do
        f=$(find_dump "$base.$CG_PID" "$r")
        [ -n "$f" ] && break
        sleep 0.2
      done
      [ -n "$f" ] || die "no callgrind dump for $r"
      cp "$f" "$base.$r"
      IR[$r]=$(dump_ir "$f")
      is_uint "${IR[$r]}" || die "no total Ir in $f"
      printf '   %-14s %12s Ir in %s requests = %7s Ir/request\n' "$r" "${IR[$r]}" "$REQUESTS" "$(div "${IR[$r]}" "$REQUESTS")" >&2
    done
    UP1=$(upstream_calls)
    [ -n "$UP0" ] && [ "$UP0" = "$UP1" ] \
      || log "warning: the demo called the fake Discord during the callgrind run ($UP0 -> $UP1 requests): not a pure hot path"
    line="callgrind run $run:"
    for r in $MEASURE; do line="$line $r $(div "${IR[$r]}" "$REQUESTS") Ir/req,"; done
    [ -n "${IR[me]:-}" ] && [ -n "${IR[health]:-}" ] && line="$line me/health = $(ratio "${IR[me]}" "${IR[health]}")"
    [ -n "${IR[me]:-}" ] && [ -n "${IR[health_cookie]:-}" ] && line="$line, me/health_cookie = $(ratio "${IR[me]}" "${IR[health_cookie]}")"
    SUMMARY+=("$line  (dumps: $base.<name>)")
    if command -v callgrind_annotate >/dev/null; then
      for r in $MEASURE; do
        callgrind_annotate --inclusive=yes "$base.$r" >"$base.$r.inclusive.txt" 2>/dev/null || true
        callgrind_annotate "$base.$r" >"$base.$r.self.txt" 2>/dev/null || true
      done
    fi
    stop_started "$CG_PID"
    unset IR
  done
fi

# ------------------------------------------------------------------------------------------------
# Part 2: wrk (not under valgrind)
# ------------------------------------------------------------------------------------------------
if [ "$SKIP_WRK" != 1 ]; then
  PORT=$(free_port)
  APP="http://127.0.0.1:$PORT"
  log "wrk: starting the demo (TOKIO_WORKER_THREADS=$WRK_WORKER_THREADS) on $APP"
  start_demo "$PORT" "$OUT/demo-wrk.log" "$WRK_WORKER_THREADS"
  WRK_PID=$DEMO_PID
  COOKIE=$(login "$APP")
  requests "$APP" health "$WARMUP" ""
  requests "$APP" me "$WARMUP" "$COOKIE"
  UP0=$(upstream_calls)
  TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
  cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; } # all cores, jiffies
  proc_cpu() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; } # utime+stime, all threads
  # wait_quiet: until the whole machine is below 0.3 busy cores over one second (our demo is idle
  # then), at most WAIT_QUIET seconds.
  wait_quiet() {
    local t0=$SECONDS b0 b1 busy
    while :; do
      b0=$(cpu_busy); sleep 1; b1=$(cpu_busy)
      busy=$(awk -v d="$((b1 - b0))" -v k="$TCK" 'BEGIN { printf "%.2f", d / k }')
      awk -v b="$busy" 'BEGIN { exit !(b < 0.3) }' && return 0
      if (( SECONDS - t0 >= WAIT_QUIET )); then
        log "the machine is still busy ($busy cores) after ${WAIT_QUIET}s; measuring anyway"
        return 0
      fi
    done
  }
  # wrk_run <route> <cookie> <round>: sets RPS and BUSY ("demo D, wrk W, other O" cores busy
  # during the run: other processes on the machine show up as "other").
  wrk_run() {
    local out="$OUT/wrk-$1-round$3.txt" json errs t0 t1 c0 c1 d0 d1 TIMEFORMAT='%U %S'
    wait_quiet
    t0=$(date +%s.%N); c0=$(cpu_busy); d0=$(proc_cpu "$WRK_PID")
    { time BENCH_COOKIE="$2" wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DURATION" --latency -s "$LUA" "$APP/$1" >"$out" 2>&1; } 2>"$out.time" \
      || die "wrk failed on /$1 (see $out)"
    t1=$(date +%s.%N); c1=$(cpu_busy); d1=$(proc_cpu "$WRK_PID")
    json=$(sed -n 's/^WRKJSON //p' "$out")
    [ -n "$json" ] || die "no WRKJSON line in $out"
    errs=$(printf '%s' "$json" | sed -n 's/.*"errors":\([0-9]*\).*/\1/p')
    [ "${errs:-1}" = 0 ] || log "warning: wrk /$1 had $errs errors or non-2xx answers (see $out)"
    RPS=$(printf '%s' "$json" | sed -n 's/.*"rps":\([0-9.]*\).*/\1/p')
    BUSY=$(awk -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v c="$((c1 - c0))" -v d="$((d1 - d0))" -v k="$TCK" \
      -v w="$(awk '{ print $1 + $2 }' "$out.time")" \
      'BEGIN { all = c / k / t; demo = d / k / t; wrk = w / t; o = all - demo - wrk; if (o < 0) o = 0;
               printf "demo %.2f, wrk %.2f, other %.2f", demo, wrk, o }')
    local other="${BUSY##*other }"
    NOISY=0
    if awk -v o="$other" 'BEGIN { exit !(o >= 0.3) }'; then
      NOISY=1
      log "warning: other processes used $other cores during wrk /$1: req/s are noisy"
    fi
    return 0
  }
  RATIOS=(); QUIET=()
  for round in $(seq 1 "$WRK_ROUNDS"); do
    wrk_run health "" "$round"; rh=$RPS; bh=$BUSY; nh=$NOISY
    wrk_run me "$COOKIE" "$round"; rm_=$RPS; bm=$BUSY; nm=$NOISY
    rr=$(ratio "$rm_" "$rh")
    RATIOS+=("$rr")
    flag=""
    if [ "$nh$nm" = 00 ]; then QUIET+=("$rr"); else flag="  [NOISY: other processes >= 0.3 cores]"; fi
    log "wrk round $round: /health $rh req/s ($bh cores), /me $rm_ req/s ($bm cores), /me / /health = $rr$flag"
    SUMMARY+=("wrk round $round (-t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION, demo TOKIO_WORKER_THREADS=$WRK_WORKER_THREADS): /health $rh req/s, /me $rm_ req/s, /me / /health = $rr;  cores busy /health: $bh; /me: $bm$flag")
  done
  UP1=$(upstream_calls)
  [ -n "$UP0" ] && [ "$UP0" = "$UP1" ] \
    || log "warning: the demo called the fake Discord during the wrk runs ($UP0 -> $UP1 requests): not a pure hot path"
  median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
  if [ "${#QUIET[@]}" -gt 0 ]; then
    [ "$WRK_ROUNDS" -gt 1 ] && SUMMARY+=("wrk median ratio over the ${#QUIET[@]} quiet round(s) of $WRK_ROUNDS: $(median "${QUIET[@]}")")
  else
    SUMMARY+=("wrk: every round was noisy (other processes >= 0.3 cores); median ratio over $WRK_ROUNDS round(s): $(median "${RATIOS[@]}") (not reliable)")
  fi
  stop_started "$WRK_PID"
fi

# ------------------------------------------------------------------------------------------------
# Summary
# ------------------------------------------------------------------------------------------------
{
  echo
  echo "hot path: GET /me (logged in, user cached) vs GET /health  --  $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit:   $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && git diff --quiet HEAD -- src examples 2>/dev/null || echo ' (+ local changes)')  binary: $DEMO_BIN"
  echo "machine:  $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr); loadavg before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "config:   REQUESTS=$REQUESTS WARMUP=$WARMUP, RUST_LOG=warn, offline fake Discord, $(valgrind --version 2>/dev/null || true), $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}')"
  printf '%s\n' "${SUMMARY[@]}"
} | tee "$OUT/summary.txt"
