// SPDX-License-Identifier: GPL-2.0
/* hotpage-heatmap: the heat map on its own (hotpagectl heatmap runs the same code). */
#include "heatmap.h"

int main(int argc, char **argv)
{
	return hp_heatmap_main(argc, argv);
}
