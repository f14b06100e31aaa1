#!/usr/bin/env bash
# Run every test: host unit tests of the portable kernel, the ABI and the translation tables,
# then QEMU integration tests that boot the real image. Ends with `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")"
./qemu-run.sh --build-only || { echo "0 passed, 1 failed"; exit 1; }
log=$(mktemp)
cargo test --workspace --exclude qemu-virt --exclude rpi3b --exclude user 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
read -r passed failed < <(awk '/^test result:/ {
    for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i }
} END { print p + 0, f + 0 }' "$log")
rm -f "$log"
if [ "$status" != 0 ] && [ "${failed:-0}" = 0 ]; then failed=1; fi
echo
echo "${passed:-0} passed, ${failed:-0} failed"
[ "$status" = 0 ]
