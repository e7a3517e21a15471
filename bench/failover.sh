#!/usr/bin/env bash
# Failover figures from the lab (lab/lab), ours against the seed's check on the same lab.
#
# For each check {ours: check-mysql + notify hooks, seed: the seed's mysql_check.sh, no hooks}
# and each scenario {kill-writer: SIGKILL A's mariadbd, hang-writer: SIGSTOP it}, RUNS times:
# a fresh lab (`lab up --check CHECK`), the client writing through the VIP, the fault, then
#   - fault -> VIP on B: `lab vip --wait b` polls B's interface every 50 ms from the moment
#     `lab fault` has signalled the server (its at_ms);
#   - the longest client write outage: `lab client report --json --since AT-2000` (the longest
#     time without an acknowledged write, from 2 s before the fault to the client's stop);
#   - acknowledged writes missing on B: ids in the client's acked.log absent from B's
#     kam.writes at the end (writes A acknowledged but never sent: asynchronous replication);
# and `lab down`. Writes bench/results/failover.md (medians, min-max, every run) and, through
# bench/report.sh, BENCHMARKS.md.
#
#   sudo RUNS=5 bash bench/failover.sh   (root; mariadb-server mariadb-client keepalived iproute2
#                                        iptables python3; builds the release binaries)
#
# Environment: RUNS (default 5), VIP_TIMEOUT (seconds to wait for the VIP on B, default 60),
# KAM_BENCH_LAB (the lab's name, default fobench), CHECKS / SCENARIOS (space-separated subsets),
# LOGS_DIR (keep each run's keepalived, mariadbd, syslog and client logs there).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-5}
VIP_TIMEOUT=${VIP_TIMEOUT:-60}
NAME=${KAM_BENCH_LAB:-fobench}
# The command line that made the results (with the subsets, when given).
CMDLINE="RUNS=$RUNS bash bench/failover.sh"
[[ -n ${SCENARIOS:-} ]] && CMDLINE="SCENARIOS='$SCENARIOS' $CMDLINE"
[[ -n ${CHECKS:-} ]] && CMDLINE="CHECKS='$CHECKS' $CMDLINE"
read -r -a CHECKS <<<"${CHECKS:-ours seed}"
read -r -a SCENARIOS <<<"${SCENARIOS:-kill-writer hang-writer}"
LABCMD=$ROOT/lab/lab
LABDIR=/run/kam-lab/$NAME
OUT=bench/results/failover.md
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

say() { printf 'failover: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}
lab() { "$LABCMD" "$@" --name "$NAME"; }

[[ $(id -u) -eq 0 ]] || die "run as root (the lab creates network namespaces)"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
[[ $VIP_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "VIP_TIMEOUT must be a positive number of seconds"
for c in "${CHECKS[@]}"; do [[ $c == ours || $c == seed ]] || die "CHECKS: ours and/or seed, not '$c'"; done
for s in "${SCENARIOS[@]}"; do
    [[ $s == kill-writer || $s == hang-writer ]] || die "SCENARIOS: kill-writer and/or hang-writer, not '$s'"
done
command -v python3 >/dev/null || die "python3 missing: apt-get install python3"

# Sampled before anything of ours runs (BENCHMARKS.md says how busy the machine was).
LOAD_START=$(bench_load)
OTHERS_START=$(bench_others_running)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')

WORK=$(mktemp -d /tmp/kam-failover.XXXXXX)
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -e $LABDIR || -n $(ip netns list 2>/dev/null | grep -E "^kam-$NAME-" || true) ]]; then
        say "cleaning up: lab down"
        "$LABCMD" down --name "$NAME" >"$WORK/down.log" 2>&1 || {
            say "lab down failed:"
            cat "$WORK/down.log" >&2
        }
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

say "building the release binaries (cargo build --release --bins)"
command -v cargo >/dev/null || die "cargo not found: install Rust"
cargo build --release --bins --quiet
BIN_DIR=$ROOT/target/release

# Polls COMMAND every 0.1 s for at most SECS.
wait_until() {
    local secs=$1 start=$SECONDS
    shift
    until "$@"; do
        ((SECONDS - start < secs)) || return 1
        sleep 0.1
    done
}
acked_count() { # [SERVER_ID SINCE_MS]: acknowledged writes (by SERVER_ID, ending after SINCE_MS)
    if (($# == 0)); then
        wc -l 2>/dev/null <"$LABDIR/c/acked.log" || echo 0
    else
        awk -v sid="$1" -v since="$2" '$5 == sid && $2 > since { n++ } END { print n + 0 }' \
            "$LABDIR/c/acked.log" 2>/dev/null || echo 0
    fi
}
client_writing() { (($(acked_count) >= 20)); }
b_writing() { (($(acked_count 2 "$1") >= 10)); }

lab_up() { # CHECK: a fresh lab; one retry (a busy host can make a first `up` time out)
    local try
    for try in 1 2; do
        lab down >>"$WORK/lab.log" 2>&1 || true
        if lab up --check "$1" --bin-dir "$BIN_DIR" >>"$WORK/lab.log" 2>&1; then
            return 0
        fi
        say "lab up failed (try $try):"
        tail -n 15 "$WORK/lab.log" >&2
    done
    return 1
}

# One run: prints "vip_ms outage_ms first_write_b_ms missing acked failed" ("-" where none).
one_run() {
    local check=$1 scenario=$2 run=$3 fault at vip_at vip_ms report since
    lab_up "$check" || die "lab up --check $check failed twice"
    [[ $(lab vip) == a ]] || die "after up, the VIP is not on A"
    lab client start >>"$WORK/lab.log" 2>&1
    wait_until 60 client_writing || die "the client did not get 20 acknowledged writes within 60s"
    fault=$(lab fault "$scenario" 2>>"$WORK/lab.log")
    at=$(sed -n 's/.*"at_ms":\([0-9]*\).*/\1/p' <<<"$fault")
    [[ -n $at ]] || die "unexpected fault output: $fault"
    if vip_at=$(lab vip --wait b --timeout "$VIP_TIMEOUT" 2>>"$WORK/lab.log"); then
        vip_ms=$((vip_at - at))
        # Writes resume on B (bounded), then a few more seconds of them.
        wait_until 30 b_writing "$at" || say "  B acknowledged fewer than 10 writes within 30s of the VIP"
        sleep 2
    else
        vip_ms=-
    fi
    lab client stop >>"$WORK/lab.log" 2>&1
    since=$((at - 2000))
    report=$(lab client report --json --since "$since")
    if [[ $vip_ms != - ]]; then
        lab sql b "SELECT id FROM kam.writes" >"$WORK/b-ids" 2>>"$WORK/lab.log" || : >"$WORK/b-ids"
    else
        : >"$WORK/b-ids"
    fi
    python3 - "$report" "$LABDIR/c/acked.log" "$WORK/b-ids" "$at" "$vip_ms" <<'PY'
import json, sys
report = json.loads(sys.argv[1])
acked_log, b_ids_path, at, vip_ms = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
acked = [l.split() for l in open(acked_log) if l.strip()]
first_b = min((int(f[1]) - at for f in acked if f[4] == "2" and int(f[1]) > at), default=None)
if vip_ms == "-":
    missing = "-"
else:
    present = {l.strip() for l in open(b_ids_path) if l.strip()}
    missing = sum(1 for f in acked if f[2] not in present)
print(vip_ms, report["longest_outage_ms"], "-" if first_b is None else first_b, missing,
      report["acked"], report["failed"])
PY
    if [[ -n ${LOGS_DIR:-} ]]; then
        local keep=$LOGS_DIR/$check-$scenario-$run
        mkdir -p "$keep"
        cp -r "$LABDIR/c" "$keep/client"
        cp "$LABDIR/syslog.log" "$LABDIR/faults.log" "$keep/" 2>/dev/null || true
        for n in a b; do
            cp "$LABDIR/$n/keepalived.log" "$keep/keepalived-$n.log" 2>/dev/null || true
            cp "$LABDIR/$n/error.log" "$keep/mariadbd-$n.log" 2>/dev/null || true
        done
    fi
    lab down >>"$WORK/lab.log" 2>&1
}

total=$((${#CHECKS[@]} * ${#SCENARIOS[@]} * RUNS))
i=0
say "$total runs: checks {${CHECKS[*]}} x scenarios {${SCENARIOS[*]}} x $RUNS; lab '$NAME'; load $LOAD_START"
: >"$WORK/runs.tsv"
for check in "${CHECKS[@]}"; do
    for scenario in "${SCENARIOS[@]}"; do
        for run in $(seq 1 "$RUNS"); do
            i=$((i + 1))
            say "[$i/$total] $check $scenario run $run/$RUNS"
            t0=$SECONDS
            vip_ms="" outage="" first_b="" missing="" acked="" failed=""
            one_run "$check" "$scenario" "$run" >"$WORK/run.out"
            read -r vip_ms outage first_b missing acked failed <"$WORK/run.out" || true
            [[ -n ${failed:-} ]] || die "run failed (no result); lab log:
$(tail -n 30 "$WORK/lab.log")"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$check" "$scenario" "$run" "$vip_ms" \
                "$outage" "$first_b" "$missing" "$acked" "$failed" >>"$WORK/runs.tsv"
            if [[ $vip_ms == - ]]; then
                say "  did not fail over within ${VIP_TIMEOUT}s; longest outage ${outage} ms ($((SECONDS - t0))s)"
            else
                say "  VIP on B after $vip_ms ms, first write on B after $first_b ms, longest outage $outage ms, $missing acknowledged missing on B ($((SECONDS - t0))s)"
            fi
        done
    done
done

say "writing $OUT"
mkdir -p "$(dirname "$OUT")"
MACHINE=$(bench_machine_md "$LOAD_START" "$OTHERS_START")
python3 - "$WORK/runs.tsv" "$RUNS" "$VIP_TIMEOUT" "$CMDLINE" "$MACHINE" "$STARTED" >"$WORK/failover.md" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs, vip_timeout, cmdline, machine, started = sys.argv[2:7]
checks = list(dict.fromkeys(r[0] for r in rows))
scenarios = list(dict.fromkeys(r[1] for r in rows))
label = {"ours": "ours (check-mysql + notify hooks)", "seed": "seed mysql_check.sh"}

def ints(vals):
    return [int(v) for v in vals if v != "-"]

def med(vals):
    v = ints(vals)
    if not v:
        return None
    return statistics.median(v)

def cell(vals):
    v = ints(vals)
    if not v:
        return "—"
    m = statistics.median(v)
    return f"{m:.0f} ({min(v)}–{max(v)})" if len(v) > 1 else f"{m:.0f}"

print(f"Failover on the lab (`lab/lab`: MariaDB dual master + keepalived in network namespaces, "
      f"one client writing through the VIP), {runs} run(s) per row, a fresh lab for each run. "
      f"Command: `{cmdline}` (as root). {machine}\n")
print("keepalived timing is the same for both checks: `interval 1`, `timeout 2`, `fall 2`, "
      "`rise 2`, `weight 0`, `advert_int 1`. *ours*: check-mysql (`--timeout 800ms`) with the "
      "notify hooks (B is promoted by notify-master: catch-up, then `read_only=OFF`). *seed*: "
      "the seed's mysql_check.sh (`pkill keepalived` replaced by `exit 1`), no notify hooks, "
      "both nodes `read_only=OFF` from the start. Times in ms, median (min–max).\n")
print("| check | scenario | failed over | fault → VIP on B | fault → first write on B "
      "| longest client write outage | acknowledged writes missing on B |")
print("|---|---|---|---|---|---|---|")
for c in checks:
    for s in scenarios:
        rs = [r for r in rows if r[0] == c and r[1] == s]
        ok = [r for r in rs if r[3] != "-"]
        miss = ints(r[6] for r in rs)
        miss_cell = f"{sum(miss)} in {len(miss)} run(s)" if miss else "—"
        print(f"| {label.get(c, c)} | {s} | {len(ok)}/{len(rs)} | {cell(r[3] for r in rs)} | "
              f"{cell(r[5] for r in rs)} | {cell(r[4] for r in rs)} | {miss_cell} |")
print()
for r in rows:
    if r[3] == "-":
        print(f"- {r[0]} {r[1]} run {r[2]}: did not fail over within {vip_timeout}s "
              f"(longest outage {r[4]} ms, still going when the run ended).")
if "ours" in checks and {"kill-writer", "hang-writer"} <= set(scenarios):
    kill = ints(r[3] for r in rows if r[0] == "ours" and r[1] == "kill-writer")
    k = med(r[3] for r in rows if r[0] == "ours" and r[1] == "kill-writer")
    h = med(r[3] for r in rows if r[0] == "ours" and r[1] == "hang-writer")
    # "As fast": the hung median within the spread of the killed runs (run-to-run noise).
    if k is None or h is None:
        verdict = "cannot be judged: a scenario never failed over"
    elif h <= max(kill):
        verdict = (f"**holds**: median fault → VIP on B {h:.0f} ms hung vs {k:.0f} ms killed "
                   f"(within the killed runs' {min(kill)}–{max(kill)} ms)")
    else:
        verdict = (f"**does not hold**: median fault → VIP on B {h:.0f} ms hung vs {k:.0f} ms "
                   f"killed ({h - k:+.0f} ms, beyond the killed runs' {min(kill)}–{max(kill)} ms)")
    print(f"Target \"hung writer detected as fast as a killed one\" (ours, medians): {verdict}.\n")
print("Every run (ms; `-`: none):\n")
print("| check | scenario | run | VIP on B | longest outage | first write on B | missing on B "
      "| acked | failed attempts |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
PY
mv "$WORK/failover.md" "$OUT"
cat "$OUT"
bash bench/report.sh
say "done ($STARTED -> $(date -u '+%H:%M UTC'))"
