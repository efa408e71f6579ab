// SPDX-License-Identifier: GPL-2.0
/* Promotion outcomes shared by the backends: names, classes, accounting. */
#include <stddef.h>

#include "promote.h"

#define OUTCOME_NAME(id, name, text) [HP_PROMOTE_##id] = #name,
static const char *const outcome_names[HP_PROMOTE_NR_OUTCOMES] = { HP_PROMOTE_OUTCOMES(
	OUTCOME_NAME) };
#undef OUTCOME_NAME

#define OUTCOME_TEXT(id, name, text) [HP_PROMOTE_##id] = (text),
static const char *const outcome_texts[HP_PROMOTE_NR_OUTCOMES] = { HP_PROMOTE_OUTCOMES(
	OUTCOME_TEXT) };
#undef OUTCOME_TEXT

const char *hp_promote_outcome_name(enum hp_promote_outcome outcome)
{
	return outcome < HP_PROMOTE_NR_OUTCOMES ? outcome_names[outcome] : "invalid";
}

const char *hp_promote_outcome_text(enum hp_promote_outcome outcome)
{
	return outcome < HP_PROMOTE_NR_OUTCOMES ? outcome_texts[outcome] : "invalid outcome";
}

enum hp_promote_class hp_promote_outcome_class(enum hp_promote_outcome outcome)
{
	switch (outcome) {
	case HP_PROMOTE_MOVED:
	case HP_PROMOTE_QUEUED:
		return HP_PROMOTE_SUCCESS;
	case HP_PROMOTE_BUSY:
	case HP_PROMOTE_SHARED:
	case HP_PROMOTE_NOMEM:
	case HP_PROMOTE_NOT_MIGRATED:
	case HP_PROMOTE_OTHER:
		return HP_PROMOTE_FAILED;
	default:
		return HP_PROMOTE_REFUSED;
	}
}

void hp_promote_account(struct hp_promote_result *res, size_t index,
			enum hp_promote_outcome outcome)
{
	if (res->outcome)
		res->outcome[index] = (__u8)outcome;
	res->count[outcome]++;
}
