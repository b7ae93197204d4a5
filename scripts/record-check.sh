#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make check: `uvma record --verify` on real programs, which must record with no
# divergence between the model's maps and the kernel's after any call:
# tests/programs/mmwalk.c, gcc compiling it, python3, and redis-server driven briefly
# on 127.0.0.1.
set -euo pipefail
uvma=${1:?usage: record-check.sh UVMA BUILDDIR}
out=${2:?usage: record-check.sh UVMA BUILDDIR}
mkdir -p "$out"

if ! "$uvma" record -o "$out/probe.utrace" -- true 2>"$out/probe.err"; then
	echo "record-check: skipped: $(cat "$out/probe.err")"
	exit 0
fi

run() {
	local name=$1; shift
	# a checksum of the kernel's maps every 16 calls: the replay checks the model against them
	if ! "$uvma" record --verify --maps-every 16 -o "$out/$name.utrace" -- "$@" >"$out/$name.out" \
		2>"$out/$name.err"; then
		echo "record-check: $name: divergences or failure:"; tail -n 20 "$out/$name.err"; exit 1
	fi
	grep -q '; 0 divergences' "$out/$name.err" || { cat "$out/$name.err"; exit 1; }
	if ! "$uvma" replay --divergences --policy all --relocate-all "$out/$name.utrace" \
		>"$out/$name.report" 2>"$out/$name.replay.err"; then
		echo "record-check: $name: the replay failed or left the kernel's maps:"
		head -n 20 "$out/$name.replay.err"; exit 1
	fi
	grep -q '^  divergences 0 ' "$out/$name.report" || { cat "$out/$name.report"; exit 1; }
	grep -q "^  the kernel's maps, recorded at [0-9]* points: the model's differ at 0$" \
		"$out/$name.report" || { cat "$out/$name.report"; exit 1; }
	echo "record-check: $name: $(grep -c . "$out/$name.utrace") lines, no divergence;" \
		"$(grep -c '^\(\[[^]]*\] \)\?maps ' "$out/$name.utrace") maps checksums agree on replay;" \
		"replayed under every policy"
}

gcc -O1 -pthread -o "$out/mmwalk" tests/programs/mmwalk.c
run mmwalk "$out/mmwalk"
# the compiler: fork and exec of cc1 and as, and a stack that grows by faults
run gcc gcc -O2 -c -o "$out/mmwalk.o" tests/programs/mmwalk.c
run python3 python3 -c 'a = [i for i in range(200000)]; b = bytearray(); [b.extend(bytes(4096)) for i in range(1000)]; print(len(a), len(b))'

if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	port=$((20000 + RANDOM % 20000))
	"$uvma" record --verify -o "$out/redis.utrace" -- redis-server --port "$port" --bind 127.0.0.1 \
		--save '' --appendonly no --daemonize no >"$out/redis.out" 2>"$out/redis.err" &
	rec=$!
	for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
	redis-cli -p "$port" debug populate 20000 >/dev/null
	if command -v redis-benchmark >/dev/null; then
		redis-benchmark -p "$port" -q -n 2000 -t set,get,lpush -d 2000 >/dev/null
	fi
	redis-cli -p "$port" flushall >/dev/null
	redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
	if ! wait "$rec"; then echo "record-check: redis-server:"; tail -n 20 "$out/redis.err"; exit 1; fi
	grep -q '; 0 divergences' "$out/redis.err" || { cat "$out/redis.err"; exit 1; }
	echo "record-check: redis-server: $(grep -c . "$out/redis.utrace") lines, no divergence"
else
	echo "record-check: redis-server not installed: skipped (scripts/install-deps.sh installs it)"
fi
