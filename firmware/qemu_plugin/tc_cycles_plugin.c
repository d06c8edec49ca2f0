/*
 * QEMU TCG plugin: the cycles of every call of one function, from cycle_model.c.
 *
 * Arguments (-plugin libtc_cycles.so,arg=value,...):
 *   table=FILE   the instruction table written by pipeline/cycles.py, one line per
 *                instruction: "pc size kind base flags writes addr_regs" (hex pc)
 *   out=FILE     the records: "CALL <n> instructions=<i> cycles=<c> flash_stall=<s>
 *                handler=<h> unknown=<u>",
 *                preceded by one "MARK ..." line (cumulative) per entry to the mark
 *                function inside the call
 *   entry=ADDR   the timed function (hex); a call is the BL/BLX that enters it, then
 *                everything up to the instruction after that BL/BLX (the return
 *                address: the plugin API cannot read LR)
 *   mark=ADDR    optional: a function whose entries are recorded as MARK lines
 *   ws, icache, dcache, prefetch, icache_lines, dcache_lines, refill, div: cm_params_t
 *
 * Instructions flagged CM_F_HANDLER (the exception handlers of the vector table, e.g.
 * the SysTick wrap count of the firmware's own counter) are counted apart and not timed:
 * the interrupted instruction retires with the PC the handler returns to.
 *
 * A record is written and flushed when its call returns: the host kills QEMU once
 * the firmware prints DONE, so nothing may wait for QEMU's exit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cycle_model.h"
#include "qemu-plugin.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* An executed instruction missing from the table: timed as one plain cycle, counted. */
#define UNKNOWN_FLAG 0x80u

static struct {
	cm_insn_t *insns;
	size_t n_insns;
	cm_state_t model;
	FILE *out;
	uint32_t entry;
	uint32_t mark;
	bool has_mark;
	/* Per executed instruction. */
	const cm_insn_t *last;  /* the previous instruction executed, in or out of a call */
	uint32_t last_pc;
	bool in_call;
	bool in_handler;
	uint32_t return_pc;
	const cm_insn_t *pending; /* in a call: executed, not yet retired (its next PC unknown) */
	uint32_t pending_stall;
	uint32_t calls;
	uint32_t marks;
	uint64_t unknown;
	uint64_t handler;
} g;

static int insn_cmp(const void *a, const void *b)
{
	uint32_t x = ((const cm_insn_t *)a)->pc, y = ((const cm_insn_t *)b)->pc;
	return (x > y) - (x < y);
}

static const cm_insn_t *lookup(uint32_t pc)
{
	cm_insn_t key = {.pc = pc};
	return bsearch(&key, g.insns, g.n_insns, sizeof(key), insn_cmp);
}

static int load_table(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t cap = 4096u;
	unsigned pc, size, kind, base, flags, writes, addr;

	if (f == NULL) {
		fprintf(stderr, "tc_cycles: cannot open table %s\n", path);
		return -1;
	}
	g.insns = malloc(cap * sizeof(*g.insns));
	while (fscanf(f, "%x %u %u %u %u %u %u", &pc, &size, &kind, &base, &flags, &writes, &addr) == 7) {
		if (g.n_insns == cap) {
			cap *= 2u;
			g.insns = realloc(g.insns, cap * sizeof(*g.insns));
		}
		g.insns[g.n_insns++] = (cm_insn_t){pc, (uint8_t)size, (uint8_t)kind, (uint8_t)base,
						   (uint8_t)flags, (uint16_t)writes, (uint16_t)addr};
	}
	fclose(f);
	qsort(g.insns, g.n_insns, sizeof(*g.insns), insn_cmp);
	return g.n_insns != 0u ? 0 : -1;
}

static void write_record(const char *what, uint32_t index)
{
	fprintf(g.out, "%s %" PRIu32 " instructions=%" PRIu64 " cycles=%" PRIu64 " flash_stall=%" PRIu64
		" handler=%" PRIu64 " unknown=%" PRIu64 "\n", what, index, g.model.instructions, g.model.cycles,
		g.model.flash_stall, g.handler, g.unknown);
	fflush(g.out);
}

static void on_exec(unsigned int vcpu, void *udata)
{
	const cm_insn_t *insn = udata;
	uint32_t pc = insn->pc;

	(void)vcpu;
	g.in_handler = g.in_call && (insn->flags & CM_F_HANDLER) != 0u;
	if (g.in_handler) {
		g.handler++;
		return;
	}
	if (g.in_call) {
		cm_retire(&g.model, g.pending, g.pending_stall, pc);
		g.pending = NULL;
		if (pc == g.return_pc) {
			g.in_call = false;
			write_record("CALL", g.calls++);
		}
	} else if (pc == g.entry && g.last != NULL && (g.last->flags & CM_F_CALL) != 0u) {
		g.in_call = true;
		g.return_pc = g.last_pc + g.last->size;
		g.marks = 0u;
		g.unknown = 0u;
		g.handler = 0u;
		cm_begin(&g.model);
		cm_retire(&g.model, g.last, 0u, pc); /* the call's BL/BLX is part of its cost */
	}
	if (g.in_call) {
		if (g.has_mark && pc == g.mark) {
			write_record("MARK", g.marks++);
		}
		if ((insn->flags & UNKNOWN_FLAG) != 0u) {
			g.unknown++;
		}
		g.pending = insn;
		g.pending_stall = 0u;
	}
	g.last = insn;
	g.last_pc = pc;
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
	(void)vcpu;
	(void)udata;
	if (g.in_call && !g.in_handler && !qemu_plugin_mem_is_store(info)) {
		g.pending_stall += cm_data_read(&g.model, (uint32_t)vaddr);
	}
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	for (size_t i = 0u; i < qemu_plugin_tb_n_insns(tb); i++) {
		struct qemu_plugin_insn *qi = qemu_plugin_tb_get_insn(tb, i);
		uint32_t pc = (uint32_t)qemu_plugin_insn_vaddr(qi);
		const cm_insn_t *insn = lookup(pc);

		if (insn == NULL) {
			/* Leaked on purpose: lives as long as the translation that points at it. */
			cm_insn_t *made = malloc(sizeof(*made));
			*made = (cm_insn_t){pc, (uint8_t)qemu_plugin_insn_size(qi), CM_PLAIN, 1u, UNKNOWN_FLAG, 0u, 0u};
			insn = made;
		}
		qemu_plugin_register_vcpu_insn_exec_cb(qi, on_exec, QEMU_PLUGIN_CB_NO_REGS, (void *)insn);
		/* RW and a filter in on_mem: QEMU 7.2 given MEM_R calls back on stores only. */
		qemu_plugin_register_vcpu_mem_cb(qi, on_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, NULL);
	}
}

static bool parse_arg(const char *arg, const char **table, const char **out, cm_params_t *p)
{
	const char *eq = strchr(arg, '=');
	const char *v;
	size_t klen;

	if (eq == NULL) {
		return false;
	}
	v = eq + 1;
	klen = (size_t)(eq - arg);
#define KEY(name) (klen == strlen(name) && strncmp(arg, name, klen) == 0)
	if (KEY("table")) {
		*table = v;
	} else if (KEY("out")) {
		*out = v;
	} else if (KEY("entry")) {
		g.entry = (uint32_t)strtoul(v, NULL, 16);
	} else if (KEY("mark")) {
		g.mark = (uint32_t)strtoul(v, NULL, 16);
		g.has_mark = true;
	} else if (KEY("ws")) {
		p->wait_states = (uint32_t)strtoul(v, NULL, 10);
	} else if (KEY("icache")) {
		return qemu_plugin_bool_parse("icache", v, &p->icache);
	} else if (KEY("dcache")) {
		return qemu_plugin_bool_parse("dcache", v, &p->dcache);
	} else if (KEY("prefetch")) {
		return qemu_plugin_bool_parse("prefetch", v, &p->prefetch);
	} else if (KEY("icache_lines")) {
		p->icache_lines = (uint32_t)strtoul(v, NULL, 10);
	} else if (KEY("dcache_lines")) {
		p->dcache_lines = (uint32_t)strtoul(v, NULL, 10);
	} else if (KEY("refill")) {
		p->refill = (uint32_t)strtoul(v, NULL, 10);
	} else if (KEY("div")) {
		p->div_cycles = (uint32_t)strtoul(v, NULL, 10);
	} else {
		return false;
	}
#undef KEY
	return true;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
					   char **argv)
{
	const char *table = NULL, *out = NULL;
	cm_params_t p = {5u, true, true, true, 64u, 8u, 2u, 12u};

	(void)info;
	for (int i = 0; i < argc; i++) {
		if (!parse_arg(argv[i], &table, &out, &p)) {
			fprintf(stderr, "tc_cycles: bad argument %s\n", argv[i]);
			return -1;
		}
	}
	if (table == NULL || out == NULL || g.entry == 0u) {
		fprintf(stderr, "tc_cycles: table=, out= and entry= are required\n");
		return -1;
	}
	if (load_table(table) != 0) {
		fprintf(stderr, "tc_cycles: no instructions in %s\n", table);
		return -1;
	}
	g.out = fopen(out, "w");
	if (g.out == NULL) {
		fprintf(stderr, "tc_cycles: cannot write %s\n", out);
		return -1;
	}
	cm_init(&g.model, &p);
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	return 0;
}
