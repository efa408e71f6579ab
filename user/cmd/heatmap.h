/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `heatmap`: a PNG of access heat over PFN ranges (y) and time (x), from
 * the hot set hotpaged publishes (hotpage/hot_pages.h), sampled once a
 * second, drawn by gnuplot (Debian gnuplot-nox, its png terminal).
 */
#ifndef HOTPAGE_HEATMAP_H
#define HOTPAGE_HEATMAP_H

/*
 * heatmap --png FILE [--seconds S] [--width W] [--height H] [--pin PATH]
 * (argv[0] is the command's name). 0 when FILE was written, 1 on an error
 * (message on stderr: no map, no gnuplot, gnuplot failed), 2 on a usage
 * error.
 */
int hp_heatmap_main(int argc, char **argv);

#endif /* HOTPAGE_HEATMAP_H */
