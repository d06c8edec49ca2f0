/* Cortex-M4 + STM32F4 ART timing model: the rules, numbered as in docs/cycle-model.md. */
#include "cycle_model.h"

#include <string.h>

#define LINE_BYTES 16u
#define NO_LINE 1u /* no 16-byte-aligned line has bit 0 set */

static inline bool is_flash(uint32_t addr)
{
	/* Main flash at 0x08000000 and its boot alias at 0x00000000 (1 MB each). */
	return (addr >= 0x08000000u && addr < 0x08100000u) || addr < 0x00100000u;
}

static inline uint32_t line_of(uint32_t addr)
{
	return addr & ~(LINE_BYTES - 1u);
}

static void cache_init(cm_cache_t *c, uint32_t lines)
{
	memset(c, 0, sizeof(*c));
	c->lines = lines < CM_MAX_LINES ? lines : CM_MAX_LINES;
}

/* True on a hit; a miss fills the least recently used line (M5, M6). */
static bool cache_access(cm_cache_t *c, uint32_t line)
{
	uint32_t victim = 0u;

	c->clock++;
	for (uint32_t i = 0u; i < c->lines; i++) {
		if (c->used[i] != 0u && c->tag[i] == line) {
			c->used[i] = c->clock;
			return true;
		}
		if (c->used[i] < c->used[victim]) {
			victim = i;
		}
	}
	if (c->lines != 0u) {
		c->tag[victim] = line;
		c->used[victim] = c->clock;
	}
	return false;
}

void cm_init(cm_state_t *s, const cm_params_t *p)
{
	memset(s, 0, sizeof(*s));
	s->p = *p;
	cache_init(&s->icache, p->icache ? p->icache_lines : 0u);
	cache_init(&s->dcache, p->dcache ? p->dcache_lines : 0u);
	s->fetch_line = NO_LINE;
	s->prefetch_line = NO_LINE;
}

void cm_begin(cm_state_t *s)
{
	s->cycles = 0u;
	s->instructions = 0u;
	s->flash_stall = 0u;
	s->prefetch_ready = 0u;
	s->prefetch_line = NO_LINE;
	s->prev = NULL;
}

uint32_t cm_data_read(cm_state_t *s, uint32_t addr)
{
	/* M6: a flash data read waits the wait states unless its line is in the D-cache. */
	if (!is_flash(addr) || s->p.wait_states == 0u) {
		return 0u;
	}
	return cache_access(&s->dcache, line_of(addr)) ? 0u : s->p.wait_states;
}

/* M1-M5: cycles the fetch of one line waits, starting at cycle now. */
static uint32_t fetch_line(cm_state_t *s, uint32_t line, uint64_t now)
{
	uint32_t stall;

	if (!is_flash(line) || line == s->fetch_line) {
		return 0u; /* M1: SRAM/CCM code; M2: the line already in the read buffer */
	}
	if (s->p.icache && cache_access(&s->icache, line)) {
		stall = 0u; /* M3 */
	} else if (s->p.prefetch && line == s->prefetch_line) {
		stall = s->prefetch_ready > now ? (uint32_t)(s->prefetch_ready - now) : 0u; /* M4 */
	} else {
		stall = s->p.wait_states; /* M5 */
	}
	s->fetch_line = line;
	if (s->p.prefetch) {
		/* The next sequential line is read as soon as this one is delivered. */
		s->prefetch_line = line + LINE_BYTES;
		/* A read takes ws + 1 cycles, one of which every instruction's timing already has. */
		s->prefetch_ready = now + stall + s->p.wait_states;
	}
	return stall;
}

/* C4, C5: the core's cost of a load or store, given the instruction before it. */
static uint32_t access_cycles(const cm_insn_t *prev, const cm_insn_t *insn)
{
	uint32_t cycles = insn->base;

	if (prev == NULL) {
		return cycles;
	}
	/* C5: no forwarding from an ALU result to the address generation. */
	if ((prev->flags & CM_F_DATA_PROC) != 0u && (prev->writes & insn->addr_regs) != 0u) {
		cycles += 1u;
	}
	/* C4: a single load or store right after a single load without base update, whose
	 * result the address does not use, overlaps its address phase: one cycle less. */
	if ((insn->kind == CM_LOAD || insn->kind == CM_STORE) && prev->kind == CM_LOAD &&
	    (prev->flags & (CM_F_WRITEBACK | CM_F_WRITES_PC)) == 0u &&
	    (prev->writes & insn->addr_regs) == 0u) {
		cycles -= 1u;
	}
	return cycles;
}

void cm_retire(cm_state_t *s, const cm_insn_t *insn, uint32_t data_stall, uint32_t next_pc)
{
	uint32_t stall = 0u;
	uint32_t cycles;
	uint32_t first = line_of(insn->pc);
	uint32_t last = line_of(insn->pc + insn->size - 1u);

	stall += fetch_line(s, first, s->cycles);
	if (last != first) {
		stall += fetch_line(s, last, s->cycles + stall);
	}
	switch (insn->kind) {
	case CM_LOAD:
	case CM_STORE:
	case CM_MEM:
		cycles = access_cycles(s->prev, insn);
		break;
	case CM_DIV:
		cycles = s->p.div_cycles; /* C3 */
		break;
	default:
		cycles = insn->base; /* C1 */
		break;
	}
	/* C2: a change of flow refills the pipeline. */
	if ((insn->flags & CM_F_WRITES_PC) != 0u && next_pc != insn->pc + insn->size) {
		cycles += s->p.refill;
	}
	stall += data_stall;
	s->cycles += cycles + stall;
	s->flash_stall += stall;
	s->instructions++;
	s->prev = insn;
}
