/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A minimal SVG line-plot writer for learnctl plot: stacked panels sharing a
 * time axis, each with a few series (polyline or step line) and a legend.
 * Text is XML-escaped; no external tools.
 */
#ifndef LEARND_SVGPLOT_H
#define LEARND_SVGPLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct svg_series {
	char label[64];
	double *x, *y; /* x: seconds since the epoch */
	size_t n, cap;
	bool step;     /* hold each value until the next point (and to the end) */
};

struct svg_panel {
	const char *ylabel;
	struct svg_series *s;
	size_t ns;
};

/* Append a point (grows the arrays); 0 or -ENOMEM. */
int svg_series_add(struct svg_series *s, double x, double y);
void svg_series_free(struct svg_series *s);
/* Write the whole document.  x0 < x1: the time range shown. */
int svg_plot(FILE *f, const char *title, double x0, double x1, const struct svg_panel *panels, size_t np);

#endif
