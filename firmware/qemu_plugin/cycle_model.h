/*
 * Cortex-M4 + STM32F4 flash (ART) timing model: see docs/cycle-model.md.
 *
 * The host (pipeline/cycles.py) classifies every instruction of the ELF
 * statically into a cm_insn_t; the QEMU plugin feeds the executed ones, with
 * their data accesses and the PC that followed, to cm_retire(). No QEMU type
 * appears here, so the rules read on their own.
 */
#ifndef TC_CYCLE_MODEL_H
#define TC_CYCLE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

/* Timing classes (the column "kind" of the instruction table). */
enum cm_kind {
	CM_PLAIN = 0,  /* data processing, multiply, DSP, IT, NOP, VFP: base cycles only */
	CM_LOAD = 1,   /* single LDR/LDRB/LDRH/LDRSx/LDREX: 2, or 1 when pipelined */
	CM_STORE = 2,  /* single STR/STRB/STRH/STREX: 2, or 1 when pipelined */
	CM_MEM = 3,    /* LDRD/STRD/LDM/STM/PUSH/POP/VLDR/VSTR/VLDM/VSTM: never pipelined */
	CM_DIV = 4,    /* SDIV/UDIV: the run's fixed divide cycles */
	CM_OTHER = 5,  /* branches, system, barriers: base (+ refill when PC changes) */
};

/* Flags of an instruction. */
#define CM_F_WRITES_PC 0x01u   /* may change the PC: +refill when the next PC is not pc+size */
#define CM_F_WRITEBACK 0x02u   /* load/store with base update: the next access is not pipelined */
#define CM_F_DATA_PROC 0x04u   /* an ALU result: a next address that uses it stalls one cycle */
#define CM_F_CALL 0x08u        /* BL/BLX: the instruction after it is the return address */
#define CM_F_HANDLER 0x10u     /* in an exception handler: not part of the interrupted call */

typedef struct {
	uint32_t pc;
	uint8_t size;        /* 2 or 4 bytes */
	uint8_t kind;        /* enum cm_kind */
	uint8_t base;        /* cycles before refill, pipelining, stalls (1+N for LDM etc.) */
	uint8_t flags;       /* CM_F_* */
	uint16_t writes;     /* core registers written, bit n = Rn */
	uint16_t addr_regs;  /* core registers that form the data address */
} cm_insn_t;

/* The run's parameters (docs/cycle-model.md, "Parameters"). */
typedef struct {
	uint32_t wait_states;   /* flash wait states (FLASH_ACR LATENCY) */
	bool icache;            /* ART instruction cache (ICEN) */
	bool dcache;            /* ART data cache (DCEN) */
	bool prefetch;          /* flash prefetch (PRFTEN) */
	uint32_t icache_lines;  /* of 128 bits; at most CM_MAX_LINES */
	uint32_t dcache_lines;  /* of 128 bits; at most CM_MAX_LINES */
	uint32_t refill;        /* P: pipeline refill cycles after a taken branch */
	uint32_t div_cycles;    /* SDIV/UDIV, fixed (operands are not visible) */
} cm_params_t;

#define CM_MAX_LINES 256u

typedef struct {
	uint32_t tag[CM_MAX_LINES];
	uint64_t used[CM_MAX_LINES];  /* LRU age: last use, 0 = empty */
	uint32_t lines;
	uint64_t clock;
} cm_cache_t;

typedef struct {
	cm_params_t p;
	cm_cache_t icache;
	cm_cache_t dcache;
	uint32_t fetch_line;     /* the 128-bit line in the flash read buffer, or 1 (none) */
	uint32_t prefetch_line;  /* the sequential line being prefetched */
	uint64_t prefetch_ready; /* cycle it arrives */
	const cm_insn_t *prev;   /* last retired instruction, NULL after a reset */
	/* Totals since cm_begin(). */
	uint64_t cycles;
	uint64_t instructions;
	uint64_t flash_stall;    /* cycles of the totals spent waiting on flash */
} cm_state_t;

void cm_init(cm_state_t *s, const cm_params_t *p);
/* Start a measured region: totals to zero, caches kept (they are warm on silicon too). */
void cm_begin(cm_state_t *s);
/* Wait cycles of a data read at addr (D-cache); call for every load of the instruction. */
uint32_t cm_data_read(cm_state_t *s, uint32_t addr);
/* Retire one executed instruction: data_stall from its cm_data_read()s, next_pc the PC after it. */
void cm_retire(cm_state_t *s, const cm_insn_t *insn, uint32_t data_stall, uint32_t next_pc);

#endif /* TC_CYCLE_MODEL_H */
