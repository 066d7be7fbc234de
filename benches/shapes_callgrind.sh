#!/usr/bin/env bash
# Instructions per call of every case in benches/shapes.rs, hand-written and generated, counted by
# callgrind (load-independent, unlike wall-clock time on a shared machine):
#
#   bash benches/shapes_callgrind.sh            # every case
#   bash benches/shapes_callgrind.sh net_sample # the cases whose name contains this
#
# Each run executes one case `callgrind_reps` times inside `shapes::measure`, and only that loop is
# counted (--toggle-collect), so set-up and verification are excluded.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cargo bench --bench shapes --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*shapes-[^"]*\)".*/\1/p' | tail -1)
filter=${1:-}
out=$(mktemp -d)
printf '| case | hand instr/call | generated instr/call | generated / hand |\n|---|---|---|---|\n'
SHAPES_LIST=1 "$bin" | while read -r name reps; do
    [[ -z $filter || $name == *"$filter"* ]] || continue
    declare -A ir=()
    for side in hand generated; do
        SHAPES_CALLGRIND="$name/$side" valgrind --tool=callgrind --toggle-collect='*shapes::measure*' \
            --callgrind-out-file="$out/cg" "$bin" >/dev/null 2>&1
        total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out/cg")
        ir[$side]=$((total / reps))
    done
    awk -v n="$name" -v h="${ir[hand]}" -v g="${ir[generated]}" \
        'BEGIN { printf "| %s | %d | %d | %.3f |\n", n, h, g, g / h }'
done
rm -r "$out"
