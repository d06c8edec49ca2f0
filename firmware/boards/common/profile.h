/*
 * Per-layer profile (build option TC_PROFILE): the generated tc_model_invoke()
 * calls tc_profile_mark(layer) after each layer; a mark records the counter
 * span since the cc_start() of the inference (cumulative, so no counter restart
 * inside the measured region). The host turns the spans into instructions with
 * its CountModel and takes differences; each layer then also carries one mark
 * (a call and a counter read, a few tens of instructions).
 */
#ifndef BOARD_PROFILE_H
#define BOARD_PROFILE_H

#include <stdint.h>

/* Marks kept per inference; later ones are dropped (and reported as dropped). */
#define TC_PROFILE_MAX_MARKS 256u

void tc_profile_reset(void);
void tc_profile_mark(uint32_t layer);
/* Print "LAYER <i> ticks=<t> wraps=<w>" per mark of the last inference. */
void tc_profile_print(void);

#endif /* BOARD_PROFILE_H */
