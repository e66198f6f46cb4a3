/*
 * reporthtml.c - `report --format html`: one self-contained page.
 *
 * Owns the page: the search's table (sortable by a few lines of inline
 * script that only reorders rows already in the DOM), a timeline of each
 * group's connections (one bar per connection, coloured by sensor), bytes
 * sent and received per group, and each group's reasons, drawn as inline
 * SVG by this file.  Nothing is fetched: a Content-Security-Policy forbids
 * every source but the page itself.  Every string from the logs (wire
 * strings included) is first spelled out where it holds control characters
 * (escape.h) and then HTML-escaped; none is ever placed inside the script.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "report.h"

#define W_LABEL 330   /* px for row labels in the charts */
#define W_PLOT 640    /* px for the plot area */
#define ROW_H 22

static const char *const palette[] = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd",
				       "#ff7f0e", "#17becf", "#8c564b", "#e377c2" };

/* Text for HTML content or a quoted attribute. */
static void html(FILE *out, const char *s)
{
	size_t n = strlen(s), cap = n * 10 + 1;
	char *e = malloc(cap);
	if (!e)
		return;
	sn_escape_text(s, n, e, cap, NULL);
	for (const char *p = e; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*p, out);
		}
	}
	free(e);
}

static double seconds(const char *iso)
{
	return (double)sn_report_time_us(iso) / 1e6;
}

static void join(FILE *out, json_t *arr, const char *sep, const char *empty)
{
	size_t i;
	json_t *x;
	if (json_array_size(arr) == 0)
		fputs(empty, out);
	json_array_foreach(arr, i, x) {
		if (i)
			fputs(sep, out);
		html(out, json_string_value(x) ? json_string_value(x) : "");
	}
}

/* "src → dest:port PROTO" */
static void label(FILE *out, json_t *row)
{
	html(out, sn_report_str(row, "src_ip"));
	fputs(" \xe2\x86\x92 ", out);
	html(out, sn_report_str(row, "dest_ip"));
	fprintf(out, ":%" PRIu64 " ", sn_report_uint(row, "dest_port"));
	html(out, sn_report_str(row, "Protocol"));
}

static const char *const cols[] = {
	"FirstSeen", "LastSeen", "src_ip", "dest_ip", "Protocol", "dest_port", "IsExternal",
	"process_name", "Users", "ConnectionCount", "BytesSent", "BytesReceived", "Suspicion",
};

static void table(FILE *out, json_t *rows)
{
	fputs("<h2>Groups</h2>\n<p class=\"hint\">Click a column to sort.</p>\n"
	      "<table id=\"groups\"><thead><tr>", out);
	for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
		bool numeric = c == 5 || c == 9 || c == 10 || c == 11;
		fprintf(out, "<th data-type=\"%s\">%s</th>", numeric ? "num" : "text", cols[c]);
	}
	fputs("<th data-type=\"text\">sensors</th></tr></thead>\n<tbody>\n", out);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		fprintf(out, "<tr class=\"group %s\" id=\"group-%zu\">", sn_report_str(row, "Suspicion")[0] == 'h' ? "high" : "medium", i + 1);
		for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
			json_t *v = json_object_get(row, cols[c]);
			fputs(json_is_integer(v) ? "<td class=\"num\">" : "<td>", out);
			if (json_is_integer(v))
				fprintf(out, "%lld", (long long)json_integer_value(v));
			else if (json_is_array(v))
				join(out, v, ", ", "-");
			else if (json_is_string(v))
				html(out, json_string_value(v));
			else
				fputs("-", out);
			fputs("</td>", out);
		}
		fputs("<td>", out);
		join(out, json_object_get(row, "sensors"), ", ", "-");
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
}

static int sensor_index(json_t *sensors, const char *name)
{
	size_t i;
	json_t *x;
	json_array_foreach(sensors, i, x)
		if (strcmp(json_string_value(x), name) == 0)
			return (int)i;
	json_array_append_new(sensors, json_string(name));
	return (int)json_array_size(sensors) - 1;
}

/*
 * One row per group on the group's own time scale (FirstSeen to LastSeen,
 * written at the right), one bar per connection coloured by its sensor: a
 * beacon's rhythm and a group split across sensors both show.
 */
static void timeline(FILE *out, json_t *rows)
{
	size_t i, j;
	json_t *row, *c;
	size_t n = json_array_size(rows);
	json_t *sensors = json_array();
	fprintf(out, "<h2>Connections over time</h2>\n<p class=\"hint\">Each row spans its group's "
		     "FirstSeen to LastSeen; one bar per connection, coloured by sensor.</p>\n"
		     "<svg id=\"timeline\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
		     "width=\"%d\" height=\"%zu\" role=\"img\">\n", W_LABEL + W_PLOT + 120, n * ROW_H + 12);
	json_array_foreach(rows, i, row) {
		double t0 = seconds(sn_report_str(row, "FirstSeen")), t1 = seconds(sn_report_str(row, "LastSeen"));
		double span = t1 > t0 ? t1 - t0 : 1;
		double y = (double)i * ROW_H + 6;
		fprintf(out, "<text x=\"4\" y=\"%.0f\" class=\"lbl\">", y + 13);
		label(out, row);
		fputs("</text>\n", out);
		fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.0f\" y2=\"%.0f\" class=\"grid\"/>\n", W_LABEL,
			W_LABEL + W_PLOT, y + 9, y + 9);
		json_array_foreach(json_object_get(row, "connections"), j, c) {
			double a = seconds(sn_report_str(c, "FirstSeen")) - t0, b = seconds(sn_report_str(c, "LastSeen")) - t0;
			double x = W_LABEL + a / span * (W_PLOT - 4), w = (b - a) / span * (W_PLOT - 4);
			int s = sensor_index(sensors, sn_report_str(c, "sensor"));
			fprintf(out, "<rect class=\"conn\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"14\" fill=\"%s\">"
				     "<title>", x, y + 2, w < 4 ? 4 : w, palette[(size_t)s % 8]);
			html(out, sn_report_str(c, "sensor"));
			fputs(": ", out);
			html(out, sn_report_str(c, "FirstSeen"));
			fputs(" \xe2\x80\x93 ", out);
			html(out, sn_report_str(c, "LastSeen"));
			fprintf(out, ", %" PRIu64 " B sent, %" PRIu64 " B received</title></rect>\n",
				sn_report_uint(c, "BytesSent"), sn_report_uint(c, "BytesReceived"));
		}
		fprintf(out, "<text x=\"%d\" y=\"%.0f\" class=\"axis\">%.3f s</text>\n", W_LABEL + W_PLOT + 8,
			y + 13, t1 - t0);
	}
	fputs("</svg>\n<p class=\"legend\">", out);
	json_array_foreach(sensors, i, c) {
		fprintf(out, "<span style=\"color:%s\">&#9632;</span> sensor ", palette[i % 8]);
		html(out, json_string_value(c));
		fputs(" &nbsp; ", out);
	}
	fputs("</p>\n", out);
	json_decref(sensors);
}

static void bytes_chart(FILE *out, json_t *rows)
{
	uint64_t max = 1;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		uint64_t t = sn_report_uint(row, "BytesSent") + sn_report_uint(row, "BytesReceived");
		if (t > max)
			max = t;
	}
	size_t n = json_array_size(rows);
	fprintf(out, "<h2>Bytes per group</h2>\n<svg id=\"bytes\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
		     "width=\"%d\" height=\"%zu\" role=\"img\">\n", W_LABEL + W_PLOT + 120, n * ROW_H + 20);
	json_array_foreach(rows, i, row) {
		double y = (double)i * ROW_H + 6;
		uint64_t s = sn_report_uint(row, "BytesSent"), r = sn_report_uint(row, "BytesReceived");
		double ws = (double)s / (double)max * W_PLOT, wr = (double)r / (double)max * W_PLOT;
		fprintf(out, "<text x=\"4\" y=\"%.0f\" class=\"lbl\">", y + 13);
		label(out, row);
		fprintf(out, "</text>\n<rect x=\"%d\" y=\"%.0f\" width=\"%.1f\" height=\"14\" class=\"sent\">"
			     "<title>%" PRIu64 " B sent</title></rect>\n", W_LABEL, y + 2, ws, s);
		fprintf(out, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"14\" class=\"recv\">"
			     "<title>%" PRIu64 " B received</title></rect>\n", W_LABEL + ws, y + 2, wr, r);
		fprintf(out, "<text x=\"%.1f\" y=\"%.0f\" class=\"val\">%" PRIu64 " / %" PRIu64 "</text>\n",
			W_LABEL + ws + wr + 6, y + 13, s, r);
	}
	fputs("</svg>\n<p class=\"legend\"><span class=\"sent-k\">&#9632;</span> sent (client to broker) "
	      "&nbsp; <span class=\"recv-k\">&#9632;</span> received</p>\n", out);
}

static void reasons(FILE *out, json_t *rows)
{
	fputs("<h2>Why each group was rated</h2>\n", out);
	size_t i, j;
	json_t *row, *x;
	json_array_foreach(rows, i, row) {
		fprintf(out, "<section class=\"why\" id=\"why-%zu\"><h3>", i + 1);
		label(out, row);
		fputs(" &mdash; ", out);
		html(out, sn_report_str(row, "Suspicion"));
		fputs("</h3>\n<ul>\n", out);
		json_array_foreach(json_object_get(row, "reasons"), j, x) {
			fputs("<li>", out);
			html(out, json_string_value(x) ? json_string_value(x) : "");
			fputs("</li>\n", out);
		}
		fputs("</ul></section>\n", out);
	}
}

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}"
	"table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #ccc;padding:3px 6px;white-space:nowrap}"
	"th{background:#eee;cursor:pointer}td.num{text-align:right}tr.high td:nth-child(13){color:#b00;font-weight:bold}"
	".chart{background:#fafafa;border:1px solid #ddd}.lbl{font:11px monospace}.axis{font:11px sans-serif;fill:#555}"
	".grid{stroke:#e4e4e4}.sent{fill:#1f77b4}.recv{fill:#ff7f0e}.sent-k{color:#1f77b4}.recv-k{color:#ff7f0e}"
	".val{font:11px sans-serif;fill:#333}.hint,.legend{color:#555;font-size:12px}section.why h3{font-size:13px;margin:10px 0 2px}";

/* Sorts the table's rows already in the DOM; no data from the logs in here. */
static const char script[] =
	"document.querySelectorAll('#groups th').forEach(function(th,col){"
	"th.addEventListener('click',function(){"
	"var tb=document.querySelector('#groups tbody');var rows=Array.prototype.slice.call(tb.rows);"
	"var num=th.getAttribute('data-type')==='num';var dir=th.getAttribute('data-dir')==='asc'?-1:1;"
	"th.setAttribute('data-dir',dir===1?'asc':'desc');"
	"rows.sort(function(a,b){var x=a.cells[col].textContent,y=b.cells[col].textContent;"
	"return dir*(num?(Number(x)-Number(y)):x.localeCompare(y));});"
	"rows.forEach(function(r){tb.appendChild(r);});});});";

void sn_report_html(FILE *out, json_t *rows, char *const *logs, size_t n_logs)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
	      "<title>pubsub-sensor report</title>\n<style>", out);
	fputs(style, out);
	fputs("</style></head>\n<body>\n<h1>pubsub-sensor report: pub/sub command and control (T1071.005)</h1>\n", out);
	fprintf(out, "<p id=\"summary\">%zu groups met the rule in %zu event log%s: ", json_array_size(rows),
		n_logs, n_logs == 1 ? "" : "s");
	for (size_t i = 0; i < n_logs; i++) {
		if (i)
			fputs(", ", out);
		fputs("<code>", out);
		html(out, logs[i]);
		fputs("</code>", out);
	}
	fputs(".</p>\n", out);
	table(out, rows);
	if (json_array_size(rows)) {
		timeline(out, rows);
		bytes_chart(out, rows);
		reasons(out, rows);
	}
	fputs("<script>", out);
	fputs(script, out);
	fputs("</script>\n</body></html>\n", out);
}
