#!/usr/bin/env bash
# Failover figures from the lab (lab/lab), ours against the seed's check on the same lab, and
# ours with and without the split-brain guard (issue 11), all in one run.
#
# Axes: CHECKS {ours: check-mysql + notify hooks, seed: the seed's mysql_check.sh, no hooks};
# for ours, SETUPS {noguard: `lab up --no-guard`, the configuration before issue 11 (the
# baseline); guard: `lab up`, the two-node guard (the lab's default); witness: `lab up
# --witness`, a third host W as the lease's witness}; SCENARIOS {kill-writer: SIGKILL A's
# mariadbd, hang-writer: SIGSTOP it, isolate-a: every frame to and from A dropped at the bridge
# (witness setup only: the isolated-writer takeover)}. The seed runs with `lab up --check seed`
# and the kill/hang scenarios. For each combination, RUNS times: a fresh lab, the client writing
# through the VIP, the fault, then
#   - fault -> VIP on B: `lab vip --wait b` polls B's interface every 50 ms from the moment
#     `lab fault` has signalled the server (its at_ms);
#   - fault -> first acknowledged write on B (for isolate-a: the takeover time);
#   - the longest client write outage: `lab client report --json --since AT-2000` (the longest
#     time without an acknowledged write, from 2 s before the fault to the client's stop);
#   - acknowledged writes missing on B: ids in the client's acked.log absent from B's
#     kam.writes at the end (writes A acknowledged but never sent: asynchronous replication);
#   - from the lab's 200 ms sampler (`lab samples`): samples with both nodes writable, and
#     fault -> A seen read_only=ON (for isolate-a: the isolated writer fencing itself);
# and `lab down`. Before any run the lab must offer what the setups need (`up --no-guard`,
# `up --witness`, `fault isolate-a`: else the script stops and says which), and after each `up`
# the lab's configuration must be the setup asked for (A's helpers.cnf and keepalived.conf:
# `peer` for notify-master with the guard, `witness` in witness mode). Writes
# bench/results/failover.md (medians, min-max, every run) and, through bench/report.sh,
# BENCHMARKS.md.
#
#   sudo RUNS=5 bash bench/failover.sh   (root; mariadb-server mariadb-client keepalived iproute2
#                                        iptables python3; builds the release binaries)
#   sudo RUNS=5 SETUPS='noguard guard' CHECKS=ours bash bench/failover.sh   (a subset)
#
# Environment: RUNS (default 5), VIP_TIMEOUT (seconds to wait for the VIP on B, default 60),
# KAM_BENCH_LAB (the lab's name, default fobench), CHECKS / SETUPS / SCENARIOS (space-separated
# subsets; defaults "ours seed", "noguard guard witness", "kill-writer hang-writer isolate-a"),
# LOGS_DIR (keep each run's keepalived, mariadbd, syslog, sampler and client logs there).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-5}
VIP_TIMEOUT=${VIP_TIMEOUT:-60}
NAME=${KAM_BENCH_LAB:-fobench}
# The command line that made the results (with the subsets, when given).
CMDLINE="RUNS=$RUNS bash bench/failover.sh"
[[ -n ${SCENARIOS:-} ]] && CMDLINE="SCENARIOS='$SCENARIOS' $CMDLINE"
[[ -n ${SETUPS:-} ]] && CMDLINE="SETUPS='$SETUPS' $CMDLINE"
[[ -n ${CHECKS:-} ]] && CMDLINE="CHECKS='$CHECKS' $CMDLINE"
read -r -a CHECKS <<<"${CHECKS:-ours seed}"
read -r -a SETUPS <<<"${SETUPS:-noguard guard witness}"
read -r -a SCENARIOS <<<"${SCENARIOS:-kill-writer hang-writer isolate-a}"
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
for s in "${SETUPS[@]}"; do
    [[ $s == noguard || $s == guard || $s == witness ]] || die "SETUPS: noguard, guard and/or witness, not '$s'"
done
for s in "${SCENARIOS[@]}"; do
    [[ $s == kill-writer || $s == hang-writer || $s == isolate-a ]] ||
        die "SCENARIOS: kill-writer, hang-writer and/or isolate-a, not '$s'"
done
command -v python3 >/dev/null || die "python3 missing: apt-get install python3"

# The runs, one line each: "CHECK SETUP SCENARIO". The seed has no guard (setup "seed"); the
# isolated writer is measured in witness mode only (in two-node mode it is a split brain by
# design: README "Split brain", what the two-node mode does not cover).
COMBOS=()
for c in "${CHECKS[@]}"; do
    if [[ $c == seed ]]; then
        for s in "${SCENARIOS[@]}"; do [[ $s == isolate-a ]] || COMBOS+=("seed seed $s"); done
        continue
    fi
    for u in "${SETUPS[@]}"; do
        for s in "${SCENARIOS[@]}"; do
            [[ $s == isolate-a && $u != witness ]] && continue
            COMBOS+=("ours $u $s")
        done
    done
done
((${#COMBOS[@]})) || die "nothing to run: isolate-a runs only with SETUPS containing witness and CHECKS containing ours"

# What the lab must offer for those runs, from its help (lab/lab passes an unknown flag through
# silently, so asking is the only way to know before a run): the guard setups came with the lab
# of issue 11 (another branch until merged).
LAB_HELP=$("$LABCMD" help 2>&1) || die "$LABCMD help failed: $LAB_HELP"
lab_offers() { grep -q -e "$1" <<<"$LAB_HELP"; }
lacking=()
for combo in "${COMBOS[@]}"; do
    read -r c u s <<<"$combo"
    case $u in
    noguard) lab_offers '--no-guard' || lacking+=("'up --no-guard' (setup noguard)") ;;
    # The guard is the default only in a lab that can turn it off.
    guard) lab_offers '--no-guard' || lacking+=("'up --no-guard', so its default is not the guard (setup guard)") ;;
    witness) lab_offers '--witness' || lacking+=("'up --witness' (setup witness)") ;;
    esac
    [[ $s == isolate-a ]] && { lab_offers 'isolate-a' || lacking+=("'fault isolate-a' (scenario isolate-a)"); }
done
if ((${#lacking[@]})); then
    mapfile -t lacking < <(printf '%s\n' "${lacking[@]}" | sort -u)
    die "this lab ($LABCMD, per its help) lacks what these runs need:
$(printf '  - %s\n' "${lacking[@]}")
  The lab's witness host and --no-guard (issue 11) must be in this tree first; until then only
  CHECKS=seed runs here (SETUPS / SCENARIOS / CHECKS choose a subset). No lab was started."
fi

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

up_flags() { # CHECK SETUP: the flags of `lab up` for that run
    case $1/$2 in
    seed/*) echo "--check seed" ;;
    ours/noguard) echo "--check ours --no-guard" ;;
    ours/guard) echo "--check ours" ;;
    ours/witness) echo "--check ours --witness" ;;
    esac
}

# The setup the lab is actually running, from A's option file and keepalived.conf: "witness"
# (a witness key or flag), "guard" (notify-master given the peer: key in its group, or flag),
# "noguard", or "unknown: WHY".
setup_seen() {
    python3 - "$LABDIR/a/helpers.cnf" "$LABDIR/a/keepalived.conf" <<'PY'
import re, sys
try:
    cnf, conf = (open(p).read() for p in sys.argv[1:3])
except OSError as e:
    print(f"unknown: {e.filename} unreadable ({e.strerror})")
    sys.exit()
groups, group = {}, None
for line in cnf.splitlines():
    line = line.strip()
    m = re.fullmatch(r"\[([^]]+)\]", line)
    if m:
        group = m.group(1)
        continue
    if line and not line.startswith(("#", ";")) and group is not None:
        groups.setdefault(group, []).append(line.split("=", 1)[0].strip().replace("_", "-"))
if any("witness" in keys for keys in groups.values()) or "--witness" in conf:
    print("witness")
elif "peer" in groups.get("notify-master", []) or any(
        "--peer" in l for l in conf.splitlines() if "notify_master" in l):
    print("guard")
else:
    print("noguard")
PY
}

lab_up() { # CHECK SETUP: a fresh lab; one retry (a busy host can make a first `up` time out)
    local try seen flags
    flags=$(up_flags "$1" "$2")
    for try in 1 2; do
        lab down >>"$WORK/lab.log" 2>&1 || true
        # shellcheck disable=SC2086 # flags, split on purpose
        if lab up $flags --bin-dir "$BIN_DIR" >>"$WORK/lab.log" 2>&1; then
            [[ $1 == seed ]] && return 0
            seen=$(setup_seen)
            [[ $seen == "$2" ]] && return 0
            die "\`lab up $flags\` made a lab whose setup is '$seen', not '$2' (read from
  $LABDIR/a/helpers.cnf and keepalived.conf): this lab does not do what setup '$2' needs"
        fi
        say "lab up $flags failed (try $try):"
        tail -n 15 "$WORK/lab.log" >&2
    done
    return 1
}

# One run: prints "vip_ms outage_ms first_write_b_ms missing acked failed both_writable
# a_fenced_ms" ("-" where none).
one_run() {
    local check=$1 setup=$2 scenario=$3 run=$4 fault at vip_at vip_ms report since samples
    lab_up "$check" "$setup" || die "lab up $(up_flags "$check" "$setup") failed twice"
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
    samples=$(lab samples --json --since "$since" 2>>"$WORK/lab.log") || samples=null
    if [[ $vip_ms != - ]]; then
        lab sql b "SELECT id FROM kam.writes" >"$WORK/b-ids" 2>>"$WORK/lab.log" || : >"$WORK/b-ids"
    else
        : >"$WORK/b-ids"
    fi
    python3 - "$report" "$LABDIR/c/acked.log" "$WORK/b-ids" "$at" "$vip_ms" "$samples" <<'PY'
import json, sys
report = json.loads(sys.argv[1])
acked_log, b_ids_path, at, vip_ms = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
samples = json.loads(sys.argv[6])
acked = [l.split() for l in open(acked_log) if l.strip()]
first_b = min((int(f[1]) - at for f in acked if f[4] == "2" and int(f[1]) > at), default=None)
if vip_ms == "-":
    missing = "-"
else:
    present = {l.strip() for l in open(b_ids_path) if l.strip()}
    missing = sum(1 for f in acked if f[2] not in present)
if samples is None:
    both, a_fenced = "-", None
else:
    both = sum(1 for x in samples if x["a"] == "0" and x["b"] == "0")
    a_fenced = min((x["ms"] - at for x in samples if x["ms"] >= at and x["a"] == "1"), default=None)
print(vip_ms, report["longest_outage_ms"], "-" if first_b is None else first_b, missing,
      report["acked"], report["failed"], both, "-" if a_fenced is None else a_fenced)
PY
    if [[ -n ${LOGS_DIR:-} ]]; then
        local keep=$LOGS_DIR/$check-$setup-$scenario-$run
        mkdir -p "$keep"
        cp -r "$LABDIR/c" "$keep/client"
        cp "$LABDIR/syslog.log" "$LABDIR/faults.log" "$LABDIR/samples.log" "$keep/" 2>/dev/null || true
        for n in a b; do
            cp "$LABDIR/$n/keepalived.log" "$keep/keepalived-$n.log" 2>/dev/null || true
            cp "$LABDIR/$n/error.log" "$keep/mariadbd-$n.log" 2>/dev/null || true
        done
        # The witness host's logs, wherever the lab keeps them (witness setup).
        for f in "$LABDIR"/w/*.log; do
            [[ -e $f ]] && cp "$f" "$keep/w-$(basename "$f")"
        done
    fi
    lab down >>"$WORK/lab.log" 2>&1
}

total=$((${#COMBOS[@]} * RUNS))
i=0
say "$total runs: $(printf '{%s} ' "${COMBOS[@]}")x $RUNS; lab '$NAME'; load $LOAD_START"
: >"$WORK/runs.tsv"
for combo in "${COMBOS[@]}"; do
    read -r check setup scenario <<<"$combo"
    for run in $(seq 1 "$RUNS"); do
        i=$((i + 1))
        say "[$i/$total] $check $setup $scenario run $run/$RUNS"
        t0=$SECONDS
        vip_ms="" outage="" first_b="" missing="" acked="" failed="" both="" a_fenced=""
        one_run "$check" "$setup" "$scenario" "$run" >"$WORK/run.out"
        read -r vip_ms outage first_b missing acked failed both a_fenced <"$WORK/run.out" || true
        [[ -n ${a_fenced:-} ]] || die "run failed (no result); lab log:
$(tail -n 30 "$WORK/lab.log")"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$check" "$setup" "$scenario" \
            "$run" "$vip_ms" "$outage" "$first_b" "$missing" "$acked" "$failed" "$both" \
            "$a_fenced" >>"$WORK/runs.tsv"
        if [[ $vip_ms == - ]]; then
            say "  did not fail over within ${VIP_TIMEOUT}s; longest outage ${outage} ms ($((SECONDS - t0))s)"
        else
            say "  VIP on B after $vip_ms ms, first write on B after $first_b ms, longest outage $outage ms, $missing acknowledged missing on B, $both samples both writable ($((SECONDS - t0))s)"
        fi
    done
done

say "writing $OUT"
mkdir -p "$(dirname "$OUT")"
MACHINE=$(bench_machine_md "$LOAD_START" "$OTHERS_START")
python3 - "$WORK/runs.tsv" "$RUNS" "$VIP_TIMEOUT" "$CMDLINE" "$MACHINE" "$STARTED" >"$WORK/failover.md" <<'PY'
import statistics, sys
# check setup scenario run vip outage first_b missing acked failed both_writable a_fenced
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs, vip_timeout, cmdline, machine, started = sys.argv[2:7]
combos = list(dict.fromkeys((r[0], r[1], r[2]) for r in rows))
CHECK = {"ours": "ours (check-mysql + notify hooks)", "seed": "seed mysql_check.sh"}
SETUP = {"noguard": "no guard (`--no-guard`, before issue 11)", "guard": "two-node guard",
         "witness": "witness mode", "seed": "—"}
VIP, OUTAGE, FIRST_B, MISSING, BOTH, A_FENCED = 4, 5, 6, 7, 10, 11

def pick(check, setup, scenario):
    return [r for r in rows if (r[0], r[1], r[2]) == (check, setup, scenario)]

def ints(vals):
    return [int(v) for v in vals if v != "-"]

def med(vals):
    v = ints(vals)
    return statistics.median(v) if v else None

def cell(vals):
    v = ints(vals)
    if not v:
        return "—"
    m = statistics.median(v)
    return f"{m:.0f} ({min(v)}–{max(v)})" if len(v) > 1 else f"{m:.0f}"

def total(vals):
    v = ints(vals)
    return f"{sum(v)} in {len(v)} run(s)" if v else "—"

print(f"Failover on the lab (`lab/lab`: MariaDB dual master + keepalived in network namespaces, "
      f"one client writing through the VIP), {runs} run(s) per row, a fresh lab for each run. "
      f"Command: `{cmdline}` (as root). {machine}\n")
print("keepalived timing is the same for every row: `interval 1`, `timeout 2`, `fall 2`, "
      "`rise 2`, `weight 0`, `advert_int 1`. *ours*: check-mysql (`--timeout 800ms`) with the "
      "notify hooks (B is promoted by notify-master: catch-up, then `read_only=OFF`), in the "
      "setup the row names: *no guard* (`lab up --no-guard`: the configuration before issue 11, "
      "the baseline), *two-node guard* (`lab up`: `--peer` on every helper, `chk_writer`), "
      "*witness mode* (`lab up --witness`: a third host W, the writer's lease renewed by every "
      "check). *seed*: the seed's mysql_check.sh (`pkill keepalived` replaced by `exit 1`), no "
      "notify hooks, both nodes `read_only=OFF` from the start. *isolate-a*: every frame to "
      "and from A dropped at the bridge (its link up): the isolated writer must fence itself "
      "and B take over once it holds a majority of the lease. *Both writable*: samples of the "
      "lab's 200 ms sampler (A's and B's `@@read_only`, from 2 s before the fault) with both "
      "at 0. Times in ms, median (min–max).\n")
print("| check | setup | scenario | failed over | fault → VIP on B | fault → first write on B "
      "| longest client write outage | acknowledged writes missing on B | samples both writable |")
print("|---|---|---|---|---|---|---|---|---|")
for c, u, s in combos:
    rs = pick(c, u, s)
    ok = [r for r in rs if r[VIP] != "-"]
    print(f"| {CHECK.get(c, c)} | {SETUP.get(u, u)} | {s} | {len(ok)}/{len(rs)} | "
          f"{cell(r[VIP] for r in rs)} | {cell(r[FIRST_B] for r in rs)} | "
          f"{cell(r[OUTAGE] for r in rs)} | {total(r[MISSING] for r in rs)} | "
          f"{total(r[BOTH] for r in rs)} |")
print()
stuck = [r for r in rows if r[VIP] == "-"]
for r in stuck:
    print(f"- {r[0]} {r[1]} {r[2]} run {r[3]}: did not fail over within {vip_timeout}s "
          f"(longest outage {r[OUTAGE]} ms, still going when the run ended).")
if stuck:
    print()

# "Within noise": a median inside the spread (min–max) of the baseline's runs, as the hung vs
# killed target has always been judged.
def judge(rs, base, col):
    m, b = med(r[col] for r in rs), ints(r[col] for r in base)
    if m is None or not b:
        return None, "cannot be judged: a row never got there"
    bm = statistics.median(b)
    if m <= max(b):
        return True, f"{m:.0f} vs {bm:.0f} ms ({m - bm:+.0f}; within the baseline's {min(b)}–{max(b)})"
    return False, f"{m:.0f} vs {bm:.0f} ms ({m - bm:+.0f}; beyond the baseline's {min(b)}–{max(b)})"

verdicts = []
for c, u, s in combos:
    if c != "ours" or u not in ("guard", "witness") or s not in ("kill-writer", "hang-writer"):
        continue
    base = pick("ours", "noguard", s)
    if not base:
        continue
    rs = pick(c, u, s)
    parts, holds = [], True
    never = sum(1 for r in rs if r[VIP] == "-") - sum(1 for r in base if r[VIP] == "-")
    if never > 0:
        holds = False
        parts.append(f"{never} more run(s) than without the guard did not fail over")
    for col, what in ((VIP, "fault → VIP on B"), (FIRST_B, "fault → first write on B")):
        ok, text = judge(rs, base, col)
        holds = holds and bool(ok)
        parts.append(f"{what} {text}")
    verdicts.append(f"- {SETUP[u]}, {s}: **{'holds' if holds else 'does not hold'}**: "
                    + "; ".join(parts) + ".")
if verdicts:
    print("Target \"failover with the guard on is not slower than without it by more than "
          "noise\" (issue 11; medians, guard vs no guard in this run; noise: the no-guard "
          "runs' min–max):\n")
    print("\n".join(verdicts) + "\n")

setups = list(dict.fromkeys(u for c, u, s in combos if c == "ours"))
for u in setups:
    kill = ints(r[VIP] for r in pick("ours", u, "kill-writer"))
    hang = ints(r[VIP] for r in pick("ours", u, "hang-writer"))
    if not kill or not hang:
        if pick("ours", u, "kill-writer") and pick("ours", u, "hang-writer"):
            print(f"Target \"hung writer detected as fast as a killed one\" (ours, {SETUP[u]}): "
                  "cannot be judged: a scenario never failed over.\n")
        continue
    k, h = statistics.median(kill), statistics.median(hang)
    # "As fast": the hung median within the spread of the killed runs (run-to-run noise).
    if h <= max(kill):
        verdict = (f"**holds**: median fault → VIP on B {h:.0f} ms hung vs {k:.0f} ms killed "
                   f"(within the killed runs' {min(kill)}–{max(kill)} ms)")
    else:
        verdict = (f"**does not hold**: median fault → VIP on B {h:.0f} ms hung vs {k:.0f} ms "
                   f"killed ({h - k:+.0f} ms, beyond the killed runs' {min(kill)}–{max(kill)} ms)")
    print(f"Target \"hung writer detected as fast as a killed one\" (ours, {SETUP[u]}, medians): "
          f"{verdict}.\n")

iso = pick("ours", "witness", "isolate-a")
if iso:
    print(f"Isolated-writer takeover (witness mode, isolate-a, {len(iso)} run(s)): fault → "
          f"first acknowledged write on B {cell(r[FIRST_B] for r in iso)} ms; fault → VIP on B "
          f"{cell(r[VIP] for r in iso)} ms; fault → A seen `read_only=ON` by the sampler (the "
          f"isolated writer fencing itself; 200 ms resolution) {cell(r[A_FENCED] for r in iso)} "
          f"ms; samples with both writable: {total(r[BOTH] for r in iso)}.\n")

print("Every run (ms; `-`: none):\n")
print("| check | setup | scenario | run | VIP on B | longest outage | first write on B "
      "| missing on B | acked | failed attempts | both writable | A fenced |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
PY
mv "$WORK/failover.md" "$OUT"
cat "$OUT"
bash bench/report.sh
say "done ($STARTED -> $(date -u '+%H:%M UTC'))"
