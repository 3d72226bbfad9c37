#!/bin/sh
# Runs the runsc-log line parser fuzz target for a bounded time (default 60 s), as CI
# does. Needs nightly and cargo-fuzz (`cargo install cargo-fuzz`). The seed corpus is
# the runsc log fixtures; new inputs libFuzzer finds stay in fuzz/corpus/parse_line.
set -eu
cd "$(dirname "$0")"
seconds="${1:-60}"
mkdir -p corpus/parse_line
for f in ../tests/fixtures/runsc/*.txt ../tests/fixtures/runsc/*.json ../tests/fixtures/runsc/sandbox-current/*.txt; do
    cp "$f" "corpus/parse_line/seed-$(basename "$f")"
done
# The eBPF object is not needed to parse logs.
AYA_BUILD_SKIP=1 exec cargo +nightly fuzz run parse_line --sanitizer none \
    corpus/parse_line -- -max_total_time="$seconds" -max_len=65536
