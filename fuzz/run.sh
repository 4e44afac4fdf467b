#!/usr/bin/env bash
# Runs every fuzz target of discord-oauth for SECONDS each (default 60) and reports, per target,
# the executions, the speed, the corpus and the crashes. Exits non-zero when a target crashed
# (its input is kept in fuzz/artifacts/<target>/) or did not build.
#
#   fuzz/run.sh [SECONDS]                 every target
#   FUZZ_TARGETS="next_sanitizer" fuzz/run.sh 30
#   FUZZ_CRASH_FAILS=0 fuzz/run.sh 20     report a crash loudly but exit 0: only a target that no
#                                         longer builds fails (what CI uses: a fuzzer's finds
#                                         vary from run to run, a broken build does not)
#   FUZZ_SANITIZER=address fuzz/run.sh    with AddressSanitizer (default: none; the library is
#                                         `forbid(unsafe_code)`, and it doubles the speed)
#
# Needs the nightly toolchain and cargo-fuzz 0.13 (`cargo install cargo-fuzz --locked`).
# Corpora live in fuzz/corpus/<target>: the committed seeds (seed-*) plus what a run grows
# (ignored by git). Reproduce a crash: cargo +nightly fuzz run <target> fuzz/artifacts/<target>/crash-...
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:-60}"
sanitizer="${FUZZ_SANITIZER:-none}"
all=(session_cookie callback_query rate_limit_headers next_sanitizer axum_layer webhook_signature)
if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -ra targets <<<"$FUZZ_TARGETS"
else
  targets=("${all[@]}")
fi

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "ERROR: fuzzing needs the nightly toolchain (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "ERROR: cargo-fuzz is not installed (cargo install cargo-fuzz --locked)" >&2
  exit 2
fi

echo "==> building the fuzz targets (nightly, sanitizer: $sanitizer)"
cargo +nightly fuzz build -s "$sanitizer"

mkdir -p target/logs
failed=0
rows=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="target/logs/$t.log"
  before=$(find "artifacts/$t" -type f | wc -l)
  echo "==> $t for ${secs}s"
  status=0
  # -timeout: one input taking longer than 10 s is a hang (a crash); -rss_limit_mb: a leak.
  cargo +nightly fuzz run -s "$sanitizer" "$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" >"$log" 2>&1 || status=$?
  after=$(find "artifacts/$t" -type f | wc -l)
  crashes=$((after - before))
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
  # libFuzzer's last line: "#1234567	DONE   cov: 812 ft: 2417 corp: 301/20Kb ... exec/s: 20576 rss: 61Mb"
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1 || true)
  execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$done_line")
  rate=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$done_line")
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$done_line")
  corp=$(sed -nE 's/.*corp: ([0-9]+)\/.*/\1/p' <<<"$done_line")
  if [ -z "$execs" ]; then
    execs=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+)/\1/p' "$log" | tail -n1)
  fi
  rows+=("$(printf '%-20s %6ss %12s %9s %7s %7s %8s' "$t" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${corp:-?}" "$crashes")")
  if [ "$crashes" -ne 0 ]; then
    failed=1
    echo "!! $t crashed (exit $status); log: fuzz/$log, inputs: fuzz/artifacts/$t/"
    grep -E 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -n 5 || true
  fi
done

echo
printf '%-20s %7s %12s %9s %7s %7s %8s\n' target time execs exec/s cov corpus crashes
printf '%s\n' "${rows[@]}"
if [ "$failed" -ne 0 ] && [ "${FUZZ_CRASH_FAILS:-1}" = 0 ]; then
  echo "!! CRASHES FOUND (see above); not failing because FUZZ_CRASH_FAILS=0"
  exit 0
fi
exit "$failed"
