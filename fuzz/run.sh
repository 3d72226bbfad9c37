#!/bin/sh
# Runs fuzz targets for a bounded time each (default 60 s), as CI does:
#
#     fuzz/run.sh [SECONDS] [TARGET...]
#
# With no TARGET, every target in Cargo.toml runs, one after the other. Needs nightly
# and cargo-fuzz (`cargo install cargo-fuzz`). Each target's corpus starts from the
# repository's fixtures of its input kind (seeds_for below); new inputs libFuzzer finds
# stay in fuzz/corpus/TARGET. The first crash stops the run with a non-zero status and
# leaves its input in fuzz/artifacts/TARGET/.
set -eu
cd "$(dirname "$0")"
seconds="${1:-60}"
[ "$#" -gt 0 ] && shift
targets="$*"
if [ -z "$targets" ]; then
    targets="$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^sandprof-fuzz$')"
fi

# The fixtures that seed a target's corpus.
seeds_for() {
    case "$1" in
        parse_line | runsc_log_forms) echo ../tests/fixtures/runsc/*.txt \
            ../tests/fixtures/runsc/*.json ../tests/fixtures/runsc/sandbox-current/*.txt \
            ../tests/fixtures/runsc/pasted/*.txt ../tests/fixtures/runsc/real/*/boot.txt ;;
        profile_load) echo ../tests/fixtures/profiles/*.json ;;
        manifest_read) echo ../tests/fixtures/k8s/audit/*.yaml ;;
        containerd_merge) echo ../tests/fixtures/k8s/node/*.toml ;;
        *) echo "" ;;
    esac
}

# The eBPF object is not needed to parse files.
export AYA_BUILD_SKIP=1
for target in $targets; do
    mkdir -p "corpus/$target"
    for f in $(seeds_for "$target"); do
        cp "$f" "corpus/$target/seed-$(echo "${f#../tests/fixtures/}" | tr '/' '_')"
    done
    echo "fuzz: $target for ${seconds}s"
    cargo +nightly fuzz run "$target" --sanitizer none "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=65536
done
