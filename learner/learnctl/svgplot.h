/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A minimal SVG writer for learnctl plot: a document of stacked panels, each
 * either a time panel (a few series against UTC time: lines, step lines, dots,
 * markers) or a value panel (one point per value of a parameter: mean with its
 * interval, the count beside it, the value in force and the kernel default
 * marked).  Every point can carry hover text (<title>).  Text is XML-escaped;
 * no external tools.  The caller lays the panels out from the heights below.
 */
#ifndef LEARND_SVGPLOT_H
#define LEARND_SVGPLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SVG_W 940        /* document width */
#define SVG_PANEL 280    /* a panel's height: its title, frame, axis labels */
#define SVG_HEADING 30   /* a section heading */
#define SVG_LINE 15      /* a line of svg_text */

struct svg_series {
	char label[64];
	double *x, *y;  /* x: seconds since the epoch */
	char **tip;     /* hover text per point (entries may be NULL), owned */
	size_t n, cap;
	bool step;      /* hold each value until the next point (and to the end) */
	bool dots;      /* points only, no line */
	bool marks;     /* a marker at every point (on a step line: where it changes) */
	bool dash;      /* a grey dashed line (a reference: the kernel's value) */
};

/* Append a point with its hover text (NULL: none; copied); 0 or -ENOMEM. */
int svg_series_add(struct svg_series *s, double x, double y, const char *tip);
void svg_series_free(struct svg_series *s);

/* One value of a value panel. */
struct svg_value {
	char label[32];      /* under the axis: the value */
	double mean, ci;     /* mean and half-width of its interval (NAN: not tried / unknown) */
	long long n;         /* written beside the point */
	bool in_force, kernel_default;
	char tip[400];       /* hover text */
};

/* The document: height h, a title line and a grey subtitle (NULL: none). */
void svg_begin(FILE *f, int h, const char *title, const char *subtitle);
/* 0, or -EIO when anything failed to be written. */
int svg_end(FILE *f);
/* A line of text at y (bold: a heading; else grey, small). */
void svg_text(FILE *f, double y, bool bold, const char *text);
/* A group <g class="param" data-param="name"> around a section; NULL closes it. */
void svg_section(FILE *f, const char *name);
/* Panels drawn from top to top + SVG_PANEL, each a <g>: a time panel of class
 * cls, its series <g class="series" data-label=...>; a value panel of class
 * "values", each value <g class="value [untried] [in-force] [kernel-default]"
 * data-value=...> with its count in <text class="n">. */
void svg_time_panel(FILE *f, double top, const char *cls, const char *title, const char *ylabel, double x0,
		    double x1, const struct svg_series *s, size_t ns);
void svg_value_panel(FILE *f, double top, const char *title, const char *xlabel, const char *ylabel,
		     const struct svg_value *v, size_t n);

#endif
