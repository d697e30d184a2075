#!/usr/bin/env bash
# Coverage-guided fuzzing of every target in src/fuzzing.rs with AFL++ (cargo-afl).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (make fuzz FUZZ_SECONDS=600)
#
# Each target runs for SECONDS (default 60) from its seed corpus fuzz/corpus/<target>/;
# findings go to target/fuzz/<target>/. Prints one line per target (executions, run time,
# paths found, crashes, hangs) and exits 1 if any target saved a crash or a hang.
# Needs cargo-afl (`cargo install cargo-afl`, then `cargo afl config --build`); the
# machine's stable toolchain is enough.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
if ! cargo afl --version >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-afl is not installed (cargo install cargo-afl && cargo afl config --build)" >&2
    exit 2
fi
cargo afl build --release --manifest-path fuzz/Cargo.toml --target-dir target/fuzz-build >&2
bin=target/fuzz-build/release/krs-fuzz
if [ $# -eq 0 ]; then
    set -- $(ls fuzz/corpus)
fi

export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_NO_AFFINITY=1 AFL_SKIP_CRASHES=1
status=0
printf '%-10s %12s %8s %8s %8s %6s\n' target execs seconds corpus crashes hangs
for t in "$@"; do
    out=target/fuzz/$t
    mkdir -p "$out"
    # -i - resumes a previous run of this target; a fresh one starts from the seeds.
    input=fuzz/corpus/$t
    [ -f "$out/default/fuzzer_stats" ] && input=-
    KRS_FUZZ_TARGET=$t cargo afl fuzz -i "$input" -o "$out" -V "$secs" -m none -t 1000 \
        -- "$bin" >"$out/afl.log" 2>&1 || { echo "fuzz.sh: afl-fuzz failed for $t (see $out/afl.log)" >&2; status=1; continue; }
    stats=$out/default/fuzzer_stats
    get() { awk -F: -v k="$1" '$1 ~ "^"k" *$" {gsub(/ /,"",$2); print $2}' "$stats"; }
    crashes=$(get saved_crashes); hangs=$(get saved_hangs)
    # Accumulated time over every run of this target.
    total=$(( $(cat "$out/total_seconds" 2>/dev/null || echo 0) + $(get run_time) ))
    echo "$total" >"$out/total_seconds"
    printf '%-10s %12s %8s %8s %8s %6s\n' "$t" "$(get execs_done)" "$total" \
        "$(get corpus_count)" "$crashes" "$hangs"
    if [ "${crashes:-0}" != 0 ] || [ "${hangs:-0}" != 0 ]; then status=1; fi
done
exit $status
