#!/usr/bin/env bash
# bench/summarize.sh RESULT_DIR - print the markdown table (medians over rounds)
# and issue 2's target ratios from RESULT_DIR/raw.tsv written by bench/run.sh.
set -euo pipefail
DIR="${1:?usage: bench/summarize.sh RESULT_DIR}"
RAW="$DIR/raw.tsv"
[ -f "$RAW" ] || { echo "no $RAW" >&2; exit 1; }
# paced runs (RATE=N): every target gets the same offered load, so the
# throughput ratio says nothing; latency at equal load is the point.
RATE=$(sed -n 's/.* RATE=\([0-9][0-9]*\).*/\1/p' "$DIR/meta.txt" 2>/dev/null | head -n1)

awk -F'\t' -v rate="${RATE:-}" '
function median(key,   n, i, j, v, tmp) {
  n = cnt[key]; if (n == 0) return "NA"
  for (i = 1; i <= n; i++) tmp[i] = val[key, i]
  for (i = 2; i <= n; i++) { v = tmp[i]; j = i - 1; while (j >= 1 && tmp[j] > v) { tmp[j + 1] = tmp[j]; j-- } tmp[j + 1] = v }
  if (n % 2) return tmp[(n + 1) / 2]
  return (tmp[n / 2] + tmp[n / 2 + 1]) / 2
}
function add(key, v) { if (v == "NA" || v == "") return; cnt[key]++; val[key, cnt[key]] = v + 0 }
function range(c, what,   r, lo, hi, x, first, d) {   # min-max of per-round ratios g/peer (g, peer: global)
  first = 1
  for (r = 1; r <= maxround; r++) {
    if (!((r, c, g, what) in rv) || !((r, c, peer, what) in rv)) continue
    if (what == "p99") {
      if (!((r, c, "direct", what) in rv)) continue
      d = rv[r, c, peer, what] - rv[r, c, "direct", what]
      if (d <= 0) continue
      x = (rv[r, c, g, what] - rv[r, c, "direct", what]) / d
    } else {
      if (rv[r, c, peer, what] + 0 == 0) continue
      x = rv[r, c, g, what] / rv[r, c, peer, what]
    }
    if (first || x < lo) lo = x
    if (first || x > hi) hi = x
    first = 0
  }
  if (first) return ""
  return sprintf(" (rounds %.2f-%.2f)", lo, hi)
}
function verdict(ok) { return ok ? "**PASS**" : "**FAIL**" }
NR == 1 { next }
{
  r = $1; c = $2; t = $3
  if (!(c in seenc)) { seenc[c] = 1; corder[++nc] = c }
  if (!(t in seent)) { seent[t] = 1; torder[++ntg] = t }
  if (r > maxround) maxround = r
  add(c SUBSEP t SUBSEP "rps", $6); add(c SUBSEP t SUBSEP "p50", $7); add(c SUBSEP t SUBSEP "p99", $9)
  add(c SUBSEP t SUBSEP "cpu", $14); add(c SUBSEP t SUBSEP "fcpu", $15)
  if (NF >= 18) { add(c SUBSEP t SUBSEP "ucpu", $17); add(c SUBSEP t SUBSEP "kcpu", $18) }
  err[c, t] += $13; rounds[c, t]++
  rv[r, c, t, "rps"] = $6; rv[r, c, t, "p99"] = $9; if ($14 != "NA") rv[r, c, t, "cpu"] = $14
}
END {
  # fixed display order when present
  n = 0; npref = split("direct nginx nginx-log llmgate llmgate-nolog", pref, " ")
  for (i = 1; i <= npref; i++) { known[pref[i]] = 1; if (pref[i] in seent) tl[++n] = pref[i] }
  for (i = 1; i <= ntg; i++) if (!(torder[i] in known)) tl[++n] = torder[i]
  # Pairs judged against issue 2: each llmgate target against nginx (no
  # access log); llmgate (its default: access log on) also against
  # nginx-log, the like-for-like peer, when that ran.
  ng = 0
  for (i = 1; i <= n; i++) if (tl[i] ~ /^llmgate/) {
    gates[++ng] = tl[i]; peers[ng] = "nginx"
    if (tl[i] == "llmgate" && ("nginx-log" in seent)) { gates[++ng] = tl[i]; peers[ng] = "nginx-log" }
  }

  if (rate != "") { print "Paced run: " rate " req/s offered to every target (Poisson arrivals), i.e. latency at equal load."; print "" }
  print "| conns | target | req/s | x nginx | p50 ms | p99 ms | +p50 ms vs direct | +p99 ms vs direct | CPU us/req (own process) | fakellm CPU us/req | errors + non-2xx | rounds |"
  print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (ci = 1; ci <= nc; ci++) {
    c = corder[ci]
    for (i = 1; i <= n; i++) {
      t = tl[i]; if (!((c, t) in rounds)) continue
      rps = median(c SUBSEP t SUBSEP "rps"); p50 = median(c SUBSEP t SUBSEP "p50"); p99 = median(c SUBSEP t SUBSEP "p99")
      cpu = median(c SUBSEP t SUBSEP "cpu"); fcpu = median(c SUBSEP t SUBSEP "fcpu")
      ucpu = median(c SUBSEP t SUBSEP "ucpu"); kcpu = median(c SUBSEP t SUBSEP "kcpu")
      cpus = (cpu == "NA" ? "NA" : sprintf("%.1f", cpu))
      if (cpu != "NA" && ucpu != "NA" && kcpu != "NA") cpus = cpus sprintf(" (user %.1f, sys %.1f)", ucpu, kcpu)
      dp99 = median(c SUBSEP "direct" SUBSEP "p99"); dp50 = median(c SUBSEP "direct" SUBSEP "p50"); nrps = median(c SUBSEP "nginx" SUBSEP "rps")
      xn = (nrps != "NA" && nrps > 0) ? sprintf("%.2f", rps / nrps) : "-"
      add99 = (t == "direct" || dp99 == "NA") ? "-" : sprintf("%+.2f", (p99 - dp99) / 1000)
      add50 = (t == "direct" || dp50 == "NA") ? "-" : sprintf("%+.2f", (p50 - dp50) / 1000)
      printf "| %s | %s | %.0f | %s | %.2f | %.2f | %s | %s | %s | %s | %d | %d |\n", c, t, rps, xn, p50 / 1000, p99 / 1000, add50, add99, \
        cpus, (t == "direct" ? "(same)" : (fcpu == "NA" ? "NA" : sprintf("%.1f", fcpu))), err[c, t], rounds[c, t]
    }
  }
  if (ng == 0 || !(("nginx") in seent)) exit
  print ""
  print "Targets of issue 2 (vs the peer, ratio of medians over rounds; per-round ratio range in brackets):"
  print ""
  print "| target | peer | conns | req/s vs peer (>= 0.8) | CPU us/req vs peer (<= 1.5) | added p99 over direct vs peer (<= 2) |"
  print "|---|---|---:|---|---|---|"
  for (gi = 1; gi <= ng; gi++) {
  g = gates[gi]; peer = peers[gi]; allok = 1
  for (ci = 1; ci <= nc; ci++) {
    c = corder[ci]
    lr = median(c SUBSEP g SUBSEP "rps"); nr = median(c SUBSEP peer SUBSEP "rps")
    lc = median(c SUBSEP g SUBSEP "cpu"); ncp = median(c SUBSEP peer SUBSEP "cpu")
    lp = median(c SUBSEP g SUBSEP "p99"); np = median(c SUBSEP peer SUBSEP "p99"); dp = median(c SUBSEP "direct" SUBSEP "p99")
    if (rate != "") { s1 = sprintf("n/a (paced at %s req/s; measured %.2f)", rate, (nr > 0 ? lr / nr : 0)) }
    else if (lr == "NA" || nr == "NA" || nr <= 0) { s1 = "n/a"; allok = 0 }
    else { x = lr / nr; ok = (x >= 0.8); allok = allok && ok; s1 = sprintf("%.2f %s%s", x, verdict(ok), range(c, "rps")) }
    if (lc == "NA" || ncp == "NA" || ncp <= 0) { s2 = "n/a"; allok = 0 }
    else { x = lc / ncp; ok = (x <= 1.5); allok = allok && ok; s2 = sprintf("%.2f %s%s", x, verdict(ok), range(c, "cpu")) }
    if (lp == "NA" || np == "NA" || dp == "NA") { s3 = "n/a"; allok = 0 }
    else {
      la = (lp - dp) / 1000; na = (np - dp) / 1000
      if (la <= 0) { ok = 1; s3 = sprintf("%s: adds nothing measurable (%+.2f ms vs nginx %+.2f ms)", verdict(ok), la, na) }
      else if (na > 0) { x = la / na; ok = (x <= 2); s3 = sprintf("%.2f %s (%+.2f ms vs %+.2f ms)%s", x, verdict(ok), la, na, range(c, "p99")) }
      else { ok = (la <= 0); s3 = sprintf("n/a: nginx adds %+.2f ms, this one %+.2f ms %s", na, la, verdict(ok)) }
      allok = allok && ok
    }
    printf "| %s | %s | %s | %s | %s | %s |\n", g, peer, c, s1, s2, s3
  }
  verdicts = verdicts sprintf("%s vs %s, all targets%s: %s\n", g, peer, (rate != "" ? " measured in this paced run" : ""), (allok ? "PASS" : "FAIL"))
  }
  print ""
  printf "%s", verdicts
}' "$RAW"

if [ -f "$DIR/mem.tsv" ]; then
  echo
  echo "Memory (RSS of the process tree, kB):"
  echo
  echo "| target | idle | after the run | peak (VmHWM) |"
  echo "|---|---:|---:|---:|"
  awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s |\n", $1, $3, $4, $5 }' "$DIR/mem.tsv"
fi
