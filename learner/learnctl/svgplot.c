// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "svgplot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ML 80  /* margins */
#define MR 190 /* legend */
#define PW (SVG_W - ML - MR)
#define FT 24  /* panel title above the frame */
#define PH 200 /* frame height */

#define C_IN_FORCE "#2ca02c"
#define C_DEFAULT "#7f7f7f"
#define C_POINT "#1f77b4"
#define C_FAILED "#d62728"

static const char *const colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
				      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };

static const char *color(size_t i)
{
	return colors[i % (sizeof(colors) / sizeof(colors[0]))];
}

int svg_series_add(struct svg_series *s, double x, double y, const char *tip)
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
		char **nt = realloc(s->tip, cap * sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		s->tip = nt;
		s->cap = cap;
	}
	s->tip[s->n] = NULL;
	if (tip && !(s->tip[s->n] = strdup(tip)))
		return -ENOMEM;
	s->x[s->n] = x;
	s->y[s->n] = y;
	s->n++;
	return 0;
}

void svg_series_free(struct svg_series *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->tip[i]);
	free(s->tip);
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
		default:
			/* control characters are not XML 1.0; a tab or newline is kept */
			fputc((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' ? ' ' : *s, f);
			break;
		}
	}
}

/* <title>tip</title> (nothing for NULL). */
static void title(FILE *f, const char *tip)
{
	if (!tip || !*tip)
		return;
	fputs("<title>", f);
	xml(f, tip);
	fputs("</title>", f);
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
	double x0, x1, y0, y1, top, bottom;
};

static double px(const struct frame *fr, double x)
{
	return ML + (x - fr->x0) / (fr->x1 - fr->x0) * PW;
}

static double py(const struct frame *fr, double y)
{
	return fr->bottom - (y - fr->y0) / (fr->y1 - fr->y0) * PH;
}

/* A y range over [lo, hi] of finite values: from 0 when 0 is near, with room
 * above (head: the share of the range added on top). */
static void yrange(double lo, double hi, double head, double *y0, double *y1)
{
	if (!isfinite(lo) || !isfinite(hi)) {
		lo = 0;
		hi = 1;
	}
	if (lo > 0 && lo < 1.5 * (hi - lo))
		lo = 0;
	if (hi - lo < 1e-9) {
		hi += fabs(hi) * 0.1 + 1;
		lo -= fabs(lo) * 0.1;
	} else {
		hi += (hi - lo) * head;
	}
	*y0 = lo;
	*y1 = hi;
}

/* Title, frame, horizontal grid lines with their labels, the y axis' title. */
static void frame_draw(FILE *f, const struct frame *fr, const char *ttl, const char *ylabel)
{
	double step = nice_step(fr->y1 - fr->y0, 5);

	fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\">", ML, fr->top - 8);
	xml(f, ttl);
	fprintf(f, "</text>\n<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", ML,
		fr->top, PW, PH);
	for (double y = ceil(fr->y0 / step) * step; y <= fr->y1 + 1e-9; y += step)
		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			   "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			ML, ML + PW, py(fr, y), py(fr, y), ML - 6, py(fr, y) + 4, fabs(y) < step * 1e-6 ? 0.0 : y);
	fprintf(f, "<text transform=\"translate(18,%.1f) rotate(-90)\" text-anchor=\"middle\">", fr->top + PH / 2.0);
	xml(f, ylabel);
	fprintf(f, "</text>\n");
}

static void x_title(FILE *f, const struct frame *fr, const char *xlabel)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#444\">", ML + PW / 2.0, fr->bottom + 34);
	xml(f, xlabel);
	fprintf(f, "</text>\n");
}

/* A legend entry (the i-th) right of the frame: a swatch drawn by the caller's
 * format (one %s: its x), then the label. */
static void legend(FILE *f, const struct frame *fr, size_t i, const char *swatch, const char *col, const char *label)
{
	double ly = fr->top + 14 + 16.0 * (double)i, lx = ML + PW + 10;

	if (ly > fr->bottom - 4)
		return;
	if (!strcmp(swatch, "line"))
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>", lx,
			lx + 20, ly - 4, ly - 4, col);
	else if (!strcmp(swatch, "dash"))
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\" "
			   "stroke-dasharray=\"5,4\"/>", lx, lx + 20, ly - 4, ly - 4, col);
	else if (!strcmp(swatch, "band"))
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"20\" height=\"12\" fill=\"%s\" fill-opacity=\"0.3\"/>", lx,
			ly - 10, col);
	else
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>", lx + 10, ly - 4, col);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", lx + 26, ly);
	xml(f, label);
	fprintf(f, "</text>\n");
}

void svg_begin(FILE *f, int h, const char *ttl, const char *subtitle)
{
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		   "font-family=\"sans-serif\" font-size=\"12\">\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		SVG_W, h, SVG_W, h);
	fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">", ML);
	xml(f, ttl);
	fprintf(f, "</text>\n");
	if (subtitle) {
		fprintf(f, "<text x=\"%d\" y=\"42\" fill=\"#666\">", ML);
		xml(f, subtitle);
		fprintf(f, "</text>\n");
	}
}

int svg_end(FILE *f)
{
	fputs("</svg>\n", f);
	return fflush(f) || ferror(f) ? -EIO : 0;
}

void svg_text(FILE *f, double y, bool bold, const char *text)
{
	if (bold)
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\">", ML - 60, y);
	else
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#444\">", ML, y);
	xml(f, text);
	fprintf(f, "</text>\n");
}

/* Vertical time grid lines with their labels. */
static void time_axis(FILE *f, const struct frame *fr)
{
	/* steps a clock reads easily: seconds, minutes, hours, days */
	static const double steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
					 10800, 21600, 43200, 86400, 172800, 604800 };
	char lab[32];
	double step = nice_step(fr->x1 - fr->x0, 6);

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && step > 1; i++)
		if (steps[i] * 6 >= fr->x1 - fr->x0 || i == sizeof(steps) / sizeof(steps[0]) - 1) {
			step = steps[i];
			break;
		}
	for (double x = ceil(fr->x0 / step) * step; x <= fr->x1; x += step) {
		time_label(x, fr->x1 - fr->x0, lab, sizeof(lab));
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
			   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			px(fr, x), px(fr, x), fr->top, fr->bottom, px(fr, x), fr->bottom + 16, lab);
	}
}

/* Series se of a time panel: its line (a step line holds each value until the
 * next), its points (dots, or markers with their hover text), its legend entry. */
static void time_series(FILE *f, const struct frame *fr, const struct svg_series *se, size_t s)
{
	const char *col = color(s);

	if (se->n && !se->dots) {
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s points=\"", se->dash ? C_DEFAULT : col,
			se->step ? "2.5" : "1.5", se->dash ? " stroke-dasharray=\"5,4\"" : "");
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
	}
	fputs("<g class=\"series\" data-label=\"", f);
	xml(f, se->label);
	fputs("\">", f);
	for (size_t i = 0; i < se->n; i++) {
		if (!isfinite(se->y[i]) || se->x[i] < fr->x0 || se->x[i] > fr->x1)
			continue;
		if (se->dash)
			continue;
		if (se->marks || se->dots || se->tip[i])
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"%s>", px(fr, se->x[i]), py(fr, se->y[i]),
				se->marks ? "4.5" : "3", se->marks ? "white" : col,
				se->marks ? " stroke=\"#000\" stroke-width=\"1.5\"" : " fill-opacity=\"0.7\"");
		else
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"%s\">", px(fr, se->x[i]), py(fr, se->y[i]),
				col);
		title(f, se->tip[i]);
		fputs("</circle>", f);
	}
	fputs("</g>\n", f);
	legend(f, fr, s, se->dots ? "dot" : se->dash ? "dash" : "line", se->dash ? C_DEFAULT : col, se->label);
}

void svg_time_panel(FILE *f, double top, const char *cls, const char *ttl, const char *ylabel, double x0,
		    double x1, const struct svg_series *s, size_t ns)
{
	struct frame fr = { .x0 = x0, .x1 = x1 > x0 ? x1 : x0 + 1, .top = top + FT, .bottom = top + FT + PH };
	double lo = INFINITY, hi = -INFINITY;

	for (size_t k = 0; k < ns; k++)
		for (size_t i = 0; i < s[k].n; i++)
			if (isfinite(s[k].y[i])) {
				lo = fmin(lo, s[k].y[i]);
				hi = fmax(hi, s[k].y[i]);
			}
	yrange(lo, hi, 0.08, &fr.y0, &fr.y1);
	fprintf(f, "<g class=\"%s\">\n", cls);
	frame_draw(f, &fr, ttl, ylabel);
	time_axis(f, &fr);
	for (size_t k = 0; k < ns; k++)
		time_series(f, &fr, &s[k], k);
	x_title(f, &fr, "time (UTC)");
	fputs("</g>\n", f);
}

/* The marks behind value i at x (slot width w): a band where it is in force,
 * a dashed line at the kernel default, with their words above the frame. */
static void value_marks(FILE *f, const struct frame *fr, const struct svg_value *v, double x, double w)
{
	if (v->kernel_default)
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\" fill-opacity=\"0.15\"/>"
			   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">"
			   "kernel default</text>\n",
			x - w / 2 + 1, fr->top, w - 2, PH, C_DEFAULT, x, fr->top + (v->in_force ? 25 : 12));
	if (v->in_force)
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\" fill-opacity=\"0.18\"/>"
			   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"%s\" "
			   "font-weight=\"bold\">in force</text>\n",
			x - w / 2 + 1, fr->top, w - 2, PH, C_IN_FORCE, x, fr->top + 12, C_IN_FORCE);
}

/* Value i's point: its interval with caps, the mean, n above the interval,
 * all in one group with the hover text. */
static void value_point(FILE *f, const struct frame *fr, const struct svg_value *v, double x)
{
	const char *col = v->in_force ? C_IN_FORCE : C_POINT;
	double y = py(fr, v->mean), yl, yh;

	title(f, v->tip);
	if (isfinite(v->ci)) {
		yl = py(fr, v->mean - v->ci);
		yh = py(fr, v->mean + v->ci);
		fprintf(f, "<path d=\"M%.1f,%.1fV%.1fM%.1f,%.1fh10M%.1f,%.1fh10\" stroke=\"%s\" stroke-width=\"1.5\" "
			   "fill=\"none\"/>",
			x, yl, yh, x - 5, yl, x - 5, yh, col);
	}
	fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"/>", x, y, v->in_force ? "6" : "4.5", col);
	fprintf(f, "<text class=\"n\" x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#333\">n=%lld</text>", x + 8,
		y + 4, v->n);
}

/* A value whose connections never established: no time to show, its n in red. */
static void value_failed(FILE *f, const struct frame *fr, const struct svg_value *v, double x)
{
	fputs("<g>", f);
	title(f, v->tip);
	fprintf(f, "<text class=\"n\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\" fill=\"%s\">"
		   "n=%lld</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\" fill=\"%s\">"
		   "none established</text></g>\n",
		x, fr->bottom - 20, C_FAILED, v->n, x, fr->bottom - 8, C_FAILED);
}

void svg_value_panel(FILE *f, double top, const char *ttl, const char *xlabel, const char *ylabel,
		     const struct svg_value *v, size_t n)
{
	struct frame fr = { .x0 = 0, .x1 = 1, .top = top + FT, .bottom = top + FT + PH };
	double hi = -INFINITY, w = n ? (double)PW / (double)n : PW;

	for (size_t i = 0; i < n; i++) {
		double ci = isfinite(v[i].ci) ? v[i].ci : 0;

		if (!isfinite(v[i].mean))
			continue;
		hi = fmax(hi, v[i].mean + ci);
	}
	/* from 0 (a cost), with room above the highest interval for the marks' words */
	yrange(0, hi, 0.2, &fr.y0, &fr.y1);
	fputs("<g class=\"values\">\n", f);
	frame_draw(f, &fr, ttl, ylabel);
	for (size_t i = 0; i < n; i++) {
		double x = ML + w * ((double)i + 0.5);

		/* the classes say what is marked (tests read them) */
		fprintf(f, "<g class=\"value%s%s%s\" data-value=\"%lld\">",
			isfinite(v[i].mean) ? "" : v[i].n ? " failed" : " untried",
			v[i].in_force ? " in-force" : "", v[i].kernel_default ? " kernel-default" : "",
			strtoll(v[i].label, NULL, 10));
		value_marks(f, &fr, &v[i], x, w);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\"%s%s>", x, fr.bottom + 16,
			v[i].in_force ? " font-weight=\"bold\"" : "", w < 60 ? " font-size=\"10\"" : "");
		xml(f, v[i].label);
		fprintf(f, "</text>\n");
		if (isfinite(v[i].mean))
			value_point(f, &fr, &v[i], x);
		else if (v[i].n)
			value_failed(f, &fr, &v[i], x);
		else
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\" fill=\"#888\">"
				   "not tried</text>\n", x, fr.bottom - 8);
		fputs("</g>\n", f);
	}
	legend(f, &fr, 0, "dot", C_POINT, "mean, 95% interval");
	legend(f, &fr, 1, "dot", C_IN_FORCE, "value in force");
	legend(f, &fr, 2, "band", C_DEFAULT, "kernel default");
	legend(f, &fr, 3, "none", "none", "n = connections");

	x_title(f, &fr, xlabel);
	fputs("</g>\n", f);
}

void svg_section(FILE *f, const char *name)
{
	if (!name) {
		fputs("</g>\n", f);
		return;
	}
	fputs("<g class=\"param\" data-param=\"", f);
	xml(f, name);
	fputs("\">\n", f);
}
