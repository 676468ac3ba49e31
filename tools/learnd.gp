# learnd.gp: learning over time for one prefix, from `learnctl export` CSV.
#
#   learnctl export --prefix 192.0.2.0/24 --from -1d -o agg.csv
#   learnctl export --prefix 192.0.2.0/24 --from -1d --what decisions -o dec.csv
#   gnuplot -e "agg='agg.csv'; dec='dec.csv'; param='iw'; out='learn.svg'" tools/learnd.gp
#
# Top: the value chosen for `param` over time (decisions: ts_ns, param,
# new_value).  Bottom: mean cost per value tried (aggregates: ts_ns, param,
# value, mean_cost), one line per value.  `values` lists the values to draw
# (default: learnd's grid plus common bounds); `dec` may be omitted.
# `learnctl plot PREFIX -o file.svg` draws the same without gnuplot.

if (!exists("agg")) agg = 'agg.csv'
if (!exists("param")) param = 'iw'
if (!exists("out")) out = 'learnd.svg'
if (!exists("values")) values = "1 2 4 6 8 10 14 20 28 40 56 64 80 100 112 128"

set terminal svg size 900,620 dynamic font "sans,11"
set output out
set datafile separator ","
set datafile missing NaN
set datafile columnheaders
set grid
set key outside right

# one time axis for both panels: the aggregates' range
stats agg using (column("ts_ns")/1e9) nooutput
set xrange [STATS_min:STATS_max]
set xdata time
set timefmt "%s"
set format x "%m-%d\n%H:%M"

set multiplot layout 2,1 title sprintf("learnd: %s over time", param)

set ylabel sprintf("%s chosen", param)
if (exists("dec")) {
    plot dec using (column("ts_ns")/1e9):(strcol("param") eq param ? column("new_value") : NaN) \
         with steps lw 2 title sprintf("%s chosen", param), \
         dec using (column("ts_ns")/1e9):(strcol("param") eq param ? column("new_value") : NaN) with points pt 7 notitle
} else {
    unset ylabel
    set label 1 "no decisions file (dec='...')" at graph 0.5, 0.5 center
    plot NaN notitle
    unset label 1
}

set ylabel "mean connection time (ms)"
set yrange [0:*]
# rows of other parameters and values become NaN, which `set datafile missing
# NaN` skips without breaking the line of each value
plot for [v in values] agg using (column("ts_ns")/1e9): \
     ((strcol("param") eq param && strcol("value") eq v) ? column("mean_cost") : NaN) \
     with linespoints pt 7 ps 0.4 title sprintf("%s=%s", param, v)

unset multiplot
