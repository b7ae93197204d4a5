#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: uvma replay throughput (.utrace and strace text, events per second on one
# core) and uvma record's overhead against a bare seccomp ptrace loop (bench/bare_trace.c).
# Medians of 5 runs (replay) and 11 interleaved rounds (record); the same run compares.
set -euo pipefail
uvma=${1:?usage: replay.sh UVMA BARE-TRACE OUTDIR}
bare=${2:?}
out=${3:?}
mkdir -p "$out"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# A synthetic program: 1,000,000 calls over 4,096 slots of 16 pages, with writes.
python3 - "$out" <<'PY'
import random, sys
out = sys.argv[1]
random.seed(1)
base = 0x7f0000000000
ut = ["uvma-trace 1", "mmap %#x 65536p rw private,anonymous,fixed_noreplace = %#x" % (base, base)]
st = ['100 execve("/bin/x", ["x"], 0x7ffe /* 1 vars */) = 0',
      "100 mmap(NULL, %d, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = %#x" % (65536 * 4096, base)]
for i in range(1000000):
    s = base + random.randrange(4096) * 16 * 4096
    r = random.random()
    if r < 0.4:
        p = random.choice(["r", "rw"]); pp = "PROT_READ" if p == "r" else "PROT_READ|PROT_WRITE"
        ut.append("mprotect %#x 4p %s = 0" % (s + 4096 * random.randrange(12), p))
        st.append("100 mprotect(%#x, 16384, %s) = 0" % (s + 4096 * random.randrange(12), pp))
    elif r < 0.7:
        ut.append("touch %#x 1p w" % (s + 4096 * random.randrange(16)))
        st.append("100 madvise(%#x, 4096, MADV_WILLNEED) = 0" % (s + 4096 * random.randrange(16)))
    else:
        ut.append("madvise %#x 2p dontneed = 0" % (s + 4096 * random.randrange(14)))
        st.append("100 madvise(%#x, 8192, MADV_DONTNEED) = 0" % (s + 4096 * random.randrange(14)))
open(out + "/bench.utrace", "w").write("\n".join(ut) + "\n")
open(out + "/bench.strace", "w").write("\n".join(st) + "\n")
PY

for kind in utrace strace; do
	times=()
	for i in 1 2 3 4 5; do
		s=$(date +%s.%N)
		"$uvma" replay --policy linux "$out/bench.$kind" >"$out/replay-$kind.txt"
		e=$(date +%s.%N)
		times+=("$(awk -v a="$e" -v b="$s" 'BEGIN { print a - b }')")
	done
	t=$(printf '%s\n' "${times[@]}" | median)
	events=$(sed -n 's/.*, \([0-9]*\) events.*/\1/p' "$out/replay-$kind.txt" | head -1)
	printf 'replay %-6s  %8d events  median %.3f s  %.2f M events/s (target for .utrace: 2)\n' \
		"$kind" "$events" "$t" "$(awk -v a="$events" -v b="$t" 'BEGIN { print a / b / 1e6 }')"
done

# record against the bare loop, on the same workload: Debian's interpreter itself (a
# python3 earlier in PATH may be a wrapper script, pyenv's, whose execs would be what
# is measured), growing a 2,000,000-element list and an 80 MiB bytearray (realloc
# moves both with mremap), about 0.15 s of work
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
workload=("$py" -c 'a = [i for i in range(2000000)]; b = bytearray(); [b.extend(bytes(4096)) for i in range(20000)]; print(len(a) + len(b))')
# interleaved, 11 rounds: the machine's drift touches the three alike
declare -a tp tb tr
for i in $(seq 11); do
	for how in plain bare record; do
		s=$(date +%s.%N)
		case $how in
		plain) "${workload[@]}" >/dev/null ;;
		bare) "$bare" "${workload[@]}" >/dev/null ;;
		record) "$uvma" record -o "$out/bench-record.utrace" -- "${workload[@]}" >/dev/null 2>&1 ;;
		esac
		e=$(date +%s.%N)
		d=$(awk -v a="$e" -v b="$s" 'BEGIN { print a - b }')
		case $how in plain) tp+=("$d") ;; bare) tb+=("$d") ;; record) tr+=("$d") ;; esac
	done
done
t_plain=$(printf '%s\n' "${tp[@]}" | median)
t_bare=$(printf '%s\n' "${tb[@]}" | median)
t_record=$(printf '%s\n' "${tr[@]}" | median)
printf 'record: %s workload  plain %.3f s  bare seccomp+ptrace %.3f s  uvma record %.3f s  record/bare x%.2f (target <= 1.25)\n' \
	"$py" "$t_plain" "$t_bare" "$t_record" "$(awk -v a="$t_record" -v b="$t_bare" 'BEGIN { print a / b }')"
