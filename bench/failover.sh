#!/usr/bin/env bash
# Failover figures from the lab (lab/lab), all rows of a table measured in one run of this
# script, a fresh lab for every run.
#
# Axes: CHECKS {ours: check-mysql + notify hooks, seed: the seed's mysql_check.sh, no hooks};
# for ours, SETUPS {noguard: `lab up --no-guard`, the configuration before issue 11; guard:
# `lab up`, the two-node guard with the one-shot check (the lab's default, issue 12's "today");
# witness: `lab up --witness`, a third host W as the lease's witness; watch: `lab up --watch`,
# issue 12's check-mysql --watch per node with keepalived's track_file + vrrp_track_process,
# VRRPv3 and advert_int 0.2; watch-witness: `lab up --watch --witness`}; SCENARIOS
# {kill-writer: SIGKILL A's mariadbd, hang-writer: SIGSTOP it, isolate-a: every frame to and
# from A dropped at the bridge (witness setups only), host-freeze: every process of host A
# SIGSTOPped (keepalived, mariadbd, the watcher, scripts), healed (`heal all`) once B writes,
# stalls: `lab fault stalls 150 5 60`, A's mariadbd stopped for 150 ms every 5 s for 60 s
# under the client's write load (ours only; the VIP must not move)}. The seed runs with `lab
# up --check seed` and the kill/hang scenarios.
#
# Which runs (each combination RUNS times):
#   SET=issue12 (the default): issue 12's table side by side: guard and watch x {kill-writer,
#     hang-writer, host-freeze, stalls}, and watch-witness x host-freeze; writes
#     bench/results/failover.md. About 40 minutes with RUNS=5 (stalls runs take ~80 s each).
#   SET=issue11: issue 11's table (ours x {noguard guard witness} x {kill-writer hang-writer
#     isolate-a}, the seed x {kill-writer hang-writer}); writes bench/results/failover-issue11.md
#     (about 30 minutes with RUNS=5).
#   CHECKS / SETUPS / SCENARIOS (any of them given; not with SET): their product (defaults for
#     the others: ours; guard watch; kill-writer hang-writer host-freeze stalls), less what
#     cannot run (the seed only kills or hangs; isolate-a only with a witness); writes
#     bench/results/failover.md.
#
# Per failover run (kill-writer, hang-writer, isolate-a, host-freeze): a fresh lab, the client
# writing through the VIP, the fault, then
#   - fault -> VIP on B: `lab vip --wait b` polls B's interface every 50 ms from the moment
#     `lab fault` has signalled (its at_ms);
#   - fault -> first acknowledged write on B (for isolate-a: the takeover time);
#   - the longest client write outage: `lab client report --json --since AT-2000`;
#   - acknowledged writes missing on B: ids in the client's acked.log absent from B's
#     kam.writes (host-freeze: read before the heal);
#   - from the lab's 200 ms sampler (`lab samples`): samples with both nodes writable, and
#     fault -> A seen read_only=ON;
#   - where the time goes, from the lab's syslog (epoch ms per line): A judged down (with the
#     watcher: its track file flipped on A, after --fall polls; without: the one-shot check's
#     first failing verdict on A, keepalived then needs fall 2), B's notify-master's first line
#     (keepalived's reaction, VRRP skew), its "promoted" line (peer probe, catch-up, unfence),
#     and the client's first write on B;
#   - host-freeze only: `lab heal all` once B has taken the writes (and 2 s more), then until
#     the sampler sees A read_only=ON (at most 20 s) and 2 s more: samples with both writable
#     after the heal, heal -> A fenced, the longest outage after the heal, the VIP's holder at
#     the end.
# Per stalls run: the fault, the client writing until the stalls have ended (60 s), then: the
# VIP ever off A (sampler samples whose VIP holder is not A alone; A's keepalived entering
# FAULT or BACKUP after the fault), the longest client outage, the watcher's flips on A (its
# track-file lines in syslog), the stalls done (A/stalls.log), both-writable samples, and the
# acknowledged writes missing on the writer at the end.
# Then `lab down`. Before any run the lab must offer what the runs need (else the script stops
# and says which), and after each `up` the lab's configuration must be the setup asked for (A's
# helpers.cnf and keepalived.conf: `peer` for notify-master with the guard, `witness` in
# witness mode, `track_file` and `vrrp_track_process` with --watch, and then A's watcher
# running with its track file at 0). Writes the results file (medians, min-max, every run) and,
# through bench/report.sh, BENCHMARKS.md.
#
#   sudo flock /tmp/kam-lab.lock env RUNS=5 bash bench/failover.sh   (root; mariadb-server
#        mariadb-client keepalived iproute2 iptables python3; builds the release binaries; the
#        lock: labs must never run two at once on one machine)
#   sudo flock /tmp/kam-lab.lock env RUNS=5 SET=issue11 bash bench/failover.sh
#   sudo flock /tmp/kam-lab.lock env RUNS=1 SETUPS=watch SCENARIOS="kill-writer stalls" bash bench/failover.sh
#
# Environment: RUNS (default 5), VIP_TIMEOUT (seconds to wait for the VIP on B, default 60),
# KAM_BENCH_LAB (the lab's name, default fobench), SET, CHECKS / SETUPS / SCENARIOS
# (space-separated), STALLS (the stalls scenario's 'MS EVERY_S FOR_S', default '150 5 60'),
# LOGS_DIR (keep each run's keepalived, mariadbd, watcher, syslog, sampler,
# stalls and client logs there, and the run's figures as run.json).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-5}
VIP_TIMEOUT=${VIP_TIMEOUT:-60}
NAME=${KAM_BENCH_LAB:-fobench}
# The command line that made the results (with the set or the subsets, when given).
CMDLINE="RUNS=$RUNS bash bench/failover.sh"
[[ -n ${SCENARIOS:-} ]] && CMDLINE="SCENARIOS='$SCENARIOS' $CMDLINE"
[[ -n ${SETUPS:-} ]] && CMDLINE="SETUPS='$SETUPS' $CMDLINE"
[[ -n ${CHECKS:-} ]] && CMDLINE="CHECKS='$CHECKS' $CMDLINE"
[[ -n ${SET:-} ]] && CMDLINE="SET=$SET $CMDLINE"
LABCMD=$ROOT/lab/lab
LABDIR=/run/kam-lab/$NAME
# lab fault stalls MS EVERY_S FOR_S (STALLS: another MS EVERY_S FOR_S, for a quick try; the
# results then say which)
read -r -a STALLS_ARGS <<<"${STALLS:-150 5 60}"
[[ ${#STALLS_ARGS[@]} -eq 3 && ${STALLS_ARGS[*]} =~ ^[0-9]+\ [1-9][0-9]*\ [1-9][0-9]*$ ]] ||
    { echo "failover: STALLS must be 'MS EVERY_S FOR_S' (numbers)" >&2; exit 1; }
[[ -z ${STALLS:-} ]] || CMDLINE="STALLS='$STALLS' $CMDLINE"
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
command -v python3 >/dev/null || die "python3 missing: apt-get install python3"

# The runs, one line each: "CHECK SETUP SCENARIO".
COMBOS=()
if [[ -n ${CHECKS:-}${SETUPS:-}${SCENARIOS:-} ]]; then
    [[ -z ${SET:-} ]] || die "SET and CHECKS/SETUPS/SCENARIOS exclude each other"
    SET=custom
    read -r -a checks <<<"${CHECKS:-ours}"
    read -r -a setups <<<"${SETUPS:-guard watch}"
    read -r -a scenarios <<<"${SCENARIOS:-kill-writer hang-writer host-freeze stalls}"
    for c in "${checks[@]}"; do [[ $c == ours || $c == seed ]] || die "CHECKS: ours and/or seed, not '$c'"; done
    for u in "${setups[@]}"; do
        case $u in noguard | guard | witness | watch | watch-witness) ;;
        *) die "SETUPS: noguard, guard, witness, watch and/or watch-witness, not '$u'" ;;
        esac
    done
    for s in "${scenarios[@]}"; do
        case $s in kill-writer | hang-writer | isolate-a | host-freeze | stalls) ;;
        *) die "SCENARIOS: kill-writer, hang-writer, isolate-a, host-freeze and/or stalls, not '$s'" ;;
        esac
    done
    # The seed has no guard (setup "seed") and is only killed or hung; the isolated writer is
    # measured with a witness only (in two-node mode it is a split brain by design: README
    # "Split brain", what the two-node mode does not cover).
    for c in "${checks[@]}"; do
        if [[ $c == seed ]]; then
            for s in "${scenarios[@]}"; do
                [[ $s == kill-writer || $s == hang-writer ]] && COMBOS+=("seed seed $s")
            done
            continue
        fi
        for u in "${setups[@]}"; do
            for s in "${scenarios[@]}"; do
                [[ $s == isolate-a && $u != witness && $u != watch-witness ]] && continue
                COMBOS+=("ours $u $s")
            done
        done
    done
else
    SET=${SET:-issue12}
    issue12=("ours guard kill-writer" "ours guard hang-writer" "ours guard host-freeze"
        "ours watch kill-writer" "ours watch hang-writer" "ours watch host-freeze"
        "ours watch-witness host-freeze" "ours guard stalls" "ours watch stalls")
    issue11=()
    for u in noguard guard witness; do
        for s in kill-writer hang-writer isolate-a; do
            [[ $s == isolate-a && $u != witness ]] || issue11+=("ours $u $s")
        done
    done
    issue11+=("seed seed kill-writer" "seed seed hang-writer")
    case $SET in
    issue12) COMBOS=("${issue12[@]}") ;;
    issue11) COMBOS=("${issue11[@]}") ;;
    *) die "SET: issue12 (the default) or issue11, not '$SET'" ;;
    esac
fi
((${#COMBOS[@]})) || die "nothing to run: isolate-a runs only with a witness setup, host-freeze and stalls only with CHECKS=ours"
if [[ $SET == issue11 ]]; then OUT=bench/results/failover-issue11.md; else OUT=bench/results/failover.md; fi

# What the lab must offer for those runs, from its help (lab/lab passes an unknown flag through
# silently, so asking is the only way to know before a run): the guard setups came with the lab
# of issue 11, the watcher's with issue 12.
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
    watch) lab_offers '--watch' || lacking+=("'up --watch' (setup watch)") ;;
    watch-witness) { lab_offers '--watch' && lab_offers '--witness'; } ||
        lacking+=("'up --watch --witness' (setup watch-witness)") ;;
    esac
    case $s in
    isolate-a) lab_offers 'isolate-a' || lacking+=("'fault isolate-a' (scenario isolate-a)") ;;
    host-freeze) lab_offers 'host-freeze' || lacking+=("'fault host-freeze' (scenario host-freeze)") ;;
    stalls) lab_offers 'stalls \[MS' || lacking+=("'fault stalls MS EVERY FOR' (scenario stalls)") ;;
    esac
done
if ((${#lacking[@]})); then
    mapfile -t lacking < <(printf '%s\n' "${lacking[@]}" | sort -u)
    die "this lab ($LABCMD, per its help) lacks what these runs need:
$(printf '  - %s\n' "${lacking[@]}")
  The lab's witness host and --no-guard (issue 11), --watch and the faults host-freeze and
  stalls (issue 12) must be in this tree first (SET, or SETUPS / SCENARIOS / CHECKS, choose
  what runs). No lab was started."
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
    ours/watch) echo "--check ours --watch" ;;
    ours/watch-witness) echo "--check ours --watch --witness" ;;
    esac
}

# The setup the lab is actually running, from A's option file and keepalived.conf: "witness"
# (a witness key or flag), "guard" (notify-master given the peer: key in its group, or flag),
# "noguard", each with "watch" before it when keepalived tracks the watcher (a track_file and
# a vrrp_track_process on check-mysql --watch; "watch" alone for the two-node guard), or
# "unknown: WHY".
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
    base = "witness"
elif "peer" in groups.get("notify-master", []) or any(
        "--peer" in l for l in conf.splitlines() if "notify_master" in l):
    base = "guard"
else:
    base = "noguard"
code = [l.split("#", 1)[0] for l in conf.splitlines()]
watch = (any(re.match(r"\s*track_file\s+\S+\s*\{", l) for l in code)
         and any(re.match(r"\s*vrrp_track_process\s+\S+\s*\{", l) for l in code)
         and any(re.match(r"\s*process\s+\S*check-mysql\s+--watch\b", l) for l in code))
print({("guard", True): "watch", ("witness", True): "watch-witness"}.get((base, watch),
      f"{base}+watch" if watch else base))
PY
}

# With --watch: A's watcher runs (its pid file names a live check-mysql --watch) and its track
# file says 0 (A may hold the VIP). Prints what is wrong, if anything.
watcher_trouble() {
    local pid track
    pid=$(cat "$LABDIR/a/watcher.pid" 2>/dev/null) || { echo "no $LABDIR/a/watcher.pid"; return; }
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- '--watch' ||
        { echo "A's watcher (pid $pid) is not running"; return; }
    track=$(tr -d ' \n' <"$LABDIR/a/state/check-mysql.track" 2>/dev/null || echo missing)
    [[ $track == 0 ]] || echo "A's track file says '$track', not 0"
}

lab_up() { # CHECK SETUP: a fresh lab; one retry (a busy host can make a first `up` time out)
    local try seen flags trouble
    flags=$(up_flags "$1" "$2")
    for try in 1 2; do
        lab down >>"$WORK/lab.log" 2>&1 || true
        # shellcheck disable=SC2086 # flags, split on purpose
        if lab up $flags --bin-dir "$BIN_DIR" >>"$WORK/lab.log" 2>&1; then
            [[ $1 == seed ]] && return 0
            seen=$(setup_seen)
            [[ $seen == "$2" ]] || die "\`lab up $flags\` made a lab whose setup is '$seen', not '$2' (read from
  $LABDIR/a/helpers.cnf and keepalived.conf): this lab does not do what setup '$2' needs"
            if [[ $2 == watch* ]]; then
                trouble=$(watcher_trouble)
                [[ -z $trouble ]] || die "\`lab up $flags\`: $trouble"
            fi
            return 0
        fi
        say "lab up $flags failed (try $try):"
        tail -n 15 "$WORK/lab.log" >&2
    done
    return 1
}

samples_json() { lab samples --json --since "$1" 2>>"$WORK/lab.log" || echo null; }
a_fenced_since() { # MS: the sampler saw A read_only=ON after MS
    python3 -c 'import json,sys; sys.exit(0 if any(x["a"] == "1" for x in json.loads(sys.argv[1]) or []) else 1)' \
        "$(samples_json "$1")"
}
stalls_over() { [[ ! -e $LABDIR/stalls.pid ]]; }
log_lines() { wc -l <"$1" 2>/dev/null || echo 0; }

# One run: writes its figures as one JSON object to stdout (the analysis below).
one_run() {
    local check=$1 setup=$2 scenario=$3 run=$4 fault at vip_at vip_ms=- since heal_at=- holder
    local ka_a ka_b ids_from=b ids_at
    lab_up "$check" "$setup" || die "lab up $(up_flags "$check" "$setup") failed twice"
    [[ $(lab vip) == a ]] || die "after up, the VIP is not on A"
    lab client start >>"$WORK/lab.log" 2>&1
    wait_until 60 client_writing || die "the client did not get 20 acknowledged writes within 60s"
    # keepalived's own logs have whole seconds: what it wrote after the fault is what follows
    # these line counts.
    ka_a=$(log_lines "$LABDIR/a/keepalived.log")
    ka_b=$(log_lines "$LABDIR/b/keepalived.log")
    if [[ $scenario == stalls ]]; then
        fault=$(lab fault stalls "${STALLS_ARGS[@]}" 2>>"$WORK/lab.log")
    else
        fault=$(lab fault "$scenario" 2>>"$WORK/lab.log")
    fi
    at=$(sed -n 's/.*"at_ms":\([0-9]*\).*/\1/p' <<<"$fault")
    [[ -n $at ]] || die "unexpected fault output: $fault"
    if [[ $scenario == stalls ]]; then
        # The client writes on through the stalls; they end by themselves after FOR_S.
        wait_until $((STALLS_ARGS[2] + 20)) stalls_over || say "  the stalls did not end within $((STALLS_ARGS[2] + 20))s"
        sleep 2
        ids_from=a
    elif vip_at=$(lab vip --wait b --timeout "$VIP_TIMEOUT" 2>>"$WORK/lab.log"); then
        vip_ms=$((vip_at - at))
        # Writes resume on B (bounded), then a few more seconds of them.
        wait_until 30 b_writing "$at" || say "  B acknowledged fewer than 10 writes within 30s of the VIP"
        sleep 2
    fi
    # The writes the writer at the end has: the client stopped first, except before a heal
    # (it writes on through the heal); acknowledgements after ids_at are not counted.
    [[ $scenario == host-freeze ]] || lab client stop >>"$WORK/lab.log" 2>&1
    ids_at=$(date +%s%3N)
    if [[ $scenario != stalls && $vip_ms == - ]]; then
        : >"$WORK/ids"
    else
        lab sql "$ids_from" "SELECT id FROM kam.writes" >"$WORK/ids" 2>>"$WORK/lab.log" || : >"$WORK/ids"
    fi
    if [[ $scenario == host-freeze ]]; then
        # Every process of A continues at once; then until A is fenced again (bounded), and a
        # little more of the client's writes.
        heal_at=$(lab heal all 2>>"$WORK/lab.log" | sed -n 's/.*"at_ms":\([0-9]*\).*/\1/p')
        [[ -n $heal_at ]] || die "lab heal all failed: $(tail -n 5 "$WORK/lab.log")"
        wait_until 10 a_fenced_since "$heal_at" || say "  A not seen read_only=ON within 10s of the heal"
        sleep 2
    fi
    holder=$(lab vip 2>>"$WORK/lab.log" || echo "?")
    : >"$WORK/ids-end"
    if [[ $scenario == host-freeze ]]; then
        lab client stop >>"$WORK/lab.log" 2>&1
        # After the heal: the writes the final writer has (replication given a second), and
        # whether replication still runs both ways.
        sleep 1
        if [[ $holder == a || $holder == b ]]; then
            lab sql "$holder" "SELECT id FROM kam.writes" >"$WORK/ids-end" 2>>"$WORK/lab.log" || : >"$WORK/ids-end"
        fi
        for n in a b; do
            printf '%s %s\n' "$n" "$(lab sql "$n" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='SLAVE_RUNNING'" 2>>"$WORK/lab.log" || echo "?")"
        done >"$WORK/slave-running"
    fi
    since=$((at - 2000))
    lab client report --json --since "$since" >"$WORK/report.json"
    python3 - "$LABDIR" "$WORK/report.json" "$WORK/ids" "$ids_from" "$check" "$setup" "$scenario" \
        "$run" "$at" "$vip_ms" "$heal_at" "$holder" "$ka_a" "$ka_b" "$ids_at" "$WORK/ids-end" \
        "$WORK/slave-running" <<'PY'
import json, re, statistics, sys
(labdir, report_path, ids_path, ids_from, check, setup, scenario, run, at, vip_ms, heal_at,
 holder, ka_a, ka_b, ids_at, ids_end_path, slave_running_path) = sys.argv[1:]
at, ka, ids_at = int(at), {"a": int(ka_a), "b": int(ka_b)}, int(ids_at)
heal = None if heal_at == "-" else int(heal_at)
report = json.load(open(report_path))
rel = lambda t: None if t is None else t - at

def lines(path):
    try:
        return open(path, errors="replace").read().splitlines()
    except OSError:
        return []

# The client: acked.log `start_ms end_ms id gtid server_id`.
acked = [l.split() for l in lines(f"{labdir}/c/acked.log") if l.strip()]
ends = sorted(int(f[1]) for f in acked)
first_b = min((int(f[1]) for f in acked if f[4] == "2" and int(f[1]) > at), default=None)
def longest_gap(t0, t1):  # the longest time without an acknowledged write in [t0, t1]
    stamps = [t0] + [e for e in ends if t0 < e < t1] + [t1]
    return max(b - a for a, b in zip(stamps, stamps[1:]))
stop = report.get("last_ms") or (ends[-1] if ends else at)

present = {l.strip() for l in lines(ids_path) if l.strip()}
missing = (None if (scenario != "stalls" and vip_ms == "-")
           else sum(1 for f in acked if int(f[1]) < ids_at and f[2] not in present))

# The sampler: `EPOCH_MS RO_A RO_B VIP SPAN_MS`.
samples = []
for l in lines(f"{labdir}/samples.log"):
    f = l.split()
    if len(f) >= 5 and f[0].isdigit():
        samples.append((int(f[0]), f[1], f[2], [] if f[3] == "none" else f[3].split(","),
                        int(f[4]) if f[4].isdigit() else 0))
# A sample belongs to the time after the heal when it ended after it (a sample of a frozen
# node waits for its answer: one taken before the heal can end after it).
window = [x for x in samples if x[0] >= at - 2000 and (heal is None or x[0] + x[4] < heal)]
after_heal = [x for x in samples if heal is not None and x[0] + x[4] >= heal]
both = sum(1 for x in window if x[1] == "0" and x[2] == "0")
a_fenced = min((x[0] for x in window if x[0] >= at and x[1] == "1"), default=None)

# The syslog: `TIME EPOCH_MS NODE <PRI>Mon DD HH:MM:SS binary[pid]: message`.
LINE = re.compile(r"^\S+ (\d+) (\w+) <\d+>.*? ([\w-]+)\[(\d+)\]: (.*)$")
syslog = []
for l in lines(f"{labdir}/syslog.log"):
    m = LINE.match(l)
    if m:
        syslog.append((int(m[1]), m[2], m[3], m[4], m[5]))
watchers = {(n, pid) for t, n, b, pid, msg in syslog if b == "check-mysql" and msg.startswith("watching every")}
flips = [(t, msg) for t, n, b, pid, msg in syslog
         if n == "a" and (n, pid) in watchers and msg.startswith("track file ") and t >= at]
# Before the heal (after it, the resumed A judges itself again).
before = lambda t: t >= at and (heal is None or t < heal)
first = lambda cond: min((t for t, n, b, pid, msg in syslog if before(t) and cond(n, b, pid, msg)), default=None)
if watchers:
    # The watcher's flip to "must not hold the VIP" (after --fall failed polls).
    judged = min((t for t, msg in flips if before(t) and "(must not hold the VIP)" in msg), default=None)
    first_fail = first(lambda n, b, pid, msg: n == "a" and (n, pid) in watchers and msg.startswith("FAIL"))
else:
    # The one-shot check's first failing verdict (keepalived then waits for fall 2).
    judged = first(lambda n, b, pid, msg: n == "a" and b == "check-mysql" and msg.startswith("FAIL"))
    first_fail = judged
nm_start = first(lambda n, b, pid, msg: n == "b" and b == "notify-master")
promoted = first(lambda n, b, pid, msg: n == "b" and b == "notify-master" and msg.startswith("OK writer"))
nm_refused = first(lambda n, b, pid, msg: n == "b" and b == "notify-master" and not msg.startswith(("OK", "promoting")) and "refus" in msg)

# keepalived (whole seconds): the state changes it logged after the fault.
def ka_entries(node):
    out = {}
    for l in lines(f"{labdir}/{node}/keepalived.log")[ka[node]:]:
        m = re.search(r"\(VI_1\) Entering (\w+) STATE", l)
        if m:
            out[m[1]] = out.get(m[1], 0) + 1
    return out
ka_after = {n: ka_entries(n) for n in ("a", "b")}

# The client's failed attempts (`start_ms end_ms id rc error`): the last one before the first
# write on B (a connect that waited out its timeout shows as ~1000 ms).
failed = []
for l in lines(f"{labdir}/c/failed.log"):
    f = l.split(None, 4)
    if len(f) >= 4 and f[0].isdigit() and f[1].isdigit():
        failed.append((int(f[0]), int(f[1]), f[4] if len(f) > 4 else f"exit {f[3]}"))
last_fail = max((x for x in failed if first_b is not None and at <= x[1] <= first_b),
                key=lambda x: x[1], default=None)

stalls = [l.split() for l in lines(f"{labdir}/a/stalls.log") if "stall" in l]
stall_ms = [int(f[3]) for f in stalls if len(f) >= 4 and f[3].isdigit()]
after = [x for x in samples if x[0] >= at]
out = {
    "check": check, "setup": setup, "scenario": scenario, "run": int(run), "at_ms": at,
    "vip_ms": None if vip_ms == "-" else int(vip_ms),
    "first_write_b_ms": rel(first_b),
    "outage_ms": report["longest_outage_ms"],
    "missing": missing, "missing_on": ids_from,
    "acked": report["acked"], "failed": report["failed"],
    "both_writable": both,
    "a_fenced_ms": rel(a_fenced),
    # Where the time goes (ms from the fault).
    "a_first_fail_ms": rel(first_fail),
    "a_judged_down_ms": rel(judged),
    "b_notify_master_ms": rel(nm_start),
    "b_promoted_ms": rel(promoted),
    "b_refused_ms": rel(nm_refused),
    "keepalived_after_fault": ka_after,
    "client_last_fail": None if last_fail is None else {
        "start_ms": last_fail[0] - at, "end_ms": last_fail[1] - at,
        "took_ms": last_fail[1] - last_fail[0], "error": last_fail[2][:90]},
    "vip_end": holder,
}
if heal is not None:
    out.update({
        "heal_ms": heal - at,
        "outage_before_heal_ms": longest_gap(at - 2000, heal),
        "outage_after_heal_ms": longest_gap(heal, stop),
        "both_writable_after_heal": sum(1 for x in after_heal if x[1] == "0" and x[2] == "0"),
        "vip_on_a_after_heal": sum(1 for x in after_heal if "a" in x[3]),
        "vip_on_both_after_heal": sum(1 for x in after_heal if len(x[3]) > 1),
        "heal_to_a_fenced_ms": min((x[0] - heal for x in after_heal if x[1] == "1"), default=None),
        "missing_on_final_writer": (None if holder not in ("a", "b") else sum(
            1 for f in acked if f[2] not in {l.strip() for l in lines(ids_end_path) if l.strip()})),
        "slave_running_end": dict(l.split(None, 1) for l in lines(slave_running_path) if " " in l),
        "replication_errors_after_heal": sorted({f"{n}: {m[1]}" for t, n, b, pid, msg in syslog
            if t >= heal for m in [re.search(r"SQL thread stopped with error (\d+)", msg)] if m}),
        "b_fenced_after_heal": any(t >= heal and n == "b" and b == "notify-backup" for t, n, b, pid, msg in syslog),
    })
if scenario == "stalls":
    out.update({
        "stalls": len(stall_ms), "stall_max_ms": max(stall_ms, default=None),
        "samples_vip_not_a": sum(1 for x in after if x[3] != ["a"]),
        "samples": len(after),
        "a_fault_backup_entries": ka_after["a"].get("FAULT", 0) + ka_after["a"].get("BACKUP", 0),
        "b_master_entries": ka_after["b"].get("MASTER", 0),
        "watcher_flips": len(flips),
        "writes_on_b": sum(1 for f in acked if f[4] == "2" and int(f[1]) > at),
    })
    out["vip_left_a"] = bool(out["samples_vip_not_a"] or out["a_fault_backup_entries"]
                             or out["b_master_entries"] or holder != "a")
print(json.dumps(out, sort_keys=True))
PY
    if [[ -n ${LOGS_DIR:-} ]]; then
        local keep=$LOGS_DIR/$check-$setup-$scenario-$run
        mkdir -p "$keep"
        cp -r "$LABDIR/c" "$keep/client"
        cp "$LABDIR/syslog.log" "$LABDIR/faults.log" "$LABDIR/samples.log" "$keep/" 2>/dev/null || true
        for n in a b; do
            cp "$LABDIR/$n/keepalived.log" "$keep/keepalived-$n.log" 2>/dev/null || true
            cp "$LABDIR/$n/keepalived.conf" "$keep/keepalived-$n.conf" 2>/dev/null || true
            cp "$LABDIR/$n/error.log" "$keep/mariadbd-$n.log" 2>/dev/null || true
            cp "$LABDIR/$n/watcher.log" "$keep/watcher-$n.log" 2>/dev/null || true
            cp "$LABDIR/$n/stalls.log" "$keep/stalls-$n.log" 2>/dev/null || true
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
say "$total runs ($SET): $(printf '{%s} ' "${COMBOS[@]}")x $RUNS; lab '$NAME'; load $LOAD_START"
: >"$WORK/runs.jsonl"
for combo in "${COMBOS[@]}"; do
    read -r check setup scenario <<<"$combo"
    for run in $(seq 1 "$RUNS"); do
        i=$((i + 1))
        say "[$i/$total] $check $setup $scenario run $run/$RUNS"
        t0=$SECONDS
        one_run "$check" "$setup" "$scenario" "$run" >"$WORK/run.json"
        line=$(tail -n 1 "$WORK/run.json")
        [[ $line == "{"* ]] || die "run failed (no result); lab log:
$(tail -n 30 "$WORK/lab.log")"
        echo "$line" >>"$WORK/runs.jsonl"
        [[ -z ${LOGS_DIR:-} ]] || echo "$line" >"$LOGS_DIR/$check-$setup-$scenario-$run/run.json"
        python3 - "$line" "$((SECONDS - t0))" >&2 <<'PY'
import json, sys
r, secs = json.loads(sys.argv[1]), sys.argv[2]
g = lambda k: "-" if r.get(k) is None else r[k]
if r["scenario"] == "stalls":
    print(f"failover:   {g('stalls')} stalls (max {g('stall_max_ms')} ms); VIP left A: "
          f"{'YES' if r['vip_left_a'] else 'no'} ({g('samples_vip_not_a')} samples off A, "
          f"{g('a_fault_backup_entries')} FAULT/BACKUP entries on A); watcher flips "
          f"{g('watcher_flips')}; longest outage {g('outage_ms')} ms; {g('missing')} acknowledged "
          f"missing on A; {g('both_writable')} samples both writable ({secs}s)")
elif r["vip_ms"] is None:
    print(f"failover:   did not fail over; longest outage {g('outage_ms')} ms ({secs}s)")
else:
    extra = ""
    if "heal_ms" in r:
        extra = (f"; after the heal: {g('both_writable_after_heal')} samples both writable, A "
                 f"fenced after {g('heal_to_a_fenced_ms')} ms, outage {g('outage_after_heal_ms')} "
                 f"ms, VIP on {g('vip_end')}, {g('missing_on_final_writer')} acknowledged missing "
                 f"there, replication running {g('slave_running_end')}, errors "
                 f"{g('replication_errors_after_heal')}")
    print(f"failover:   VIP on B after {g('vip_ms')} ms, B promoted after {g('b_promoted_ms')} ms, "
          f"first write on B after {g('first_write_b_ms')} ms, longest outage {g('outage_ms')} ms, "
          f"{g('missing')} acknowledged missing on B, {g('both_writable')} samples both writable"
          f"{extra} ({secs}s)")
PY
    done
done

say "writing $OUT"
mkdir -p "$(dirname "$OUT")"
MACHINE=$(bench_machine_md "$LOAD_START" "$OTHERS_START")
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git status --porcelain -- src Cargo.toml Cargo.lock lab 2>/dev/null) ]] || REV="$REV (with uncommitted changes in src/, lab/ or Cargo.*)"
# Issue 11's set keeps issue 11's report (its rows, its targets); the rest gets the report
# below (issue 12's goals, the heal after a host freeze, the stalls, where the time goes).
if [[ $SET == issue11 ]]; then
    python3 - "$WORK/runs.jsonl" >"$WORK/runs.tsv" <<'PY'
import json, sys
KEYS = ("check", "setup", "scenario", "run", "vip_ms", "outage_ms", "first_write_b_ms",
        "missing", "acked", "failed", "both_writable", "a_fenced_ms")
for l in open(sys.argv[1]):
    if l.strip():
        r = json.loads(l)
        print("\t".join("-" if r.get(k) is None else str(r[k]) for k in KEYS))
PY
    python3 - "$WORK/runs.tsv" "$RUNS" "$VIP_TIMEOUT" "$CMDLINE" "$MACHINE" "$STARTED" "$REV" >"$WORK/failover.md" <<'PY'
import statistics, sys
# check setup scenario run vip outage first_b missing acked failed both_writable a_fenced
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs, vip_timeout, cmdline, machine, started, rev = sys.argv[2:8]
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
      f"Command: `{cmdline}` (as root); release binaries of {rev}. {machine}\n")
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
else
    python3 - "$WORK/runs.jsonl" "$RUNS" "$VIP_TIMEOUT" "$CMDLINE" "$MACHINE" "$STARTED" "$REV" "${STALLS_ARGS[*]}" >"$WORK/failover.md" <<'PY'
import json, statistics, sys
runs_path, nruns, vip_timeout, cmdline, machine, started, rev, stalls_args = sys.argv[1:9]
rows = [json.loads(l) for l in open(runs_path) if l.strip()]
combos = list(dict.fromkeys((r["check"], r["setup"], r["scenario"]) for r in rows))
SETUP = {"noguard": "no guard (`--no-guard`)", "guard": "guard: one-shot check (today)",
         "witness": "witness, one-shot check", "watch": "**watch** (`--watch`)",
         "watch-witness": "**watch + witness** (`--watch --witness`)", "seed": "seed mysql_check.sh"}
FAILOVER = ("kill-writer", "hang-writer", "host-freeze", "isolate-a")
ms_every, every_s, for_s = stalls_args.split()

def pick(setup, scenario):
    return [r for r in rows if (r["setup"], r["scenario"]) == (setup, scenario)]

def vals(rs, f):
    out = []
    for r in rs:
        v = f(r) if callable(f) else r.get(f)
        if v is not None:
            out.append(v)
    return out

def med(rs, f):
    v = vals(rs, f)
    return statistics.median(v) if v else None

def cell(rs, f):
    v = vals(rs, f)
    if not v:
        return "—"
    m = statistics.median(v)
    return f"{m:.0f} ({min(v)}–{max(v)})" if len(v) > 1 else f"{m:.0f}"

def total(rs, f):
    v = vals(rs, f)
    return f"{sum(v)} in {len(v)} run(s)" if v else "—"

def diff(a, b):  # per-run b - a, when both exist
    return lambda r: None if r.get(a) is None or r.get(b) is None else r[b] - r[a]

print(f"Failover on the lab (`lab/lab`: MariaDB dual master + keepalived in network namespaces, "
      f"one client writing through the VIP), {nruns} run(s) per row, a fresh lab for each run, "
      f"every row of this section from one run of the script. Command: `{cmdline}` (as root, "
      f"under `flock /tmp/kam-lab.lock`); release binaries of {rev}. {machine}\n")
print("Setups: *guard* (`lab up`, the lab's default and issue 12's *today*): the one-shot "
      "`check-mysql` as keepalived's `vrrp_script` (`interval 1`, `timeout 2`, `fall 2`, `rise "
      "2`, `weight 0`), VRRPv2 `advert_int 1`, the two-node split-brain guard (`--peer`, "
      "`chk_writer` +20). *watch* (`lab up --watch`, issue 12): the same plus one `check-mysql "
      "--watch` per node at the binary's defaults (`--interval 100ms`, `--poll-timeout 250ms`, "
      "`--fall 2`, `--rise 3`, persistent connections) writing keepalived's `track_file` "
      "(`weight 0`), `vrrp_track_process` on the watcher, VRRPv3 `advert_int 0.2`, priorities "
      "230/220 (B's skew 28 ms; `chk_writer` +20 as before); the one-shot "
      "`chk_mysql` stays as the safety net. *watch + witness*: `--watch --witness` (lease TTL "
      "6 s). Scenarios: *kill-writer* SIGKILL A's mariadbd; *hang-writer* SIGSTOP it; "
      "*host-freeze* SIGSTOP every process of host A (keepalived, mariadbd, the watcher and its "
      "restart loop, scripts), `lab heal all` once B has taken the writes; *stalls* `lab fault "
      f"stalls {ms_every} {every_s} {for_s}`: A's mariadbd stopped for {ms_every} ms every "
      f"{every_s} s for {for_s} s under the client's writes. *B writable*: B's notify-master "
      "logged `OK writer: promoted` (read_only=OFF). The client (host C) opens a new connection "
      "per write with `connect-timeout=1`. Times in ms from the fault, median (min–max).\n")

# --- Issue 12's goals, side by side.
def goal_row(label, scenario, goal_ms, goal_text, setups=("guard", "watch")):
    cells = []
    for u in setups:
        rs = pick(u, scenario)
        cells.append(cell(rs, "first_write_b_ms") if rs else "not measured")
    target = pick(setups[-1], scenario)
    m = med(target, "first_write_b_ms")
    if not target:
        verdict = "not measured"
    elif m is None:
        verdict = "**not met** (never)"
    else:
        verdict = f"**{'met' if m <= goal_ms else 'not met'}** ({m:.0f} ms)"
    return f"| {label} | {cells[0]} | {cells[1]} | {goal_text} | {verdict} |"

goal_lines = []
if any(s in FAILOVER for _, _, s in combos) or any(s == "stalls" for _, _, s in combos):
    goal_lines.append(goal_row("killed writer (mariadbd SIGKILL): fault → first acknowledged write on B", "kill-writer", 600, "≤ 600"))
    goal_lines.append(goal_row("hung writer (SIGSTOP): fault → first acknowledged write on B", "hang-writer", 1000, "≤ 1000"))
    goal_lines.append(goal_row("frozen writer host, two-node mode: fault → first acknowledged write on B", "host-freeze", 1500, "≤ 1500"))
    wit = pick("watch-witness", "host-freeze")
    m = med(wit, "first_write_b_ms")
    verdict = ("not measured" if not wit else "**not met** (never)" if m is None
               else f"**{'met' if m <= 7000 else 'not met'}** ({m:.0f} ms)")
    goal_lines.append(f"| frozen writer host, witness mode: fault → first acknowledged write on B | "
                      f"not measured | {cell(wit, 'first_write_b_ms') if wit else 'not measured'} "
                      f"| ≤ lease TTL + 1 s = 7000 | {verdict} |")
    st = {}
    for u in ("guard", "watch"):
        rs = pick(u, "stalls")
        st[u] = (f"VIP off A in {sum(1 for r in rs if r['vip_left_a'])}/{len(rs)} runs"
                 if rs else "not measured")
    rs = pick("watch", "stalls")
    verdict = ("not measured" if not rs else
               f"**{'met' if not any(r['vip_left_a'] for r in rs) else 'not met'}**")
    goal_lines.append(f"| writer stalls of {ms_every} ms every {every_s} s for {for_s} s under a "
                      f"write load | {st['guard']} | {st['watch']} | the VIP never moves | {verdict} |")
    goal_lines.append("| watcher cost at the default interval | — | see *Cost of one check* → "
                      "*Watcher* (bench/bench.sh) | ≤ 1 % of one core, RSS ≤ 6 MiB, one "
                      "connection | there |")
    print("Issue 12's goals (medians over the runs of this section; *today* = the guard setup, "
          "measured in the same run):\n")
    print("| scenario | today (guard, one-shot check) | watch | goal (ms) | watch meets it |")
    print("|---|---|---|---|---|")
    print("\n".join(goal_lines) + "\n")

# --- Failover rows.
fo = [(c, u, s) for c, u, s in combos if s in FAILOVER]
if fo:
    print("| setup | scenario | failed over | fault → VIP on B | fault → B writable | fault → "
          "first write on B | longest client write outage | acknowledged writes missing on B "
          "| samples both writable |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c, u, s in fo:
        rs = pick(u, s)
        ok = [r for r in rs if r["vip_ms"] is not None]
        note = " (until the heal)" if s == "host-freeze" else ""
        print(f"| {SETUP.get(u, u)} | {s} | {len(ok)}/{len(rs)} | {cell(rs, 'vip_ms')} | "
              f"{cell(rs, 'b_promoted_ms')} | {cell(rs, 'first_write_b_ms')} | "
              f"{cell(rs, 'outage_ms')} | {total(rs, 'missing')} | {total(rs, 'both_writable')}{note} |")
    print()
    for r in rows:
        if r["scenario"] in FAILOVER and r["vip_ms"] is None:
            print(f"- {r['setup']} {r['scenario']} run {r['run']}: did not fail over within "
                  f"{vip_timeout}s (longest outage {r['outage_ms']} ms).")

# --- Host freeze: after the heal.
hf = [(c, u, s) for c, u, s in combos if s == "host-freeze"]
if hf:
    print("\nHost freeze, after `lab heal all` (every process of A continued at once, B the writer "
          "by then; the sampler's 200 ms samples from the heal to the client's stop, 2 s after A "
          "was seen fenced or 12 s after the heal; *B fenced*: B's notify-backup ran after the "
          "heal; *missing on the final writer*: acknowledged writes absent from the VIP holder's "
          "table at the end; *replication errors*: `SQL thread stopped with error N` in syslog "
          "after the heal):\n")
    print("| setup | heal → A seen read_only=ON | samples both writable after the heal | samples "
          "with the VIP on both | longest outage before the heal | longest outage after the "
          "heal | VIP at the end | B fenced after the heal | acknowledged writes missing on the "
          "final writer | replication errors after the heal |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c, u, s in hf:
        rs = pick(u, s)
        ends = ", ".join(f"{v}: {n}" for v, n in sorted(
            {v: sum(1 for r in rs if r.get("vip_end") == v) for v in {r.get("vip_end") for r in rs}}.items()))
        print(f"| {SETUP.get(u, u)} | {cell(rs, 'heal_to_a_fenced_ms')} | "
              f"{total(rs, 'both_writable_after_heal')} | {total(rs, 'vip_on_both_after_heal')} | "
              f"{cell(rs, 'outage_before_heal_ms')} | {cell(rs, 'outage_after_heal_ms')} | {ends} | "
              f"{sum(1 for r in rs if r.get('b_fenced_after_heal'))}/{len(rs)} runs | "
              f"{total(rs, 'missing_on_final_writer')} | "
              f"{sum(1 for r in rs if r.get('replication_errors_after_heal'))}/{len(rs)} runs "
              f"({', '.join(sorted({e for r in rs for e in r.get('replication_errors_after_heal') or []})) or 'none'}) |")

# --- Stalls.
stl = [(c, u, s) for c, u, s in combos if s == "stalls"]
if stl:
    print(f"\nWriter stalls (`lab fault stalls {ms_every} {every_s} {for_s}`, the client writing "
          "throughout; *VIP off A*: a sampler sample whose VIP holder is not A alone, A's "
          "keepalived entering FAULT or BACKUP, B's entering MASTER, or the VIP elsewhere at the "
          "end; *watcher flips*: A's watcher's track-file lines in syslog after the fault):\n")
    print("| setup | runs with the VIP off A | samples with the VIP not on A alone | A's "
          "keepalived FAULT/BACKUP entries | B's MASTER entries | watcher flips on A | longest "
          "client write outage | stalls done (longest, ms) | samples both writable | "
          "acknowledged writes missing on A |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c, u, s in stl:
        rs = pick(u, s)
        flips = "—" if u not in ("watch", "watch-witness") else total(rs, "watcher_flips")
        print(f"| {SETUP.get(u, u)} | {sum(1 for r in rs if r['vip_left_a'])}/{len(rs)} | "
              f"{total(rs, 'samples_vip_not_a')} | {total(rs, 'a_fault_backup_entries')} | "
              f"{total(rs, 'b_master_entries')} | {flips} | {cell(rs, 'outage_ms')} | "
              f"{cell(rs, 'stalls')} ({max(vals(rs, 'stall_max_ms'), default='—')}) | "
              f"{total(rs, 'both_writable')} | {total(rs, 'missing')} |")

# --- Where the time goes, from each run's syslog (epoch ms per line) and the client's logs.
if fo:
    print("\n### Where the time goes\n")
    print("From each run's logs (the lab's syslog of our binaries, ms per line; the client's "
          "logs), medians of the per-run differences (min–max). *A judged down*: with the "
          "watcher, its track file flipped to \"must not hold the VIP\" on A (after `--fall 2` "
          "failed polls); with the one-shot check, its first failing verdict on A (keepalived "
          "then waits for a second one, `fall 2`, one `interval` later). *→ B's notify-master*: "
          "from there to B's notify-master's first line: keepalived's reaction (A's FAULT, its "
          "priority-0 advert or, for a frozen host, B's master-down timer), B's VRRP skew, B's "
          "MASTER and the fork of notify-master (for host-freeze: from the fault). *notify-master*: "
          "its first line to `OK writer: promoted` (the peer probe, the catch-up, the lease in "
          "witness mode, read_only=OFF). *client*: from B writable to the client's first "
          "acknowledged write on B; *client's last failed attempt*: the one that ended last "
          "before it (start → end, ms from the fault).\n")
    print("| setup | scenario | A's first failed poll / check | A judged down | → B's "
          "notify-master starts | notify-master (probe, catch-up, unfence) | → first write on B "
          "(client) | = fault → first write on B | client's last failed attempt |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c, u, s in fo:
        rs = pick(u, s)
        nm = (lambda r: r.get("b_notify_master_ms")) if s in ("host-freeze", "isolate-a") else diff("a_judged_down_ms", "b_notify_master_ms")
        lf = [r["client_last_fail"] for r in rs if r.get("client_last_fail")]
        lf_cell = "—" if not lf else (
            f"{statistics.median(x['start_ms'] for x in lf):.0f} → "
            f"{statistics.median(x['end_ms'] for x in lf):.0f} (took "
            f"{statistics.median(x['took_ms'] for x in lf):.0f}; {sum(1 for x in lf if x['took_ms'] >= 900)}"
            f"/{len(lf)} ≥ 900 ms)")
        print(f"| {SETUP.get(u, u)} | {s} | {cell(rs, 'a_first_fail_ms')} | "
              f"{cell(rs, 'a_judged_down_ms')} | {cell(rs, nm)} | "
              f"{cell(rs, diff('b_notify_master_ms', 'b_promoted_ms'))} | "
              f"{cell(rs, diff('b_promoted_ms', 'first_write_b_ms'))} | "
              f"{cell(rs, 'first_write_b_ms')} | {lf_cell} |")
    print()

print("Every failover run (ms from the fault; `-`: none; *judged*: A judged down, *nm*: B's "
      "notify-master's first line, *promoted*: B writable):\n")
g = lambda r, k: "-" if r.get(k) is None else str(r[k])
if fo:
    print("| setup | scenario | run | VIP on B | judged | nm | promoted | first write on B | "
          "longest outage | missing on B | acked | failed | both writable | A fenced | after "
          "the heal: both writable, A fenced, outage, VIP at the end, missing there, "
          "replication errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["scenario"] not in FAILOVER:
            continue
        heal = "-" if "heal_ms" not in r else (
            f"{g(r, 'both_writable_after_heal')}, {g(r, 'heal_to_a_fenced_ms')}, "
            f"{g(r, 'outage_after_heal_ms')}, {g(r, 'vip_end')}, "
            f"{g(r, 'missing_on_final_writer')}, {'/'.join(r.get('replication_errors_after_heal') or []) or '-'}")
        print(f"| {r['setup']} | {r['scenario']} | {r['run']} | {g(r, 'vip_ms')} | "
              f"{g(r, 'a_judged_down_ms')} | {g(r, 'b_notify_master_ms')} | {g(r, 'b_promoted_ms')} | "
              f"{g(r, 'first_write_b_ms')} | {g(r, 'outage_ms')} | {g(r, 'missing')} | "
              f"{g(r, 'acked')} | {g(r, 'failed')} | {g(r, 'both_writable')} | "
              f"{g(r, 'a_fenced_ms')} | {heal} |")
if stl:
    print("\n| setup | stalls run | stalls (longest ms) | VIP off A | samples VIP not on A alone "
          "| A FAULT/BACKUP | B MASTER | watcher flips | longest outage | acked | failed | "
          "both writable | missing on A |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["scenario"] != "stalls":
            continue
        print(f"| {r['setup']} | {r['run']} | {g(r, 'stalls')} ({g(r, 'stall_max_ms')}) | "
              f"{'yes' if r['vip_left_a'] else 'no'} | {g(r, 'samples_vip_not_a')}/{g(r, 'samples')} | "
              f"{g(r, 'a_fault_backup_entries')} | {g(r, 'b_master_entries')} | "
              f"{g(r, 'watcher_flips') if r['setup'].startswith('watch') else '-'} | "
              f"{g(r, 'outage_ms')} | {g(r, 'acked')} | {g(r, 'failed')} | "
              f"{g(r, 'both_writable')} | {g(r, 'missing')} |")
PY
fi
mv "$WORK/failover.md" "$OUT"
cat "$OUT"
bash bench/report.sh
say "done ($STARTED -> $(date -u '+%H:%M UTC'))"
