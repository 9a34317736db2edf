# analyze.awk - turns ksm-sampler CSVs into benchmark metrics, and metric lines into the markdown summary (mawk-compatible).
#
#   awk -v mode=plateau [-v plateau_s=60] run.csv
#       median of merged pages (pages_sharing + ksm_zero_pages) over the last plateau_s seconds
#   awk -v mode=metrics -v ref=PAGES [-v page_kib=4 -v tail_s=120 -v min_steady_s=10] run.csv
#       one line of key=value metrics; t = sampler time (the sampler starts right before the controller)
#   awk -v mode=report [-v seconds=420] metrics.txt
#       markdown tables per scenario and the issue's target ratios; metrics.txt holds one line per run:
#       "scenario=S controller=C status=ok|skipped|aborted ref=R theo=T ref_kind=K <metrics> note=free text"
#   "-" marks a value that does not exist (e.g. t90 never reached).

BEGIN {
	if (mode == "")
		mode = "metrics"
	if (page_kib == "")
		page_kib = 4
	if (plateau_s == "")
		plateau_s = 60
	if (tail_s == "")
		tail_s = 120
	if (min_steady_s == "")
		min_steady_s = 10
	FS = (mode == "report") ? " " : ","
	ncp = split("30 60 120 180 240 300 360 420", cps, " ")
}

# ---------------------------------------------------------------- CSV modes

mode != "report" && FNR == 1 {
	for (i = 1; i <= NF; i++)
		col[$i] = i
	if (!("t_s" in col) || !("pages_sharing" in col)) {
		print "analyze.awk: " FILENAME ": not a ksm-sampler CSV" > "/dev/stderr"
		bad = 1
		exit 1
	}
	next
}

mode != "report" {
	if ($(col["t_s"]) == "" || $(col["pages_sharing"]) == "")
		next # a truncated last line
	n++
	t[n] = $(col["t_s"]) + 0
	m[n] = $(col["pages_sharing"]) + (("ksm_zero_pages" in col) ? $(col["ksm_zero_pages"]) : 0)
	cpu[n] = ("ksmd_cpu_s" in col) ? $(col["ksmd_cpu_s"]) + 0 : 0
	fs[n] = $(col["full_scans"]) + 0
	gp[n] = ("general_profit" in col) ? $(col["general_profit"]) : ""
	pts[n] = $(col["pages_to_scan"])
	slp[n] = $(col["sleep_millisecs"])
	adv[n] = ("advisor_mode" in col) ? $(col["advisor_mode"]) : ""
	avail[n] = ("mem_available_kib" in col) ? $(col["mem_available_kib"]) + 0 : -1
	# what KSM really saves in the workload's processes (sum of Anonymous - Pss_Anon), every few samples
	ps[n] = ("pss_saved_kib" in col) ? $(col["pss_saved_kib"]) : ""
	next
}

# Median of merged pages over samples with t >= from.
function median_from(from,    i, k, j, v, a) {
	k = 0
	for (i = 1; i <= n; i++)
		if (t[i] >= from) {
			v = m[i]
			for (j = k; j > 0 && a[j] > v; j--)
				a[j + 1] = a[j]
			a[j + 1] = v
			k++
		}
	if (k == 0)
		return 0
	return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}

function first_reach(level,    i) {
	for (i = 1; i <= n; i++)
		if (m[i] >= level)
			return i
	return 0
}

function csv_end(    i, j, i50, i90, out, d, p1, p10, sum, cnt, minav, c, best) {
	if (bad)
		return
	if (n == 0) {
		print "analyze.awk: " FILENAME ": no samples" > "/dev/stderr"
		exit 1
	}
	if (mode == "plateau") {
		printf "%d\n", median_from(t[n] - plateau_s)
		return
	}
	ref += 0
	i50 = ref > 0 ? first_reach(0.5 * ref) : 0
	i90 = ref > 0 ? first_reach(0.9 * ref) : 0
	out = "duration=" sprintf("%.1f", t[n] - t[1])
	out = out " t50=" (i50 ? sprintf("%.1f", t[i50]) : "-")
	out = out " t90=" (i90 ? sprintf("%.1f", t[i90]) : "-")
	out = out " cpu_to_t90=" (i90 ? sprintf("%.2f", cpu[i90] - cpu[1]) : "-")
	d = i90 ? t[n] - t[i90] : 0
	out = out " steady_cpu_per_min=" ((i90 && d >= min_steady_s) ? sprintf("%.2f", (cpu[n] - cpu[i90]) / d * 60) : "-")
	out = out " mean_cpu_pct=" ((t[n] > t[1]) ? sprintf("%.1f", (cpu[n] - cpu[1]) / (t[n] - t[1]) * 100) : "-")
	# peak ksmd CPU over 1 sample and over >= 10 s windows
	p1 = 0; p10 = 0; j = 1
	for (i = 2; i <= n; i++) {
		if (t[i] > t[i - 1] && (c = (cpu[i] - cpu[i - 1]) / (t[i] - t[i - 1]) * 100) > p1)
			p1 = c
		while (j < i && t[j + 1] <= t[i] - 10)
			j++
		if (t[i] - t[j] >= 10 && (c = (cpu[i] - cpu[j]) / (t[i] - t[j]) * 100) > p10)
			p10 = c
	}
	out = out sprintf(" peak_cpu_pct_1s=%.0f peak_cpu_pct_10s=%.0f", p1, p10)
	out = out sprintf(" final_merged=%d final_saved_mib=%.0f", m[n], m[n] * page_kib / 1024)
	sum = 0; cnt = 0; best = 0
	for (i = 1; i <= n; i++) {
		if (t[i] >= t[n] - tail_s) {
			sum += m[i]
			cnt++
		}
		if (m[i] > best)
			best = m[i]
	}
	out = out sprintf(" mean_saved_tail_mib=%.0f peak_saved_mib=%.0f", cnt ? sum / cnt * page_kib / 1024 : 0,
			  best * page_kib / 1024)
	# true saving: the counters above count a merged page that a write has copied again until ksmd
	# revisits it, so under churn they overstate; smaps_rollup does not
	sum = 0; cnt = 0; j = 0
	for (i = 1; i <= n; i++)
		if (ps[i] != "") {
			j = i
			if (t[i] >= t[n] - tail_s) {
				sum += ps[i]
				cnt++
			}
		}
	out = out " true_saved_tail_mib=" (cnt ? sprintf("%.0f", sum / cnt / 1024) : "-")
	# ksmd CPU over the same last tail_s seconds: what holding that saving costs
	for (i = 1; i < n && t[i] < t[n] - tail_s; i++)
		;
	out = out " tail_cpu_pct=" ((t[n] > t[i]) ? sprintf("%.1f", (cpu[n] - cpu[i]) / (t[n] - t[i]) * 100) : "-")
	out = out " true_saved_end_mib=" (j ? sprintf("%.0f", ps[j] / 1024) : "-")
	out = out " profit_mib=" (gp[n] == "" ? "-" : sprintf("%.0f", gp[n] / 1048576))
	out = out sprintf(" full_scans=%d", fs[n] - fs[1])
	out = out " pts_end=" (pts[n] == "" ? "-" : pts[n]) " sleep_end=" (slp[n] == "" ? "-" : slp[n])
	out = out " advisor_end=" (adv[n] == "" ? "-" : adv[n])
	out = out sprintf(" ksmd_cpu_before=%.1f", cpu[1])
	minav = -1
	for (i = 1; i <= n; i++)
		if (avail[i] >= 0 && (minav < 0 || avail[i] < minav))
			minav = avail[i]
	out = out " min_avail_mib=" (minav < 0 ? "-" : sprintf("%.0f", minav / 1024))
	# saved MiB at the checkpoints the run lasted for
	for (c = 1; c <= ncp; c++) {
		j = 0
		for (i = 1; i <= n; i++)
			if (t[i] <= cps[c] + 0.5)
				j = i
		out = out " saved_at_" cps[c] "=" ((t[n] >= cps[c] - 0.5 && j) ? sprintf("%.0f", m[j] * page_kib / 1024) : "-")
	}
	print out
}

# ---------------------------------------------------------------- report mode

mode == "report" && NF > 0 {
	nr++
	for (i = 1; i <= NF; i++) {
		if (substr($i, 1, 5) == "note=") {
			# the free-text note is last and may contain spaces
			R[nr, "note"] = substr($0, index($0, " note=") + 6)
			break
		}
		k = index($i, "=")
		if (k > 1)
			R[nr, substr($i, 1, k - 1)] = substr($i, k + 1)
	}
	s = R[nr, "scenario"]
	if (!(s in seen_s)) {
		seen_s[s] = 1
		scen[++ns] = s
	}
	run_of[s, R[nr, "controller"]] = nr
}

function v(r, key) {
	return ((r, key) in R) ? R[r, key] : "-"
}

# ratio a/b with a verdict against `limit` (op "<=" or ">="); a, b are strings ("-" = missing)
function verdict(x, op, limit) {
	return ((op == "<=" && x <= limit) || (op == ">=" && x >= limit)) ? "MET" : "NOT MET"
}

function ratio_line(label, who, a, b, op, limit, what_b, missing_a_bad,    x) {
	if (a == "-" && missing_a_bad)
		return sprintf("| %s | %s | - | %s %s | NOT MET (no value for %s) |", who, label, op, limit, who)
	if (a == "-" || b == "-")
		return sprintf("| %s | %s | - | %s %s | n/a: %s |", who, label, op, limit, what_b)
	if (b + 0 == 0)
		x = (a + 0 == 0) ? 1 : 1e9
	else
		x = a / b
	return sprintf("| %s | %s | %s | %s %s | %s |", who, label, (x >= 1e9 ? "inf" : sprintf("%.2f", x)), op, limit,
		       verdict(x, op, limit))
}

function report(    si, s, r, c, k, ctl, who, w, rk, rm, rx, t90k, a, line) {
	if (seconds == "")
		seconds = 420
	for (si = 1; si <= ns; si++) {
		s = scen[si]
		print "## Scenario: " s
		print ""
		for (r = 1; r <= nr; r++)
			if (R[r, "scenario"] == s && v(r, "ref") != "-") {
				rk = v(r, "ref_kind")
				gsub(/_/, " ", rk)
				printf "Reference for t50/t90: %s merged pages (%s); theoretical maximum %s.\n\n",
				       v(r, "ref"), rk, v(r, "theo")
				break
			}
		print "| controller | t50 s | t90 s | CPU-s to t90 | steady CPU-s/min after t90 | saved MiB at end | counter saved MiB, mean last " tail_s " s | true saved MiB last " tail_s " s (smaps) | ksmd CPU % last " tail_s " s | peak saved MiB | general_profit MiB | peak ksmd CPU % (1 s / 10 s) | mean ksmd CPU % | full scans | pages_to_scan / sleep at end |"
		print "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		for (r = 1; r <= nr; r++) {
			if (R[r, "scenario"] != s)
				continue
			if (v(r, "status") != "ok") {
				printf "| %s | %s: %s |||||||||||||\n", v(r, "controller"), v(r, "status"), v(r, "note")
				continue
			}
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s / %s%s |\n",
			       v(r, "controller"), v(r, "t50"), v(r, "t90"), v(r, "cpu_to_t90"),
			       v(r, "steady_cpu_per_min"), v(r, "final_saved_mib"), v(r, "mean_saved_tail_mib"),
			       v(r, "true_saved_tail_mib"), v(r, "tail_cpu_pct"),
			       v(r, "peak_saved_mib"), v(r, "profit_mib"), v(r, "peak_cpu_pct_1s"),
			       v(r, "peak_cpu_pct_10s"), v(r, "mean_cpu_pct"), v(r, "full_scans"), v(r, "pts_end"),
			       v(r, "sleep_end"), (v(r, "advisor_end") == "scan-time" ? " (advisor)" : "")
		}
		print ""
		print "Run conditions: ballast, fill time, ksmd CPU-s used since boot when the run started (the kernel"
		print "advisor's first step depends on it), lowest MemAvailable seen, note."
		print ""
		print "| controller | ballast MiB x views | fill s | ksmd CPU-s before run | min MemAvailable MiB | note |"
		print "|---|---|---|---|---|---|"
		for (r = 1; r <= nr; r++)
			if (R[r, "scenario"] == s)
				printf "| %s | %s x %s | %s | %s | %s | %s |\n", v(r, "controller"), v(r, "ballast_mib"), v(r, "ballast_views"),
				       v(r, "fill_s"), v(r, "ksmd_cpu_before"), v(r, "min_avail_mib"),
				       (v(r, "note") == "-" ? "" : v(r, "note"))
		print ""
		line = "| controller |"
		w = "|---|"
		for (c = 1; c <= ncp; c++)
			if (cps[c] <= seconds + 0) {
				line = line " " cps[c] " |"
				w = w "---|"
			}
		print "Saved MiB (merged pages x " page_kib " KiB) at t (s) ="
		print ""
		print line
		print w
		for (r = 1; r <= nr; r++) {
			if (R[r, "scenario"] != s || v(r, "status") != "ok")
				continue
			line = "| " v(r, "controller") " |"
			for (c = 1; c <= ncp; c++)
				if (cps[c] <= seconds + 0)
					line = line " " v(r, "saved_at_" cps[c]) " |"
			print line
		}
		print ""

		# the issue's targets, from the runs above
		print "Target ratios (" s "):"
		print ""
		print "| controller | ratio | value | target | verdict |"
		print "|---|---|---|---|---|"
		k = ((s, "ksmtuned") in run_of) ? run_of[s, "ksmtuned"] : 0
		rm = ((s, "max") in run_of) ? run_of[s, "max"] : 0
		if (k && v(k, "status") != "ok")
			k = 0
		if (rm && v(rm, "status") != "ok")
			rm = 0
		a = 0
		for (ctl = 1; ctl <= 2; ctl++) {
			who = (ctl == 1) ? "memoptd" : "memoptd-advisor"
			rx = ((s, who) in run_of) ? run_of[s, who] : 0
			if (!rx || v(rx, "status") != "ok") {
				printf "| %s | - | - | - | not run (%s) |\n", who, rx ? v(rx, "note") : "not in BENCH_CONTROLLERS"
				continue
			}
			a++
			if (s == "churn") {
				# judged on the true saving; the counters' ratio is shown for comparison with older runs
				print ratio_line("true saved (smaps, mean last " tail_s " s) / ksmtuned's", who,
						 v(rx, "true_saved_tail_mib"), k ? v(k, "true_saved_tail_mib") : "-", ">=", 2,
						 k ? "no smaps reading" : "ksmtuned not run", 0)
				print ratio_line("counter saved (mean last " tail_s " s) / ksmtuned's, for reference", who,
						 v(rx, "mean_saved_tail_mib"), k ? v(k, "mean_saved_tail_mib") : "-", ">=", 2,
						 "ksmtuned not run", 0)
				print ratio_line("mean ksmd CPU / ksmtuned's", who, v(rx, "mean_cpu_pct"),
						 k ? v(k, "mean_cpu_pct") : "-", "<=", 1, "ksmtuned not run", 0)
				continue
			}
			t90k = k ? v(k, "t90") : "-"
			if (k && t90k == "-" && v(rx, "t90") != "-") {
				# ksmtuned never got to 90 %: its t90 is > the run length, so the ratio is below this
				printf "| %s | t90 / ksmtuned's | < %.2f (ksmtuned: never) | <= 0.25 | %s |\n", who,
				       v(rx, "t90") / seconds, verdict(v(rx, "t90") / seconds, "<=", 0.25)
			} else
				print ratio_line("t90 / ksmtuned's", who, v(rx, "t90"), t90k, "<=", 0.25,
						 k ? "ksmtuned never reached 90 %" : "ksmtuned not run", 1)
			print ratio_line("CPU-s to t90 / max's", who, v(rx, "cpu_to_t90"), rm ? v(rm, "cpu_to_t90") : "-",
					 "<=", 1.5, rm ? "max never reached 90 %" : "max not run", 1)
			print ratio_line("steady CPU-s/min / ksmtuned's", who, v(rx, "steady_cpu_per_min"),
					 k ? v(k, "steady_cpu_per_min") : "-", "<=", 0.1,
					 k ? "ksmtuned has no steady state (t90 not reached, or < 10 s before the end)" : "ksmtuned not run", 1)
		}
		print ""
	}
}

END {
	if (mode == "report")
		report()
	else
		csv_end()
}
