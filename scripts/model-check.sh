#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Check the per-VMA reference-count protocol (tests/model/vma_refcnt.pml)
# exhaustively with Spin, then check that the check has teeth: three broken
# variants of the protocol must each be caught.
#   scripts/model-check.sh WORKDIR
set -euo pipefail
model=$(cd "$(dirname "$0")/.." && pwd)/tests/model/vma_refcnt.pml
work=${1:?usage: model-check.sh WORKDIR}
mkdir -p "$work"
cd "$work"

# verify FILE: prints the errors pan found
verify() {
	spin -a "$1" >/dev/null
	cc -O2 -DSAFETY -w -o pan pan.c
	./pan -m100000 > pan.out || true	# pan exits non-zero when it finds an error
	grep -q 'errors:' pan.out || { cat pan.out; exit 1; }
	sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.out
}

n=$(verify "$model")
states=$(sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' pan.out)
if [ "$n" != 0 ]; then
	cat pan.out
	echo "model-check: the protocol is broken (see the trail: spin -t -p $model)"
	exit 1
fi
grep -A2 '^unreached in proctype \(writer\|reader\)' pan.out | grep -q '(0 of' ||
	{ cat pan.out; echo "model-check: part of the protocol was never reached"; exit 1; }
echo "model-check: two readers and a writer, $states states, no assertion violated, no deadlock"

# mutant NAME SED: the same model with one check removed must fail
mutant() {
	sed "$2" "$model" > "mutant-$1.pml"
	cmp -s "$model" "mutant-$1.pml" && { echo "model-check: mutant $1 changed nothing"; exit 1; }
	n=$(verify "mutant-$1.pml")
	[ "$n" != 0 ] || { echo "model-check: mutant $1 ($3) was not caught"; exit 1; }
	echo "model-check: caught a reader that $3"
}
mutant seq 's/:: vm_lock_seq == mm1_seq -> goto drop/:: false -> goto drop/' \
	"skips the vm_lock_seq check after taking its reference"
mutant mm 's/:: vm_mm != 1 -> goto drop/:: false -> goto drop/' \
	"skips the address-space check (a VMA reused by another mm)"
mutant wait 's/:: entered -> (refcnt == want)/:: entered -> skip/' \
	"is not waited for by the writer"
