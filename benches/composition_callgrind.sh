#!/usr/bin/env bash
# Instructions per sample of every form in benches/composition.rs, counted by callgrind
# (load-independent, unlike wall-clock time on a shared machine), with ratios to the hand-written
# gradient and to the flat `#[backprop]` function:
#
#   bash benches/composition_callgrind.sh          # every form, `_grad_acc` and `_grad`
#   bash benches/composition_callgrind.sh nested   # the cases whose name contains this
#
# Each run executes one case a fixed number of times inside `composition::measure`, and only that
# loop is counted (--toggle-collect), so set-up and verification are excluded.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cargo bench --bench composition --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*composition-[^"]*\)".*/\1/p' | tail -1)
filter=${1:-}
out=$(mktemp -d)
declare -A ir=()
cases=$(COMPOSITION_LIST=1 "$bin")
while read -r name samples; do
    # hand and flat are always counted: every row is a ratio to them.
    [[ -z $filter || $name == *"$filter"* || $name == hand/* || $name == flat/* ]] || continue
    COMPOSITION_CALLGRIND="$name" valgrind --tool=callgrind --toggle-collect='*composition::measure*' \
        --callgrind-out-file="$out/cg" "$bin" >/dev/null 2>&1
    total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out/cg")
    ir[$name]=$((total / samples))
done <<<"$cases"
printf '| form | entry | instr/sample | / hand | / flat |\n|---|---|---|---|---|\n'
while read -r name _; do
    [[ -n ${ir[$name]:-} ]] || continue
    [[ -z $filter || $name == *"$filter"* ]] || continue
    form=${name%/*} kind=${name#*/}
    entry=$([[ $kind == acc ]] && echo _grad_acc || echo _grad)
    awk -v f="$form" -v e="$entry" -v n="${ir[$name]}" -v h="${ir[hand/$kind]}" -v fl="${ir[flat/$kind]}" \
        'BEGIN { printf "| %s | `%s` | %d | %.3f | %.3f |\n", f, e, n, n / h, n / fl }'
done <<<"$cases"
rm -r "$out"
