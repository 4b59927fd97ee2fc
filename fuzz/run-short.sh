#!/usr/bin/env bash
# Run fuzz targets for a bounded time each: fuzz/run-short.sh [SECONDS] [TARGET...]
# (default 60 s, every target). Needs cargo-fuzz; on a stable toolchain RUSTC_BOOTSTRAP=1 stands in
# for nightly. New inputs go to target/work-corpus/<target>/, not to the committed seeds in
# corpus/<target>/; a crash stops the script and leaves its input in artifacts/<target>/.
# After a run, fold what is new into the committed corpus, minimized:
#   cargo fuzz cmin -s none TARGET corpus/TARGET    (or libFuzzer's -merge=1)
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
export RUSTC_BOOTSTRAP=1
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi
mkdir -p target/logs
for t in "${targets[@]}"; do
    mkdir -p "target/work-corpus/$t"
    echo "== $t: ${secs}s"
    set +e
    cargo fuzz run -s none "$t" "target/work-corpus/$t" "corpus/$t" -- \
        -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 >"target/logs/$t.log" 2>&1
    rc=$?
    set -e
    grep -E "^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY)" "target/logs/$t.log" || true
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "target/logs/$t.log"
        echo "$t: crash (exit $rc), see artifacts/$t/"
        exit 1
    fi
done
