# Reads lines "NAME VALUE" (VALUE in nanoseconds) and prints, for each
# name, the median and range in milliseconds; with -v a=NAME -v b=NAME,
# also the ratio of their medians, labelled -v ratio=LABEL. Used by the
# bench scripts, which run two tools in turns.
{ v[$1] = v[$1] " " $2 }
END {
  for (k in v) {
    c = split(v[k], s, " "); asort(s)
    m = (c % 2) ? s[(c + 1) / 2] : (s[c / 2] + s[c / 2 + 1]) / 2
    med[k] = m
    printf "%-40s median %.3f ms (range %.3f-%.3f ms, %d runs)\n", k, m / 1e6, s[1] / 1e6, s[c] / 1e6, c
  }
  if (a != "" && med[a] && med[b]) printf "%s: %.2f\n", ratio, med[a] / med[b]
}
