// SPDX-License-Identifier: MIT
/*
 * Running a trace on the model.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapsum.h"
#include "model.h"

#define NO_RANDOMIZE_MMAP_BASE 0x7ffff7fff000ULL

uint64_t model_parse_vmflags(const char *s)
{
	uint64_t f = 0;

	while (*s) {
		while (*s == ' ')
			s++;
		if (!s[0] || !s[1] || s[0] == '\n')
			break;
		for (unsigned int b = 0; b < 64; b++) {
			const char *mn = uvma_vm_flag_name(b);

			if (mn && s[0] == mn[0] && s[1] == mn[1])
				f |= 1ULL << b;
		}
		s += 2;
	}
	return f;
}

struct seen_file {
	unsigned int major, minor;
	unsigned long long ino;
	struct uvma_file *file;
};

int model_import_smaps(struct uvma_mm *mm, const char *smaps, char *err, size_t errsize)
{
	struct seen_file files[512];
	int nfiles = 0;
	const char *line = smaps;
	struct uvma_vma_import in = { 0 };
	bool have = false;
	char name[512];
	unsigned long long rss = 0;

	for (;;) {
		const char *nl = strchr(line, '\n');
		unsigned long long s, e, off, ino;
		unsigned int major, minor;
		char perms[8];
		int n = 0;
		bool header = sscanf(line, "%llx-%llx %7s %llx %x:%x %llu%n", &s, &e, perms, &off,
				     &major, &minor, &ino, &n) == 7;

		if (header || !*line) {
			if (have) {
				int r;

				in.faulted = !in.file && rss > 0;
				if (!strcmp(name, "[vdso]"))
					in.special = UVMA_SPECIAL_VDSO;
				else if (!strcmp(name, "[vvar]"))
					in.special = UVMA_SPECIAL_VVAR;
				else if (!strcmp(name, "[vvar_vclock]"))
					in.special = UVMA_SPECIAL_VVAR_VCLOCK;
				/* the gate VMA is not in the tree */
				if (in.start < (1ULL << 47)) {
					r = uvma_mm_import_vma(mm, &in);
					if (r) {
						snprintf(err, errsize,
							 "cannot import VMA %llx-%llx: %s",
							 (unsigned long long)in.start,
							 (unsigned long long)in.end,
							 uvma_errno_name(r));
						return -1;
					}
					if (!strcmp(name, "[heap]"))
						uvma_mm_set_brk(mm, in.start, in.end);
					if (!strcmp(name, "[stack]"))
						uvma_mm_set_start_stack(mm, in.end - 4096);
				}
				have = false;
			}
			if (!*line)
				break;
		}
		if (header) {
			const char *p = line + n;
			size_t len;

			while (*p == ' ')
				p++;
			len = nl ? (size_t)(nl - p) : strlen(p);
			if (len >= sizeof(name))
				len = sizeof(name) - 1;
			memcpy(name, p, len);
			name[len] = 0;
			memset(&in, 0, sizeof(in));
			in.start = s;
			in.end = e;
			in.pgoff = off >> 12;
			rss = 0;
			if (ino || major || minor) {
				int i;

				for (i = 0; i < nfiles; i++)
					if (files[i].major == major && files[i].minor == minor &&
					    files[i].ino == ino)
						break;
				if (i == nfiles) {
					if (nfiles == 512) {
						snprintf(err, errsize, "more than 512 files mapped");
						return -1;
					}
					files[i].major = major;
					files[i].minor = minor;
					files[i].ino = ino;
					files[i].file = uvma_file_open(uvma_mm_sys(mm), name, 1ULL << 40,
								       true, perms[3] == 's');
					if (!files[i].file) {
						snprintf(err, errsize, "out of memory");
						return -1;
					}
					nfiles++;
				}
				in.file = files[i].file;
			} else {
				in.pgoff = s >> 12;
			}
			have = true;
		} else if (!strncmp(line, "Rss:", 4)) {
			rss = strtoull(line + 4, NULL, 10);
		} else if (!strncmp(line, "VmFlags:", 8)) {
			in.flags = model_parse_vmflags(line + 8);
		}
		line = nl ? nl + 1 : line + strlen(line);
	}
	for (int i = 0; i < nfiles; i++)
		uvma_file_close(files[i].file);
	return 0;
}

/*
 * A /proc/PID/maps snapshot has no VmFlags: they are made up from the
 * permissions the way the kernel sets them for a mapping of that kind
 * (VM_MAY* bits, VM_ACCOUNT on private writable memory, VM_GROWSDOWN on the
 * stack), and private writable anonymous memory counts as faulted.
 */
static char *maps_to_smaps(const char *maps)
{
	size_t cap = strlen(maps) * 3 + 256, n = 0;
	char *out = malloc(cap);
	const char *line = maps;

	if (!out)
		return NULL;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		unsigned long long s, e, off, ino;
		unsigned int major, minor;
		char perms[8], name[512] = "";
		int pos = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu%n", &s, &e, perms, &off, &major, &minor,
			   &ino, &pos) == 7 && strlen(perms) == 4) {
			const char *p = line + pos;
			bool anon = !ino && !major && !minor && (!len || p[0] != '/');
			bool shared = perms[3] == 's';

			while (*p == ' ')
				p++;
			snprintf(name, sizeof(name), "%.*s", (int)(len - (size_t)(p - line)), p);
			n += (size_t)snprintf(out + n, cap - n, "%.*s\nRss: %d kB\nVmFlags:%s%s%s%s%s%s%s%s\n",
					      (int)len, line,
					      anon && !shared && perms[1] == 'w' ? 4 : 0,
					      perms[0] == 'r' ? " rd" : "", perms[1] == 'w' ? " wr" : "",
					      perms[2] == 'x' ? " ex" : "", shared ? " sh" : "",
					      " mr", (!shared || perms[1] == 'w') ? " mw" : "",
					      shared ? " ms" : " me",
					      !strcmp(name, "[stack]") ? " gd ac"
					      : !shared && perms[1] == 'w' && anon ? " ac" : "");
		}
		line = nl ? nl + 1 : line + len;
	}
	out[n] = 0;
	return out;
}

int model_import_maps(struct uvma_mm *mm, const char *text, char *err, size_t errsize)
{
	char *smaps;
	int r;

	if (strstr(text, "\nVmFlags:"))
		return model_import_smaps(mm, text, err, errsize);
	smaps = maps_to_smaps(text);
	if (!smaps) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	r = model_import_smaps(mm, smaps, err, errsize);
	free(smaps);
	return r;
}

int model_start(struct model *m, const struct trace *t, uint64_t base, const char *initial,
		const struct uvma_sys_config *machine, char *err, size_t errsize)
{
	struct uvma_sys_config cfg;

	memset(m, 0, sizeof(*m));
	if (machine)
		cfg = *machine;
	else
		uvma_sys_config_default(&cfg);
	if (t->has_thp) {
		cfg.thp_orders_always = t->thp_always;
		cfg.thp_orders_madvise = t->thp_madvise;
	}
	if (t->swap_pages)
		cfg.swap_pages = t->swap_pages;
	if (t->zero_page)
		cfg.forbid_zero_page = t->zero_page < 0;
	m->sys = uvma_sys_create(&cfg);
	if (!m->sys) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	m->mm[0] = uvma_mm_create(m->sys);
	if (!m->mm[0]) {
		snprintf(err, errsize, "out of memory");
		uvma_sys_destroy(m->sys);
		return -1;
	}
	uvma_mm_set_mmap_base(m->mm[0], NO_RANDOMIZE_MMAP_BASE);
	m->base = base;
	m->size = t->carveout;
	m->max_map_count = cfg.max_map_count;
	if (initial && model_import_smaps(m->mm[0], initial, err, errsize)) {
		uvma_sys_destroy(m->sys);
		return -1;
	}
	return 0;
}

static uint64_t abs_addr(const struct model *m, struct taddr a)
{
	return a.rel ? m->base + a.val : a.val;
}

/*
 * The agent's touch: a write stores a non-zero byte in each page (so the
 * kernel will not find the page zero-filled when it splits a THP), a read
 * loads one.
 */
#define TOUCH_VALUE 0x5a

static long model_touch(struct uvma_mm *mm, uint64_t addr, uint64_t len, int write)
{
	uint64_t end = (addr + len + 4095) & ~4095ULL;

	long err = 0;

	if (!write)
		err = uvma_touch(mm, addr, len, false);
	for (uint64_t a = addr & ~4095ULL; write && !err && a < end; a += 4096)
		err = uvma_write_value(mm, a, TOUCH_VALUE);
	/* the agent survives the fault in a SIGSEGV (SIGBUS) handler */
	if (err == -EFAULT)
		uvma_mm_signal(mm);
	return err;
}

/* pin ADDR LEN: the pins stay with the model until unpin (or the end). */
static long model_pin(struct model *m, int proc, uint64_t addr, uint64_t len, bool write)
{
	unsigned long n = (unsigned long)(len >> 12);
	long r;

	if (m->npins + n > m->cappins) {
		size_t cap = (m->npins + n) * 2;
		struct model_pin *p = realloc(m->pins, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		m->pins = p;
		m->cappins = cap;
	}
	{
		struct uvma_page **pages = calloc(n, sizeof(*pages));

		if (!pages)
			return -ENOMEM;
		r = uvma_pin_user_pages(m->mm[proc], addr, n, write, pages);
		for (long i = 0; i < r; i++) {
			m->pins[m->npins].proc = proc;
			m->pins[m->npins++].page = pages[i];
		}
		free(pages);
	}
	return r;
}

static void model_unpin(struct model *m, int proc)
{
	size_t k = 0;

	for (size_t i = 0; i < m->npins; i++) {
		if (proc < 0 || m->pins[i].proc == proc)
			uvma_unpin_user_pages(m->sys, &m->pins[i].page, 1, false);
		else
			m->pins[k++] = m->pins[i];
	}
	m->npins = k;
}

static long model_migrate(struct model *m, struct uvma_mm *mm, uint64_t addr)
{
	long id;

	if (m->nmigrations == m->capmigrations) {
		size_t cap = m->capmigrations ? m->capmigrations * 2 : 16;
		long *p = realloc(m->migrations, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		m->migrations = p;
		m->capmigrations = cap;
	}
	id = uvma_migrate_start(mm, addr);
	if (id < 0)
		return id;
	m->migrations[m->nmigrations++] = id;
	return 0;
}

/* End every migration still running (those a fault ended already are -ENOENT). */
static long model_migrate_finish(struct model *m)
{
	long r = 0;

	for (size_t i = 0; i < m->nmigrations; i++) {
		int err = uvma_migrate_finish(m->sys, m->migrations[i]);

		if (err && err != -ENOENT && !r)
			r = err;
	}
	m->nmigrations = 0;
	return r;
}

long model_step(struct model *m, const struct trace *t, const struct op *op)
{
	struct uvma_mm *mm = m->mm[op->proc];
	uint64_t a = abs_addr(m, op->addr);
	int err;

	if (!mm && op->kind != OP_FILE)
		return -ESRCH;
	switch (op->kind) {
	case OP_CARVEOUT:
	case OP_THP:
	case OP_ZEROPAGE:
	case OP_SWAP:
	case OP_EXPECT_VMAS:
	case OP_EXPECT_VMA:
	case OP_MAPS:		/* checked by the caller: model_check_maps() */
		return 0;
	case OP_FILE:
		if (t->file_mode[op->file] & FILE_MEMFD)
			m->files[op->file] = uvma_memfd_create(m->sys, t->file_path[op->file], op->len);
		else if (t->file_path[op->file])
			m->files[op->file] = uvma_file_open(m->sys, t->file_path[op->file], op->len,
							    t->file_mode[op->file] & 1,
							    t->file_mode[op->file] & 2);
		else
			m->files[op->file] = uvma_memfd_create(m->sys, t->files[op->file], op->len);
		return m->files[op->file] ? 0 : -ENOMEM;
	case OP_EXEC: {
		struct uvma_mm *fresh = uvma_mm_create(m->sys);

		if (!fresh)
			return -ENOMEM;
		uvma_mm_exit(mm);
		m->mm[op->proc] = fresh;
		if (op->addr.val)
			uvma_mm_set_brk(fresh, a, a);
		return 0;
	}
	case OP_SPAWN:
		m->mm[op->arg] = uvma_mm_create(m->sys);
		return m->mm[op->arg] ? 0 : -ENOMEM;
	case OP_VMA: {
		struct uvma_vma_import in = {
			.start = a,
			.end = abs_addr(m, op->addr2),
			.pgoff = op->off,
			.flags = op->len2,
			.file = op->file >= 0 ? m->files[op->file] : NULL,
			.special = op->arg <= 3 ? (enum uvma_special)op->arg : UVMA_SPECIAL_NONE,
			.faulted = op->flags & 1,
		};
		long r = uvma_mm_import_vma(mm, &in);

		if (!r && op->arg == 4)		/* [stack] */
			uvma_mm_set_start_stack(mm, in.end - 4096);
		if (!r && op->arg == 5)		/* [heap] */
			uvma_mm_set_brk(mm, in.start, in.end);
		return r;
	}
	case OP_MMAP:
		return uvma_mmap(mm, a, op->len, op->prot, op->flags,
				 op->file >= 0 ? m->files[op->file] : NULL, op->off);
	case OP_MUNMAP:
		return uvma_munmap(mm, a, op->len);
	case OP_MPROTECT:
		return uvma_mprotect(mm, a, op->len, op->prot);
	case OP_PKEY_MPROTECT:
		return uvma_pkey_mprotect(mm, a, op->len, op->prot, op->arg);
	case OP_MADVISE:
		return uvma_madvise(mm, a, op->len, op->arg);
	case OP_MLOCK:
		return uvma_mlock(mm, a, op->len);
	case OP_MLOCK2:
		return uvma_mlock2(mm, a, op->len, op->flags);
	case OP_MSEAL:
		return uvma_mseal(mm, a, op->len, (unsigned long)op->len2);
	case OP_MBIND:
		return uvma_mbind(mm, a, op->len, op->arg, op->prot ? NULL : &op->len2,
				  (unsigned long)op->off, (unsigned int)op->flags);
	case OP_MUNLOCK:
		return uvma_munlock(mm, a, op->len);
	case OP_MLOCKALL:
		return uvma_mlockall(mm, op->flags);
	case OP_MUNLOCKALL:
		return uvma_munlockall(mm);
	case OP_MREMAP:
		return uvma_mremap(mm, a, op->len, op->len2, op->flags, abs_addr(m, op->addr2));
	case OP_BRK:
		return (long)uvma_brk(mm, a);
	case OP_TOUCH:
		return model_touch(mm, a, op->len, op->arg);
	case OP_FORK:
		m->mm[op->arg] = uvma_fork(mm, &err);
		if (m->mm[op->arg] && !m->defer_child_run)
			uvma_mm_run(m->mm[op->arg]);
		return m->mm[op->arg] ? 0 : err;
	case OP_EXIT:
		uvma_mm_exit(mm);
		m->mm[op->proc] = NULL;
		return 0;
	case OP_PRCTL_MEMORY_MERGE:
		return uvma_prctl_set_memory_merge(mm, (unsigned long)op->arg);
	case OP_PRCTL_ANON_NAME:
		return uvma_prctl_set_vma_anon_name(mm, a, op->len,
						    strcmp(op->name, "-") ? op->name : NULL);
	case OP_FILL: {
		long max = (long)m->max_map_count, r = 0;

		/* tens of thousands of mappings: check the address space once, at the end */
		uvma_sys_debug_checks(m->sys, false);
		for (uint64_t i = 0; (long)uvma_mm_map_count(mm) < max - (long)op->len; i++) {
			r = uvma_mmap(mm, FILL_BASE + i * 8192, 4096, UVMA_PROT_READ,
				      UVMA_MAP_PRIVATE | UVMA_MAP_ANONYMOUS | UVMA_MAP_FIXED_NOREPLACE,
				      NULL, 0);
			if (r < 0)
				break;
		}
		uvma_sys_debug_checks(m->sys, true);
		return r < 0 ? r : 0;
	}
	case OP_KSM_SCAN:
		return uvma_ksm_scan(m->sys);
	case OP_PIN:
		return model_pin(m, op->proc, a, op->len, op->arg);
	case OP_UNPIN:
		model_unpin(m, op->proc);
		return 0;
	case OP_MIGRATE:
		return model_migrate(m, mm, a);
	case OP_MIGRATE_FINISH:
		return model_migrate_finish(m);
	case OP_NKINDS:
		break;
	}
	return -ENOSYS;
}

void model_smaps(struct model *m, int proc, char *buf, size_t size)
{
	if (!m->mm[proc]) {
		buf[0] = 0;
		return;
	}
	uvma_render_smaps(m->mm[proc], m->base, m->base + m->size, buf, size);
}

void model_stop(struct model *m)
{
	/* a pin or a migration outlives its process; they end with the machine */
	model_unpin(m, -1);
	model_migrate_finish(m);
	free(m->pins);
	free(m->migrations);
	uvma_sys_destroy(m->sys);
	m->sys = NULL;
}

static int model_maps_sum(struct model *m, int proc, struct maps_sum *sum)
{
	size_t size = 1 << 16;
	char *buf = NULL;
	long need;

	if (!m->mm[proc])
		return -ESRCH;
	for (;;) {
		char *bigger = realloc(buf, size);

		if (!bigger) {
			free(buf);
			return -ENOMEM;
		}
		buf = bigger;
		need = uvma_render_maps(m->mm[proc], 0, 1ULL << 47, buf, size);
		if (need < 0) {
			free(buf);
			return (int)need;
		}
		if ((size_t)need < size)
			break;
		size = (size_t)need + 1;
	}
	maps_sum(buf, sum);
	free(buf);
	return 0;
}

int model_check_maps(struct model *m, const struct trace *t, const struct op *op, char *why,
		     size_t size)
{
	struct maps_sum sum;
	int err = model_maps_sum(m, op->proc, &sum);

	if (err)
		return err;
	if (sum.count == op->len && sum.hash == op->len2)
		return 0;
	snprintf(why, size, "process %s: the model's maps differ from the kernel's (kernel %llu "
		 "lines, checksum %#llx; model %lu lines, checksum %#llx)", t->procs[op->proc],
		 (unsigned long long)op->len, (unsigned long long)op->len2, sum.count,
		 (unsigned long long)sum.hash);
	return 1;
}
