# SPDX-License-Identifier: MIT
# uvma: the Linux VMA layer in userspace.  Kernel tools style: plain make.
#
#   make            libraries (libuvma, and libuvma-mt for threads), uvma command
#   make check      unit tests + scenarios, ASan and UBSan, checker after every call
#   make bench      benchmarks against the host kernel
#   make coverage   the tests with gcov coverage
#   make install PREFIX=/usr/local

CC       ?= gcc
PREFIX   ?= /usr/local
VERSION  := 0.1.0
O        ?= build

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CSTD     := -std=gnu11
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -Iinclude -Ilib -fPIC

LIB_SRC  := $(wildcard lib/*.c)
TOOL_SRC := $(filter-out tools/agent.c,$(wildcard tools/*.c))
# the kernel agent: never sanitized (its address space is what is measured)
AGENT_SRC := tools/agent.c tools/io.c
TEST_SRC := $(wildcard tests/unit/*.c)

TOOL_LIBS := -lz -llzma -lzstd
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

all: $(O)/libuvma.a $(O)/libuvma-mt.a $(O)/uvma $(O)/uvma-agent

# ---- release build -------------------------------------------------------
$(O)/lib/%.o: lib/%.c lib/*.h include/uvma.h | $(O)/lib
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(O)/tools/%.o: tools/%.c tools/*.h include/uvma.h | $(O)/tools
	$(CC) $(ALL_CFLAGS) -Itools -c -o $@ $<
$(O)/libuvma.a: $(patsubst lib/%.c,$(O)/lib/%.o,$(LIB_SRC))
	$(AR) rcs $@ $^
$(O)/uvma: $(patsubst tools/%.c,$(O)/tools/%.o,$(TOOL_SRC)) $(O)/libuvma.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TOOL_LIBS)
$(O)/uvma-agent: $(AGENT_SRC) tools/*.h | $(O)
	$(CC) $(CSTD) $(WARN) -O2 -g -Iinclude -Itools -o $@ $(AGENT_SRC)
$(O)/dbg/uvma-agent: $(O)/uvma-agent | $(O)/dbg
	cp $< $@.tmp && mv -f $@.tmp $@

# ---- debug + sanitizer build: the invariant checker runs after every call ---
DBG_CFLAGS = $(CSTD) $(WARN) -O1 -g -DUVMA_DEBUG $(SAN) $(COV) -Iinclude -Ilib
$(O)/dbg/lib/%.o: lib/%.c lib/*.h include/uvma.h | $(O)/dbg/lib
	$(CC) $(DBG_CFLAGS) -c -o $@ $<
$(O)/dbg/tools/%.o: tools/%.c tools/*.h include/uvma.h | $(O)/dbg/tools
	$(CC) $(DBG_CFLAGS) -Itools -c -o $@ $<
$(O)/dbg/libuvma.a: $(patsubst lib/%.c,$(O)/dbg/lib/%.o,$(LIB_SRC))
	$(AR) rcs $@ $^
$(O)/dbg/uvma: $(patsubst tools/%.c,$(O)/dbg/tools/%.o,$(TOOL_SRC)) $(O)/dbg/libuvma.a
	$(CC) $(DBG_CFLAGS) -o $@ $^ $(TOOL_LIBS)
$(O)/dbg/test_%: tests/unit/test_%.c tests/unit/*.h lib/*.h include/uvma.h $(O)/dbg/libuvma.a | $(O)/dbg
	$(CC) $(DBG_CFLAGS) -Itests/unit -Ilib -o $@ $< $(O)/dbg/libuvma.a -lcmocka
# the trace reader is tested on its own
$(O)/dbg/test_trace: tests/unit/test_trace.c tools/trace.c tools/trace.h tools/mapsum.c tools/mapsum.h \
		$(O)/dbg/libuvma.a | $(O)/dbg
	$(CC) $(DBG_CFLAGS) -Itests/unit -Itools -o $@ $< tools/trace.c tools/mapsum.c \
		$(O)/dbg/libuvma.a -lcmocka

# the strace reader and the replay, with the tools they stand on
REPLAY_SRC := tools/strace.c tools/input.c tools/replay.c tools/model.c tools/trace.c tools/mapsum.c
$(O)/dbg/test_strace: tests/unit/test_strace.c $(REPLAY_SRC) tools/*.h $(O)/dbg/libuvma.a | $(O)/dbg
	$(CC) $(DBG_CFLAGS) -Itests/unit -Itools -o $@ $< $(REPLAY_SRC) $(O)/dbg/libuvma.a -lcmocka $(TOOL_LIBS)

# ---- the multi-threaded library (per-VMA locks, RCU; docs/concurrency.md) ----
MT_LIBS := -lurcu-bp -lpthread
MT_CFLAGS = $(ALL_CFLAGS) -DUVMA_MT -pthread
$(O)/mt/lib/%.o: lib/%.c lib/*.h include/uvma.h | $(O)/mt/lib
	$(CC) $(MT_CFLAGS) -c -o $@ $<
$(O)/libuvma-mt.a: $(patsubst lib/%.c,$(O)/mt/lib/%.o,$(LIB_SRC))
	$(AR) rcs $@ $^
# the benchmark's baseline: faults always take the mmap_lock (no VMA lock path)
$(O)/mt-lo/lib/%.o: lib/%.c lib/*.h include/uvma.h | $(O)/mt-lo/lib
	$(CC) $(MT_CFLAGS) -DUVMA_MT_LOCK_ONLY -c -o $@ $<
$(O)/mt-lo/libuvma.a: $(patsubst lib/%.c,$(O)/mt-lo/lib/%.o,$(LIB_SRC))
	$(AR) rcs $@ $^
# the same under ASan/UBSan with the checker, and under ThreadSanitizer
DBG_MT_CFLAGS = $(DBG_CFLAGS) -DUVMA_MT -pthread
$(O)/dbg-mt/lib/%.o: lib/%.c lib/*.h include/uvma.h | $(O)/dbg-mt/lib
	$(CC) $(DBG_MT_CFLAGS) -c -o $@ $<
$(O)/dbg-mt/libuvma.a: $(patsubst lib/%.c,$(O)/dbg-mt/lib/%.o,$(LIB_SRC))
	$(AR) rcs $@ $^
TSAN_CFLAGS = $(CSTD) $(WARN) -O1 -g -DUVMA_DEBUG -DUVMA_MT -pthread -fsanitize=thread -Iinclude -Ilib
$(O)/tsan/lib/%.o: lib/%.c lib/*.h include/uvma.h | $(O)/tsan/lib
	$(CC) $(TSAN_CFLAGS) -c -o $@ $<
$(O)/tsan/libuvma.a: $(patsubst lib/%.c,$(O)/tsan/lib/%.o,$(LIB_SRC))
	$(AR) rcs $@ $^
$(O)/dbg-mt/tools/%.o: tools/%.c tools/*.h include/uvma.h | $(O)/dbg-mt/tools
	$(CC) $(DBG_MT_CFLAGS) -Itools -c -o $@ $<
$(O)/dbg-mt/uvma: $(patsubst tools/%.c,$(O)/dbg-mt/tools/%.o,$(TOOL_SRC)) $(O)/dbg-mt/libuvma.a
	$(CC) $(DBG_MT_CFLAGS) -o $@ $^ $(TOOL_LIBS) $(MT_LIBS)
# the unit tests that drive the library alone run on the MT build as well
MT_UNIT := alloc limits memory merge policy tree
MT_TESTS := $(addprefix $(O)/dbg-mt/test_,$(MT_UNIT) mt)
$(O)/dbg-mt/test_%: tests/unit/test_%.c tests/unit/*.h lib/*.h include/uvma.h $(O)/dbg-mt/libuvma.a | $(O)/dbg-mt
	$(CC) $(DBG_MT_CFLAGS) -Itests/unit -o $@ $< $(O)/dbg-mt/libuvma.a -lcmocka $(MT_LIBS)
$(O)/dbg-mt/test_mt: tests/mt/test_mt.c tests/unit/*.h lib/*.h include/uvma.h $(O)/dbg-mt/libuvma.a | $(O)/dbg-mt
	$(CC) $(DBG_MT_CFLAGS) -Itests/unit -o $@ $< $(O)/dbg-mt/libuvma.a -lcmocka $(MT_LIBS)
$(O)/tsan/test_mt: tests/mt/test_mt.c tests/unit/*.h lib/*.h include/uvma.h $(O)/tsan/libuvma.a | $(O)/tsan
	$(CC) $(TSAN_CFLAGS) -Itests/unit -o $@ $< $(O)/tsan/libuvma.a -lcmocka $(MT_LIBS)

# libFuzzer targets (Debian's clang): the strace and .utrace readers
FUZZ_CC     ?= clang
FUZZ_CFLAGS := -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -DUVMA_DEBUG -Iinclude -Ilib -Itools
FUZZ_TARGETS := $(O)/fuzz/fuzz_strace $(O)/fuzz/fuzz_utrace
$(O)/fuzz/fuzz_strace: tests/fuzz/fuzz_strace.c $(REPLAY_SRC) $(LIB_SRC) tools/*.h lib/*.h include/uvma.h
	@mkdir -p $(O)/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(REPLAY_SRC) $(LIB_SRC) $(TOOL_LIBS)
$(O)/fuzz/fuzz_utrace: tests/fuzz/fuzz_utrace.c tools/model.c tools/trace.c tools/mapsum.c $(LIB_SRC) \
		tools/*.h lib/*.h include/uvma.h
	@mkdir -p $(O)/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< tools/model.c tools/trace.c tools/mapsum.c $(LIB_SRC)
# a short run in make check; FUZZ_SECONDS per target for make fuzz
FUZZ_SECONDS ?= 600
fuzz: $(FUZZ_TARGETS)
	@mkdir -p $(O)/fuzz/corpus-strace $(O)/fuzz/corpus-utrace
	$(O)/fuzz/fuzz_strace -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -artifact_prefix=$(O)/fuzz/ $(O)/fuzz/corpus-strace tests/strace tests/strace/ff
	$(O)/fuzz/fuzz_utrace -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -artifact_prefix=$(O)/fuzz/ $(O)/fuzz/corpus-utrace tests/scenarios

TESTS := $(patsubst tests/unit/test_%.c,$(O)/dbg/test_%,$(wildcard tests/unit/test_*.c))

# The kernel the golden answers were recorded on; live checks run only there.
GOLDEN_KERNEL := 6.18.44
FUZZ_SEEDS    := 7
FUZZ_PROGRAMS := 2000

SCENARIOS := $(wildcard tests/scenarios/*.utrace tests/scenarios/gen/*.utrace \
		tests/scenarios/policy/*.utrace)
# the implemented merge policies besides linux, run on the policy scenarios' expect lines
POLICY_SCENARIOS := $(wildcard tests/scenarios/policy/*.utrace)
POLICIES := matena relocate auto ideal
# model-only policy scenarios (swap, KSM, pins, migration): no kernel answers; their
# moves carry no flag, so relocate runs them with --relocate-all
POLICY_MODEL_SCENARIOS := $(wildcard tests/scenarios/policy/model/*.utrace)

FUZZ_CHECK_SECONDS ?= 30
check: $(TESTS) $(O)/dbg/uvma $(O)/dbg/uvma-agent $(FUZZ_TARGETS) check-mt
	@set -e; for t in $(TESTS); do echo "== $$t"; $$t; done
	@echo "== scenarios: expect lines on the model ($(O)/dbg/uvma run, $(words $(SCENARIOS)) files)"
	@$(O)/dbg/uvma run $(SCENARIOS) > $(O)/run.log || { cat $(O)/run.log; exit 1; }
	@tail -n 1 $(O)/run.log
	@for p in $(POLICIES); do \
		echo "== policy $$p: $(words $(POLICY_SCENARIOS)) scenarios, checker after every call"; \
		$(O)/dbg/uvma run --policy $$p $(POLICY_SCENARIOS) > $(O)/policy-$$p.log || \
			{ grep -v ': ok' $(O)/policy-$$p.log; exit 1; }; \
	done
	@echo "== model-only policy scenarios: $(words $(POLICY_MODEL_SCENARIOS)) under each policy"
	@for p in linux matena auto ideal "relocate --relocate-all"; do \
		$(O)/dbg/uvma run --policy $$p $(POLICY_MODEL_SCENARIOS) > $(O)/policy-model.log || \
			{ echo "policy $$p:"; grep -v ': ok' $(O)/policy-model.log; exit 1; }; \
	done
	@echo "== replay: the bundled examples under every policy, and strace samples of every shape"
	@for f in examples/*.utrace.xz tests/strace/*.strace; do \
		$(O)/dbg/uvma replay --policy all --relocate-all $$f > $(O)/replay.log || exit 1; \
		grep -q '^  divergences 0 ' $(O)/replay.log || { cat $(O)/replay.log; exit 1; }; \
	done
	@$(O)/dbg/uvma replay tests/strace/ff/* > $(O)/replay.log && grep -q '^  divergences 0 ' $(O)/replay.log
	@$(O)/dbg/uvma replay --json --plot $(O)/replay.svg examples/python-growing-lists.utrace.xz > $(O)/replay.json
	@grep -q '"policy":"linux"' $(O)/replay.json && grep -q '<svg' $(O)/replay.svg
	@if [ "$$(uname -r | cut -d- -f1)" = "$(GOLDEN_KERNEL)" ]; then \
		echo "== record --verify: real programs, the model's maps against the kernel's after every call"; \
		scripts/record-check.sh $(O)/dbg/uvma $(O)/record; \
	else echo "== record --verify skipped: host kernel $$(uname -r), the model is $(GOLDEN_KERNEL)'s"; fi
	@echo "== libFuzzer: the strace and .utrace readers, $(FUZZ_CHECK_SECONDS) s each"
	@mkdir -p $(O)/fuzz/corpus-strace $(O)/fuzz/corpus-utrace
	@$(O)/fuzz/fuzz_strace -max_total_time=$(FUZZ_CHECK_SECONDS) -max_len=4096 -artifact_prefix=$(O)/fuzz/ $(O)/fuzz/corpus-strace tests/strace tests/strace/ff > $(O)/fuzz-strace.log 2>&1 || { tail -n 40 $(O)/fuzz-strace.log; exit 1; }
	@$(O)/fuzz/fuzz_utrace -max_total_time=$(FUZZ_CHECK_SECONDS) -max_len=4096 -artifact_prefix=$(O)/fuzz/ $(O)/fuzz/corpus-utrace tests/scenarios > $(O)/fuzz-utrace.log 2>&1 || { tail -n 40 $(O)/fuzz-utrace.log; exit 1; }
	@echo "== command line: --help on every command exits 0, an unknown option or command 2"
	@for c in demo run diff replay record maps fuzz; do \
		$(O)/dbg/uvma $$c --help | grep -q '^usage: uvma COMMAND' || { echo "uvma $$c --help"; exit 1; }; \
		st=0; $(O)/dbg/uvma $$c --no-such-option >/dev/null 2>&1 || st=$$?; \
		[ $$st = 2 ] || { echo "uvma $$c --no-such-option: exit $$st"; exit 1; }; \
	done; st=0; $(O)/dbg/uvma no-such-command 2>/dev/null || st=$$?; [ $$st = 2 ]
	@echo "== merge tracing: uvma run --trace says why the moved faulted VMA does not merge"
	@$(O)/dbg/uvma run --trace tests/scenarios/mremap-faulted.utrace > $(O)/trace.log
	@grep -q '^event=merge call=mremap line=8 .* ok=0 reason=anon_vma' $(O)/trace.log
	@$(O)/dbg/uvma run --trace=json tests/scenarios/mremap-faulted.utrace | \
		grep -q '^{"event":"merge","call":"mremap","line":12,.*"ok":false,"reason":"pgoff"'
	@grep '^counts' $(O)/trace.log
	@echo "== scenarios: the model against the recorded kernel answers (uvma run --golden)"
	@$(O)/dbg/uvma run --golden $(SCENARIOS) > $(O)/golden.log || { grep -v 'agree' $(O)/golden.log; exit 1; }
	@echo "$$(grep -c 'agree' $(O)/golden.log) of $(words $(SCENARIOS)) scenarios agree with the recorded kernel answers"
	@if [ "$$(uname -r | cut -d- -f1)" = "$(GOLDEN_KERNEL)" ]; then \
		echo "== scenarios: live diff against $$(uname -r)"; \
		: "a difference must repeat in 5 runs: DAMON and other CPUs' batches disturb a few"; \
		$(O)/dbg/uvma diff --quiet --retries 4 $(SCENARIOS) > $(O)/diff.log || { grep -v ' agree ' $(O)/diff.log; exit 1; }; \
		tail -n 1 $(O)/diff.log; \
		for s in $(FUZZ_SEEDS); do \
			echo "== fuzz: seed $$s, $(FUZZ_PROGRAMS) programs against the kernel"; \
			$(O)/dbg/uvma fuzz --seed $$s --programs $(FUZZ_PROGRAMS) --ops 30 --out $(O); \
		done; \
	else echo "== live diff and fuzz skipped: host kernel $$(uname -r), answers recorded on $(GOLDEN_KERNEL)"; fi

# The multi-threaded library: the unit tests and the scenarios on its debug build
# (every lock assertion on), the concurrency tests under ASan and under
# ThreadSanitizer, and the reference-count protocol through Spin.
TSAN_OPTIONS_CHECK := suppressions=$(CURDIR)/tests/mt/tsan.supp halt_on_error=1 second_deadlock_stack=1
check-mt: $(MT_TESTS) $(O)/dbg-mt/uvma $(O)/tsan/test_mt
	@set -e; for t in $(MT_TESTS); do echo "== $$t"; $$t; done
	@echo "== scenarios on the multi-threaded build ($(words $(SCENARIOS)) files, golden answers)"
	@$(O)/dbg-mt/uvma run --golden $(SCENARIOS) > $(O)/golden-mt.log || { grep -v 'agree' $(O)/golden-mt.log; exit 1; }
	@echo "== $(O)/tsan/test_mt: ThreadSanitizer"
	@: "gcc 12's ThreadSanitizer refuses some randomized layouts: run without ASLR where allowed"; \
	norand=""; setarch $$(uname -m) -R true 2>/dev/null && norand="setarch $$(uname -m) -R"; \
	TSAN_OPTIONS="$(TSAN_OPTIONS_CHECK)" $$norand $(O)/tsan/test_mt
	@echo "== the VMA reference count, exhaustively (Spin)"
	@scripts/model-check.sh $(O)/model

bench: $(O)/bench $(O)/bench-memory $(O)/bare-trace $(O)/uvma $(O)/bench-faults $(O)/bench-faults-lo
	$(O)/bench
	@echo
	$(O)/bench-memory
	@echo
	$(O)/bench-faults $(O)/bench-faults-lo
	bench/replay.sh $(O)/uvma $(O)/bare-trace $(O)/bench-replay
$(O)/bare-trace: bench/bare_trace.c tools/seccomp_filter.h tools/sysnr.h | $(O)
	$(CC) $(CSTD) $(WARN) -O2 -Itools -o $@ $<
$(O)/bench: bench/bench.c bench/common.h $(O)/libuvma.a | $(O)
	$(CC) $(CSTD) $(WARN) -O2 -g -Iinclude -Ilib -o $@ $< $(O)/libuvma.a
$(O)/bench-faults: bench/faults.c bench/common.h $(O)/libuvma-mt.a | $(O)
	$(CC) $(CSTD) $(WARN) -O2 -g -pthread -Iinclude -o $@ $< $(O)/libuvma-mt.a $(MT_LIBS)
$(O)/bench-faults-lo: bench/faults.c bench/common.h $(O)/mt-lo/libuvma.a | $(O)
	$(CC) $(CSTD) $(WARN) -O2 -g -pthread -DBENCH_LOCK_ONLY -Iinclude -o $@ $< $(O)/mt-lo/libuvma.a $(MT_LIBS)
$(O)/bench-memory: bench/memory.c bench/common.h $(O)/libuvma.a | $(O)
	$(CC) $(CSTD) $(WARN) -O2 -g -Iinclude -Ilib -o $@ $< $(O)/libuvma.a

# The tests with gcov; prints the line coverage of each library file.
coverage:
	$(MAKE) O=$(O)/cov COV=--coverage check
	@cd $(O)/cov/dbg/lib && gcov -n -o . $(addprefix $(CURDIR)/,$(LIB_SRC)) 2>/dev/null | \
		awk '/^File/ { f = $$2 } /^Lines executed/ { print (f ? f : "total"), $$2, $$3, $$4; f = "" }'

demo: $(O)/uvma
	$(O)/uvma demo

install: $(O)/libuvma.a $(O)/libuvma-mt.a $(O)/uvma $(O)/uvma-agent
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(O)/libuvma.a $(O)/libuvma-mt.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/uvma.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(O)/uvma $(O)/uvma-agent $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 man/uvma.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' uvma.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/uvma.pc
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' uvma-mt.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/uvma-mt.pc

$(O) $(O)/lib $(O)/tools $(O)/dbg $(O)/dbg/lib $(O)/dbg/tools $(O)/mt/lib $(O)/dbg-mt \
$(O)/dbg-mt/lib $(O)/dbg-mt/tools $(O)/tsan $(O)/tsan/lib $(O)/mt-lo/lib:
	mkdir -p $@

clean:
	rm -rf $(O)

.PHONY: all check check-mt bench coverage demo install clean fuzz
.SECONDARY:
