// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "svgplot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define W 900
#define PANEL_H 260
#define ML 80   /* margins */
#define MR 170  /* legend */
#define MT 40
#define GAP 50

static const char *const colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
				      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };

int svg_series_add(struct svg_series *s, double x, double y)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		double *nx = realloc(s->x, cap * sizeof(*nx));

		if (!nx)
			return -ENOMEM;
		s->x = nx;
		double *ny = realloc(s->y, cap * sizeof(*ny));

		if (!ny)
			return -ENOMEM;
		s->y = ny;
		s->cap = cap;
	}
	s->x[s->n] = x;
	s->y[s->n] = y;
	s->n++;
	return 0;
}

void svg_series_free(struct svg_series *s)
{
	free(s->x);
	free(s->y);
	memset(s, 0, sizeof(*s));
}

static void xml(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f); break;
		}
	}
}

/* A "nice" tick step for a range split in about n parts. */
static double nice_step(double range, int n)
{
	double raw = range / n, mag = pow(10, floor(log10(raw))), r = raw / mag;

	return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

static void time_label(double t, double span, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, span > 2 * 86400 ? "%m-%d %H:%M" : span > 600 ? "%H:%M" : "%H:%M:%S", &tm);
}

/* One panel's coordinates: data (x0..x1, y0..y1) to pixels. */
struct frame {
	double x0, x1, y0, y1, top, bottom, pw;
};

static double px(const struct frame *fr, double x)
{
	return ML + (x - fr->x0) / (fr->x1 - fr->x0) * fr->pw;
}

static double py(const struct frame *fr, double y)
{
	return fr->bottom - (y - fr->y0) / (fr->y1 - fr->y0) * PANEL_H;
}

/* The y range of a panel's finite values, with a margin, from 0 when 0 is near. */
static void panel_yrange(const struct svg_panel *pn, double *y0, double *y1)
{
	*y0 = INFINITY;
	*y1 = -INFINITY;
	for (size_t s = 0; s < pn->ns; s++)
		for (size_t i = 0; i < pn->s[s].n; i++) {
			if (!isfinite(pn->s[s].y[i]))
				continue;
			*y0 = fmin(*y0, pn->s[s].y[i]);
			*y1 = fmax(*y1, pn->s[s].y[i]);
		}
	if (!isfinite(*y0)) {
		*y0 = 0;
		*y1 = 1;
	}
	if (*y0 > 0 && *y0 < (*y1 - *y0))
		*y0 = 0;
	if (*y1 - *y0 < 1e-9) {
		*y1 += fabs(*y1) * 0.1 + 1;
		*y0 -= fabs(*y0) * 0.1;
	} else {
		*y1 += (*y1 - *y0) * 0.05;
	}
}

/* Frame, grid lines with their labels, and the y axis' title. */
static void panel_axes(FILE *f, const struct frame *fr, const char *ylabel)
{
	char lab[32];
	double step;

	fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", ML,
		fr->top, fr->pw, PANEL_H);
	step = nice_step(fr->y1 - fr->y0, 5);
	for (double y = ceil(fr->y0 / step) * step; y <= fr->y1 + 1e-9; y += step) {
		fprintf(f, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			   "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			ML, ML + fr->pw, py(fr, y), py(fr, y), ML - 6, py(fr, y) + 4, fabs(y) < step * 1e-6 ? 0.0 : y);
	}
	step = nice_step(fr->x1 - fr->x0, 6);
	if (step >= 60)
		step = ceil(step / 60) * 60;
	for (double x = ceil(fr->x0 / step) * step; x <= fr->x1; x += step) {
		time_label(x, fr->x1 - fr->x0, lab, sizeof(lab));
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
			   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			px(fr, x), px(fr, x), fr->top, fr->bottom, px(fr, x), fr->bottom + 16, lab);
	}
	fprintf(f, "<text transform=\"translate(18,%.1f) rotate(-90)\" text-anchor=\"middle\">", fr->top + PANEL_H / 2.0);
	xml(f, ylabel);
	fprintf(f, "</text>\n");
}

/* Series s of a panel: its line (a step line holds each value until the next),
 * dots on a plain one, and its legend entry. */
static void panel_series(FILE *f, const struct frame *fr, const struct svg_series *se, size_t s)
{
	const char *col = colors[s % (sizeof(colors) / sizeof(colors[0]))];
	double ly = fr->top + 14 + 16.0 * (double)s;

	if (se->n) {
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" points=\"", col,
			se->step ? "2.5" : "1.5");
		for (size_t i = 0; i < se->n; i++) {
			double x = fmax(fr->x0, fmin(fr->x1, se->x[i]));

			if (!isfinite(se->y[i]))
				continue;
			if (se->step && i > 0 && isfinite(se->y[i - 1]))
				fprintf(f, "%.1f,%.1f ", px(fr, x), py(fr, se->y[i - 1]));
			fprintf(f, "%.1f,%.1f ", px(fr, x), py(fr, se->y[i]));
		}
		if (se->step && isfinite(se->y[se->n - 1]))
			fprintf(f, "%.1f,%.1f", px(fr, fr->x1), py(fr, se->y[se->n - 1]));
		fprintf(f, "\"/>\n");
		if (!se->step)
			for (size_t i = 0; i < se->n; i++)
				if (isfinite(se->y[i]) && se->x[i] >= fr->x0 && se->x[i] <= fr->x1)
					fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"%s\"/>", px(fr, se->x[i]),
						py(fr, se->y[i]), col);
		fputc('\n', f);
	}
	if (ly < fr->bottom - 4) {
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>"
			   "<text x=\"%.1f\" y=\"%.1f\">",
			ML + fr->pw + 10, ML + fr->pw + 30, ly - 4, ly - 4, col, ML + fr->pw + 36, ly);
		xml(f, se->label);
		fprintf(f, "</text>\n");
	}
}

int svg_plot(FILE *f, const char *title, double x0, double x1, const struct svg_panel *panels, size_t np)
{
	int h = MT + (int)np * (PANEL_H + GAP) + 20;
	double pw = W - ML - MR;

	if (!(x1 > x0))
		x1 = x0 + 1;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		   "font-family=\"sans-serif\" font-size=\"12\">\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		W, h, W, h);
	fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">", ML);
	xml(f, title);
	fprintf(f, "</text>\n");

	for (size_t p = 0; p < np; p++) {
		const struct svg_panel *pn = &panels[p];
		struct frame fr = { .x0 = x0, .x1 = x1, .top = MT + (double)p * (PANEL_H + GAP), .pw = pw };

		fr.bottom = fr.top + PANEL_H;
		panel_yrange(pn, &fr.y0, &fr.y1);
		panel_axes(f, &fr, pn->ylabel);
		for (size_t s = 0; s < pn->ns; s++)
			panel_series(f, &fr, &pn->s[s], s);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#666\">time (UTC)</text>\n</svg>\n", ML, h - 4);
	return fflush(f) || ferror(f) ? -EIO : 0;
}
