/*
 * The few Cortex-M core registers the common board layer touches (a board's
 * own peripherals are defined in its folder).
 *
 * Plain addresses rather than the vendor CMSIS headers: the firmware needs a
 * dozen registers, and the build should not depend on a vendor pack.
 */
#ifndef BOARD_REGS_H
#define BOARD_REGS_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/*
 * Armv6-M (Cortex-M0/M0+) has no configurable fault exceptions (MemManage,
 * BusFault, UsageFault): no SHCSR enables and no CFSR saying why; every fault
 * is a HardFault. It has no CPACR either (no FPU: startup.c tests __ARM_FP).
 */
#if defined(__ARM_ARCH_6M__)
#define BOARD_HAS_CONFIGURABLE_FAULTS 0
#else
#define BOARD_HAS_CONFIGURABLE_FAULTS 1
#endif

/* System control block (ARMv7-M ARM, B3.2; SHCSR's enables, CFSR and CPACR are
 * not in Armv6-M's). */
#define SCB_ICSR   REG32(0xE000ED04u)
#define SCB_VTOR   REG32(0xE000ED08u)
#define SCB_SHCSR  REG32(0xE000ED24u)
#define SCB_CFSR   REG32(0xE000ED28u)
#define SCB_CPACR  REG32(0xE000ED88u)
#define SCB_DEMCR  REG32(0xE000EDFCu)

#define SCB_ICSR_PENDSTCLR       (1u << 25)
#define SCB_SHCSR_MEMFAULTENA    (1u << 16)
#define SCB_SHCSR_BUSFAULTENA    (1u << 17)
#define SCB_SHCSR_USGFAULTENA    (1u << 18)
#define SCB_CPACR_CP10_CP11_FULL (0xFu << 20)
#define SCB_DEMCR_TRCENA         (1u << 24)

/* SysTick (B3.3). */
#define SYST_CSR   REG32(0xE000E010u)
#define SYST_RVR   REG32(0xE000E014u)
#define SYST_CVR   REG32(0xE000E018u)

#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* 1: processor clock */

/* Data watchpoint and trace unit (C1.8). */
#define DWT_CTRL   REG32(0xE0001000u)
#define DWT_CYCCNT REG32(0xE0001004u)

#define DWT_CTRL_CYCCNTENA (1u << 0)

#endif /* BOARD_REGS_H */
