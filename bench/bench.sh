#!/usr/bin/env bash
# Per-check cost, side by side in one run: check-mysql vs the seed's mysql_check.sh vs one
# `mariadb -e 'select 1'`, against a real dual-master pair on loopback, and in the same hyperfine
# run check-mysql with the split-brain guard (issue 11): `--peer` (two-node mode) and `--peer
# --witness` (witness mode, a third local mariadbd as W), each on the standby and on the writer,
# next to the plain check in the same role; then the check's cost with 1, 4 and 16 replication
# connections; and, in the same run, the cost of `check-mysql --watch` (issue 12: the long-running
# watcher, at its default interval) on the writer and on the standby, next to the one-shot
# check's cost per second at keepalived's `interval 1`. Writes bench/results/check-cost.md, and
# then BENCHMARKS.md (bench/report.sh) from it and bench/results/failover.md.
#
# The servers: A (server_id 1, the writer: read_only=OFF, writer_since set as notify-master sets
# it), B (2, the standby: read_only=ON), W (3, standalone). packaging/split-brain.sql on all
# three; the accounts as packaging/grants.sql gives them: `monitor` (SLAVE MONITOR, SELECT on
# the guard's table) for the plain and two-node rows, `wcheck` (the witness section's grants)
# for the witness rows. Witness mode runs with the --check-interval / --lease-ttl defaults.
#
# The watcher (WATCH_SECONDS, default 30): `check-mysql --watch` with the binary's defaults
# (--interval 100ms, --poll-timeout 250ms, --fall 2, --rise 3) and `--peer` as the lab runs it,
# first on the writer A (peer B), then on the standby B (peer A), one after the other, each for
# WATCH_SECONDS after its first verdict; as its own account `watcher` (the monitor's grants) so
# that information_schema.PROCESSLIST counts its connections alone. From /proc/PID: CPU
# (utime+stime over the wall time of that window, % of one core), VmHWM (peak RSS), VmRSS at
# the end, Threads.
#
#   bench/bench.sh            (root; needs mariadb-server mariadb-client hyperfine time)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-300}
WATCH_SECONDS=${WATCH_SECONDS:-30}
[[ $WATCH_SECONDS =~ ^[1-9][0-9]*$ ]] || { echo "bench: WATCH_SECONDS must be a positive number" >&2; exit 1; }
OUT=bench/results
mkdir -p "$OUT"
# shellcheck source=bench/lib.sh
. bench/lib.sh
# Sampled before anything of ours runs (the results say how busy the machine was).
LOAD_START=$(bench_load)
OTHERS_START=$(bench_others_running)

need() { command -v "$1" >/dev/null || { echo "bench: $1 missing: apt-get install $2" >&2; exit 1; }; }
need hyperfine hyperfine
need mariadbd mariadb-server
need mariadb mariadb-client
need python3 python3
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing: apt-get install time" >&2; exit 1; }

echo "bench: building check-mysql (release)"
cargo build --release --quiet --bin check-mysql
CHECK=$ROOT/target/release/check-mysql

# The check as it was before the split-brain guard (issue 11): with --peer it probed the peer
# (GTID history) but read no guard row. Its `--peer` rows are what the guard adds to, on a pair
# that already ran with --peer (the README's configuration before issue 11). Built from that
# commit's tree into target/bench-base/ (its own target dir, seeded from target/release so that
# only this crate compiles). PRE_GUARD_REV= (empty) leaves those rows out.
PRE_GUARD_REV=${PRE_GUARD_REV-d0c0b08c8a136f8596bfd33c44a92b45b42bff5f}
BASE_CHECK=""
if [[ -n $PRE_GUARD_REV ]]; then
    echo "bench: building check-mysql before the guard ($PRE_GUARD_REV, release)"
    base=$ROOT/target/bench-base
    git cat-file -e "$PRE_GUARD_REV^{commit}" 2>/dev/null ||
        { echo "bench: PRE_GUARD_REV $PRE_GUARD_REV is not a commit here (PRE_GUARD_REV= to skip)" >&2; exit 1; }
    if [[ ! -d $base/target/release ]]; then
        mkdir -p "$base/target"
        cp -a "$ROOT/target/release" "$base/target/release"
    fi
    rm -rf "$base/src"
    mkdir -p "$base/src"
    git archive "$PRE_GUARD_REV" | tar -x -C "$base/src"
    cargo build --release --quiet --bin check-mysql --manifest-path "$base/src/Cargo.toml" \
        --target-dir "$base/target"
    BASE_CHECK=$base/target/release/check-mysql
fi

WORK=$(mktemp -d /tmp/kam-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server() { # id port
    local id=$1 port=$2 d=$WORK/s$1
    mkdir -p "$d"
    cat > "$d/my.cnf" <<EOF
[mysqld]
user=root
datadir=$d/data
socket=$d/sock
pid-file=$d/pid
port=$port
bind-address=127.0.0.1
log_bin=$d/bin
log_slave_updates=ON
binlog_format=ROW
gtid_strict_mode=ON
server_id=$id
auto_increment_increment=2
auto_increment_offset=$id
skip-name-resolve
innodb_buffer_pool_size=32M
performance_schema=OFF
EOF
    mariadb-install-db --defaults-file="$d/my.cnf" --auth-root-authentication-method=normal --skip-test-db >"$d/install.log" 2>&1
    mariadbd --defaults-file="$d/my.cnf" >"$d/error.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 300); do
        mariadb -h127.0.0.1 -P"$port" -uroot -e 'select 1' >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench: server $id did not start:" >&2; tail "$d/error.log" >&2; exit 1
}

sql() { local port=$1; shift; mariadb -h127.0.0.1 -P"$port" -uroot -N -e "$*"; }

PA=$(free_port); PB=$(free_port); PW=$(free_port)
echo "bench: starting a dual-master pair on 127.0.0.1:$PA and :$PB, the witness on :$PW"
start_server 1 "$PA"; start_server 2 "$PB"; start_server 3 "$PW"
for p in "$PA" "$PB" "$PW"; do
    # The guard's table first (grants on it need it); it never enters the binlog.
    mariadb -h127.0.0.1 -P"$p" -uroot < packaging/split-brain.sql
done
# Per server, with sql_log_bin=0 (no replication of accounts needed: each server gets its own).
# wcheck: grants.sql's witness section for the check account (A and B: SLAVE MONITOR too).
WITNESS_GRANTS="CREATE USER wcheck@'127.0.0.1' IDENTIFIED BY 'wcheck-pw';
              GRANT BINLOG ADMIN, READ_ONLY ADMIN ON *.* TO wcheck@'127.0.0.1';
              GRANT SELECT, UPDATE ON keepalived_mysql.guard TO wcheck@'127.0.0.1';"
for p in "$PA" "$PB"; do
    sql "$p" "SET sql_log_bin=0; CREATE USER repl@'127.0.0.1' IDENTIFIED BY 'repl-pw';
              GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1';
              CREATE USER monitor@'127.0.0.1' IDENTIFIED BY 'mon-pw';
              GRANT SLAVE MONITOR ON *.* TO monitor@'127.0.0.1';
              GRANT SELECT ON keepalived_mysql.guard TO monitor@'127.0.0.1';
              CREATE USER watcher@'127.0.0.1' IDENTIFIED BY 'watch-pw';
              GRANT SLAVE MONITOR ON *.* TO watcher@'127.0.0.1';
              GRANT SELECT ON keepalived_mysql.guard TO watcher@'127.0.0.1';
              $WITNESS_GRANTS
              GRANT SLAVE MONITOR ON *.* TO wcheck@'127.0.0.1';"
done
sql "$PW" "SET sql_log_bin=0; $WITNESS_GRANTS"
sql "$PA" "CHANGE MASTER TO master_host='127.0.0.1', master_port=$PB, master_user='repl', master_password='repl-pw', master_use_gtid=slave_pos; START SLAVE;"
sql "$PB" "CHANGE MASTER TO master_host='127.0.0.1', master_port=$PA, master_user='repl', master_password='repl-pw', master_use_gtid=slave_pos; START SLAVE;"
sql "$PA" "CREATE DATABASE bench; CREATE TABLE bench.t (id INT PRIMARY KEY AUTO_INCREMENT, v INT); INSERT INTO bench.t (v) VALUES (1),(2),(3);"
for _ in $(seq 1 100); do
    [ "$(sql "$PB" "SELECT COUNT(*) FROM bench.t" 2>/dev/null || true)" = 3 ] && break
    sleep 0.1
done
# The roles as the notify helpers leave them: B fenced, A the writer since now (its guard row's
# writer_since, written as notify-master writes it: not binlogged).
sql "$PB" "SET GLOBAL read_only=ON"
sql "$PA" "SET GLOBAL read_only=OFF; SET SESSION sql_log_bin=0;
           UPDATE keepalived_mysql.guard SET writer_since=NOW(6) WHERE id=1"

# The plain rows of the first table are measured on the standby: the seed script's job is to
# check replication.
cnf() { # FILE PORT USER PASSWORD
    printf '[client]\nhost=127.0.0.1\nport=%s\nuser=%s\npassword=%s\n' "$2" "$3" "$4" > "$1"
    chmod 600 "$1"
}
CNF=$WORK/monitor.cnf; cnf "$CNF" "$PB" monitor mon-pw
CNF_A=$WORK/monitor-a.cnf; cnf "$CNF_A" "$PA" monitor mon-pw
WCNF=$WORK/wcheck.cnf; cnf "$WCNF" "$PB" wcheck wcheck-pw
WCNF_A=$WORK/wcheck-a.cnf; cnf "$WCNF_A" "$PA" wcheck wcheck-pw
export DEFAULTS=$CNF
STATE=$WORK/state
# One state dir per row: the guarded rows keep check-mysql.received (and lease.server-id) there.
ours() { # STATE_NAME ARGS...: a check-mysql command line
    local st=$WORK/state-$1
    shift
    echo "$CHECK $* --state-dir $st --no-syslog"
}
CMD_OURS="$CHECK --defaults-file $CNF --role standby --state-dir $STATE --no-syslog"
CMD_SEED="/bin/bash $ROOT/bench/mysql_check.sh"
CMD_ONE="/usr/bin/mariadb --defaults-file=$CNF -e 'select 1'"
CMD_PLAIN_W=$(ours plain-w --defaults-file "$CNF_A" --role writer)
CMD_GUARD_S=$(ours guard-s --defaults-file "$CNF" --role standby --peer "127.0.0.1:$PA")
CMD_GUARD_W=$(ours guard-w --defaults-file "$CNF_A" --role writer --peer "127.0.0.1:$PB")
if [[ -n $BASE_CHECK ]]; then
    CMD_BASE_PLAIN_S="$BASE_CHECK --defaults-file $CNF --role standby --state-dir $WORK/state-base-plain-s --no-syslog"
    CMD_BASE_PLAIN_W="$BASE_CHECK --defaults-file $CNF_A --role writer --state-dir $WORK/state-base-plain-w --no-syslog"
    CMD_BASE_S="$BASE_CHECK --defaults-file $CNF --role standby --peer 127.0.0.1:$PA --state-dir $WORK/state-base-s --no-syslog"
    CMD_BASE_W="$BASE_CHECK --defaults-file $CNF_A --role writer --peer 127.0.0.1:$PB --state-dir $WORK/state-base-w --no-syslog"
fi
CMD_WIT_S=$(ours wit-s --defaults-file "$WCNF" --role standby --peer "127.0.0.1:$PA" --witness "127.0.0.1:$PW")
CMD_WIT_W=$(ours wit-w --defaults-file "$WCNF_A" --role writer --peer "127.0.0.1:$PB" --witness "127.0.0.1:$PW")

# Every command must pass before it is timed: a failing check is not a fair comparison.
$CMD_OURS >/dev/null || { echo "bench: check-mysql does not pass: $($CMD_OURS)" >&2; exit 1; }
$CMD_SEED || { echo "bench: mysql_check.sh does not pass" >&2; exit 1; }
# ... and the guarded ones must have done their guard's work. With --peer the guard is on by
# contract (docs/contract.md "Split brain": a missing guard table or grant is exit 78), so a
# two-node row that passes has read both guard rows; the JSON's lease object tells witness mode
# apart: a witness writer that did not renew on all three voters is not the cost measured.
must_pass() { # WHAT EXPECT(python expression on j) COMMAND_LINE
    local what=$1 expect=$2 cmd=$3 out
    # shellcheck disable=SC2086 # a command line, split on purpose
    if ! out=$($cmd --format json); then
        echo "bench: $what does not pass: $out" >&2; exit 1
    fi
    python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if ('"$expect"') else 1)' "$out" ||
        { echo "bench: $what passed without doing its work ($expect): $out" >&2; exit 1; }
}
must_pass "check-mysql (writer)" "j.get('lease') is None" "$CMD_PLAIN_W"
must_pass "check-mysql --peer (standby)" "j.get('lease') is None" "$CMD_GUARD_S"
must_pass "check-mysql --peer (writer)" "j.get('lease') is None" "$CMD_GUARD_W"
if [[ -n $BASE_CHECK ]]; then
    must_pass "check-mysql before the guard (standby)" "True" "$CMD_BASE_PLAIN_S"
    must_pass "check-mysql before the guard (writer)" "True" "$CMD_BASE_PLAIN_W"
    must_pass "check-mysql --peer before the guard (standby)" "True" "$CMD_BASE_S"
    must_pass "check-mysql --peer before the guard (writer)" "True" "$CMD_BASE_W"
fi
must_pass "check-mysql --peer --witness (standby)" "j['lease']['action'] != 'renew'" "$CMD_WIT_S"
must_pass "check-mysql --peer --witness (writer)" \
    "j['lease']['action'] == 'renew' and j['lease']['held'] and j['lease']['votes'] == 3" "$CMD_WIT_W"

peak_rss_kib() { # command...; the largest max-RSS over 20 runs, in KiB
    local max=0 r
    for _ in $(seq 1 20); do
        /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>&1
        r=$(tail -1 "$WORK/rss")
        [ "$r" -gt "$max" ] && max=$r
    done
    echo "$max"
}

echo "bench: hyperfine, $RUNS runs each"
# One run: the plain check and its baselines (today's rows), then per role a block: the plain
# check, (with PRE_GUARD_REV) the check before the guard, plain and with --peer, the two guarded
# checks, and the plain check again. hyperfine times one command after another, so a change of
# the machine's load during the run (other engineers' tests) shifts whole rows: the guarded
# rows sit between two measurements of the plain check in the same role, which are their
# reference (the mean of both) and whose difference is the drift yardstick. NAMES and CMDS are
# the rows; the report finds them by name.
NAMES=(check-mysql "seed mysql_check.sh" "mariadb -e 'select 1'")
CMDS=("$CMD_OURS" "$CMD_SEED" "$CMD_ONE")
for role in standby writer; do
    if [[ $role == standby ]]; then
        plain=$CMD_OURS base_plain=${CMD_BASE_PLAIN_S:-} base_peer=${CMD_BASE_S:-}
        guard=$CMD_GUARD_S wit=$CMD_WIT_S
        # The standby's first plain measurement is today's check-mysql row, just above.
    else
        plain=$CMD_PLAIN_W base_plain=${CMD_BASE_PLAIN_W:-} base_peer=${CMD_BASE_W:-}
        guard=$CMD_GUARD_W wit=$CMD_WIT_W
        NAMES+=("check-mysql, writer"); CMDS+=("$plain")
    fi
    if [[ -n $BASE_CHECK ]]; then
        NAMES+=("check-mysql before the guard, $role" "check-mysql --peer before the guard, $role")
        CMDS+=("$base_plain" "$base_peer")
    fi
    NAMES+=("check-mysql --peer, $role" "check-mysql --peer --witness, $role" "check-mysql again, $role")
    CMDS+=("$guard" "$wit" "$plain")
done
HF_ARGS=()
for i in "${!NAMES[@]}"; do HF_ARGS+=(-n "${NAMES[$i]}" "${CMDS[$i]}"); done
hyperfine --shell=none --warmup 20 --runs "$RUNS" --export-json "$WORK/cost.json" "${HF_ARGS[@]}" >/dev/null
# The witness writer held the lease all along (each run renewed it on A, B and W).
must_pass "check-mysql --peer --witness (writer), after the runs" \
    "j['lease']['held'] and j['lease']['votes'] == 3" "$CMD_WIT_W"

# Peak RSS per row, in the order of NAMES (the seed's and the client's without their shell
# quoting: run directly, not through hyperfine).
: >"$WORK/rss.txt"
for i in "${!NAMES[@]}"; do
    # shellcheck disable=SC2086 # a command line, split on purpose
    case $i in
    1) r=$(peak_rss_kib /bin/bash "$ROOT/bench/mysql_check.sh") ;;
    2) r=$(peak_rss_kib /usr/bin/mariadb --defaults-file="$CNF" -e 'select 1') ;;
    *) r=$(peak_rss_kib ${CMDS[$i]}) ;;
    esac
    printf '%s\t%s\n' "${NAMES[$i]}" "$r" >>"$WORK/rss.txt"
done

# The watcher (issue 12), on the same pair before the scale runs change it: one at a time, the
# writer's (A, --peer B) then the standby's (B, --peer A), each at the binary's defaults, as
# its own account. Sampled from /proc after its first verdict (the track file written), for
# WATCH_SECONDS: CPU ticks (utime+stime, fields 14 and 15 of /proc/PID/stat), VmHWM, VmRSS,
# Threads; its connections from each server's PROCESSLIST at the end of the window.
echo "bench: check-mysql --watch, ${WATCH_SECONDS}s on the writer, then ${WATCH_SECONDS}s on the standby"
CLK_TCK=$(getconf CLK_TCK)
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
proc_status() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
now_ms() { date +%s%3N; }
watch_conns() { sql "$1" "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER='watcher'"; }
watch_polls() { # STATE_DIR: polls so far, from the watcher's status file (rewritten every second)
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["watch"]["polls"])' \
        "$1/check-mysql.watch.json" 2>/dev/null || echo 0
}
: >"$WORK/watch.tsv"
for role in writer standby; do
    if [[ $role == writer ]]; then port=$PA peer=$PB; else port=$PB peer=$PA; fi
    wcnf=$WORK/watcher-$role.cnf; cnf "$wcnf" "$port" watcher watch-pw
    wstate=$WORK/state-watch-$role
    mkdir -p "$wstate"
    "$CHECK" --watch --defaults-file "$wcnf" --role "$role" --peer "127.0.0.1:$peer" \
        --state-dir "$wstate" --no-syslog >"$WORK/watch-$role.out" 2>&1 &
    wpid=$!
    PIDS+=("$wpid")
    for _ in $(seq 1 100); do [[ -s $wstate/check-mysql.track ]] && break; sleep 0.05; done
    track=$(cat "$wstate/check-mysql.track" 2>/dev/null || echo missing)
    [[ $track == 0 ]] || { echo "bench: the $role's watcher does not pass (track file: $track): $(cat "$WORK/watch-$role.out")" >&2; exit 1; }
    sleep 1.1 # the status file rewritten once (its poll count)
    t0=$(now_ms); c0=$(proc_ticks "$wpid"); p0=$(watch_polls "$wstate"); r0=$(proc_status "$wpid" VmRSS)
    sleep "$WATCH_SECONDS"
    t1=$(now_ms); c1=$(proc_ticks "$wpid"); p1=$(watch_polls "$wstate")
    kill -0 "$wpid" 2>/dev/null || { echo "bench: the $role's watcher died: $(cat "$WORK/watch-$role.out")" >&2; exit 1; }
    track=$(cat "$wstate/check-mysql.track")
    polls=$((p1 - p0))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$role" "$((t1 - t0))" "$((c1 - c0))" \
        "$CLK_TCK" "$(proc_status "$wpid" VmHWM)" "$(proc_status "$wpid" VmRSS)" \
        "$(proc_status "$wpid" Threads)" "$(watch_conns "$port")" "$(watch_conns "$peer")" \
        "$track" "$polls" "$r0" >>"$WORK/watch.tsv"
    kill -TERM "$wpid" 2>/dev/null || true
    wait "$wpid" 2>/dev/null || true
done

echo "bench: scale, 1/4/16 replication connections"
# These runs take B for a writer (as before the guard rows existed): unfenced again.
sql "$PB" "SET GLOBAL read_only=OFF"
scale_json=()
have=1
for n in 1 4 16; do
    for i in $(seq "$((have + 1))" "$n"); do
        # Extra named connections (MariaDB allows one per source, so each names its own
        # loopback port, where nothing listens), not started: each is one more row that the
        # check reads and judges (a stopped connection fails a standby, so these runs use
        # --role writer, where it is a warning).
        sql "$PB" "CHANGE MASTER 'extra$i' TO master_host='127.0.0.1', master_port=$(free_port), master_user='repl', master_password='repl-pw', master_use_gtid=slave_pos;"
    done
    have=$n
    hyperfine --shell=none --warmup 20 --runs "$RUNS" --export-json "$WORK/scale$n.json" \
        -n "$n connection(s)" "$CHECK --defaults-file $CNF --role writer --state-dir $STATE --no-syslog" >/dev/null
    scale_json+=("$WORK/scale$n.json")
done

MACHINE=$(bench_machine_md "$LOAD_START" "$OTHERS_START")
{
# shellcheck disable=SC2016 # backquotes: markdown, not a command substitution
printf 'Command: `RUNS=%s bash bench/bench.sh` (as root). %s\n\n' "$RUNS" "$MACHINE"
python3 - "$WORK/cost.json" "$RUNS" "$WORK/rss.txt" "${PRE_GUARD_REV:0:7}" "$WORK/watch.tsv" "$WATCH_SECONDS" "${scale_json[@]}" <<'PY'
import json, math, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
runs = sys.argv[2]
rss = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[3]) if l.strip())
rss = {k: int(v) for k, v in rss.items()}
base_rev = sys.argv[4]
watch = [l.rstrip("\n").split("\t") for l in open(sys.argv[5]) if l.strip()]
watch_seconds = sys.argv[6]
scale = [json.load(open(p))["results"][0] for p in sys.argv[7:]]
ms = lambda s: f"{s * 1000:.2f}"
cpu = lambda r: r["user"] + r["system"]
print(f"Per-check cost ({runs} runs each after 20 warm-ups; the standby of a healthy "
      "dual-master pair on loopback; mean ± σ):\n")
print("| command | wall ms | user ms | system ms | CPU ms | peak RSS MiB |")
print("|---|---|---|---|---|---|")
first = ["check-mysql", "seed mysql_check.sh", "mariadb -e 'select 1'"]
for name in first:
    r = results[name]
    print(f"| {name} | {ms(r['mean'])} ± {ms(r['stddev'])} | {ms(r['user'])} | "
          f"{ms(r['system'])} | {ms(cpu(r))} | {rss[name] / 1024:.1f} |")
ours, seed, one = (results[n] for n in first)
print()
print(f"- check-mysql / seed script: wall {ours['mean'] / seed['mean']:.3f}, "
      f"CPU {cpu(ours) / cpu(seed):.3f} (target ≤ 0.1)")
print(f"- check-mysql / one client query: wall {ours['mean'] / one['mean']:.3f}, "
      f"CPU {cpu(ours) / cpu(one):.3f} (target ≤ 1)")
print(f"- check-mysql peak RSS: {rss['check-mysql'] / 1024:.1f} MiB (target ≤ 8 MiB)")
print()
print("Scale: check-mysql with 1, 4 and 16 replication connections (multi-source, "
      "`--role writer`):\n")
print("| connections | wall ms | CPU ms |")
print("|---|---|---|")
for r in scale:
    print(f"| {r['command'].split()[0]} | {ms(r['mean'])} ± {ms(r['stddev'])} | {ms(cpu(r))} |")
print()

# The split-brain guard: per role, each row beside the plain check measured before and after
# that role's rows (their mean is the reference; their difference, the drift during the block).
# Added = row minus reference, ± the standard error of that difference (hyperfine gives no
# spread of the CPU times: their difference stands alone).
n = int(runs)
def ref(a, b):
    return {"mean": (a["mean"] + b["mean"]) / 2, "user": (a["user"] + b["user"]) / 2,
            "system": (a["system"] + b["system"]) / 2,
            "stddev": math.sqrt((a["stddev"] ** 2 + b["stddev"] ** 2) / 2)}
def added(r, base):
    if base is None:
        return "—", "—"
    se = math.sqrt((r["stddev"] ** 2 + base["stddev"] ** 2) / n)
    return (f"{(r['mean'] - base['mean']) * 1000:+.2f} ± {se * 1000:.2f}",
            f"{(cpu(r) - cpu(base)) * 1000:+.2f}")
roles = {"standby": ("check-mysql", "check-mysql again, standby"),
         "writer": ("check-mysql, writer", "check-mysql again, writer")}
refs = {role: ref(results[a], results[b]) for role, (a, b) in roles.items()}
befores = {role: results.get(f"check-mysql --peer before the guard, {role}") for role in roles}
rows = []
for role, (first_name, last_name) in roles.items():
    plain, before = refs[role], befores[role]
    rows.append((role, "plain (no `--peer`), first", first_name, None, None))
    if before is not None:
        rows.append((role, f"before the guard ({base_rev}), plain",
                     f"check-mysql before the guard, {role}", plain, None))
        rows.append((role, f"before the guard ({base_rev}), `--peer`",
                     f"check-mysql --peer before the guard, {role}", plain, None))
    rows.append((role, "**two-node guard** (`--peer`)", f"check-mysql --peer, {role}", plain, before))
    rows.append((role, "**witness mode** (`--peer --witness`)",
                 f"check-mysql --peer --witness, {role}", plain, before))
    rows.append((role, "plain (no `--peer`), again", last_name, None, None))
print("### Split-brain guard\n")
print(f"check-mysql with the split-brain guard on (issue 11), from the same hyperfine run as the "
      f"table above ({runs} runs each): the standby B (`read_only=ON`) and the writer A "
      "(`read_only=OFF`, its guard row's `writer_since` set) of the same pair; witness mode with "
      "a third local `mariadbd` (server_id 3) as W and the `--check-interval` / `--lease-ttl` "
      "defaults (2 s, 6 s), the writer renewing its lease on every run. Each role's rows were "
      "timed between two measurements of the plain check in that role (*first*, *again*); "
      "*added* is a row minus their mean, wall ± the standard error of that difference.")
if base_rev:
    print(f"*Before the guard*: check-mysql built from {base_rev} (the last commit before issue "
          "11), whose `--peer` probed the peer's GTID history without the guard row, as pairs "
          "configured by the README before issue 11 ran it; *added vs before the guard* is a "
          "guarded row minus that `--peer` row: the guard's own cost.")
print("Mean ± σ.\n")
print("| role | check | wall ms | CPU ms | peak RSS MiB | added wall ms | added CPU ms "
      "| added wall ms vs before the guard | added CPU ms vs before the guard |")
print("|---|---|---|---|---|---|---|---|---|")
for role, label, name, plain, before in rows:
    r = results[name]
    aw, ac = added(r, plain)
    bw, bc = added(r, before)
    print(f"| {role} | {label} | {ms(r['mean'])} ± {ms(r['stddev'])} | {ms(cpu(r))} | "
          f"{rss[name] / 1024:.1f} | {aw} | {ac} | {bw} | {bc} |")
print()
for role, (a, b) in roles.items():
    ra, rb = results[a], results[b]
    print(f"- Drift ({role}): the plain check timed before and after the {role}'s rows: "
          f"{ms(ra['mean'])} then {ms(rb['mean'])} ms wall ({(rb['mean'] - ra['mean']) * 1000:+.2f}), "
          f"{ms(cpu(ra))} then {ms(cpu(rb))} ms CPU ({(cpu(rb) - cpu(ra)) * 1000:+.2f}): "
          "an added cost of that size is the machine, not the guard.")
def line(mode, key):
    parts = []
    for role in roles:
        r, p, b = results[f"{key}, {role}"], refs[role], befores[role]
        s = (f"{role} {(r['mean'] - p['mean']) * 1000:+.2f} ms wall, "
             f"{(cpu(r) - cpu(p)) * 1000:+.2f} ms CPU")
        if b is not None:
            s += (f" ({(r['mean'] - b['mean']) * 1000:+.2f} ms wall, "
                  f"{(cpu(r) - cpu(b)) * 1000:+.2f} ms CPU over `--peer` before the guard)")
        parts.append(s)
    print(f"- **Added cost of one check, {mode}**: " + "; ".join(parts) + ".")
line("two-node guard", "check-mysql --peer")
line("witness mode", "check-mysql --peer --witness")
print()
print("Against issue 4's targets (each row / the seed script, / one client query, from the "
      "table above; targets ≤ 0.1 of the seed, ≤ 1 of one query, peak RSS ≤ 8 MiB):\n")
print("| role | check | / seed wall | / seed CPU | / one query wall | / one query CPU |")
print("|---|---|---|---|---|---|")
for role, label, name, _, _ in rows:
    r = results[name]
    print(f"| {role} | {label} | {r['mean'] / seed['mean']:.3f} | {cpu(r) / cpu(seed):.3f} | "
          f"{r['mean'] / one['mean']:.3f} | {cpu(r) / cpu(one):.3f} |")
# The watcher (issue 12) beside the one-shot check at keepalived's `interval 1`: one run per
# second costs the row's CPU ms per second (ms/s / 10 = % of one core).
print()
print("### Watcher (`check-mysql --watch`, issue 12)\n")
print(f"One `check-mysql --watch` at a time on the same pair, in the same run as the tables "
      f"above, at the binary's defaults (`--interval 100ms`, `--poll-timeout 250ms`, `--fall 2`, "
      f"`--rise 3`), with `--peer` as the lab runs it (the writer A with peer B, then the standby "
      f"B with peer A), as its own account; each measured for {watch_seconds} s after its first "
      "verdict. CPU: utime+stime from /proc/PID/stat over that window's wall time, in % of one "
      "core; peak RSS: VmHWM; RSS: VmRSS at the start and at the end of the window (a growth "
      "is the watcher's memory still rising while it polls); connections: rows of its account in "
      "each server's `information_schema.PROCESSLIST` at the end. *One-shot at `interval 1`*: "
      "keepalived runs `chk_mysql` once a second, so its cost per second is the hyperfine row's "
      "CPU ms (the `--peer` row of that role, as the lab runs it) per second, each run a new "
      "process (peak RSS per run) and new connections (one to its server, one to the peer, "
      "closed at exit).\n")
print("| role | check | CPU % of one core | CPU ms per s | peak RSS MiB | RSS MiB, start → end "
      "| threads | connections on its server | connections on the peer | polls |")
print("|---|---|---|---|---|---|---|---|---|---|")
wrows = {}
for role, wall_ms, ticks, hz, hwm, vmrss, threads, own, peer, track, polls, rss0 in watch:
    cpu_ms = int(ticks) * 1000 / int(hz)
    per_s = cpu_ms / (int(wall_ms) / 1000)
    wrows[role] = (per_s, int(hwm), int(own), int(peer))
    print(f"| {role} | **check-mysql --watch** (track file {track}) | {per_s / 10:.2f} | "
          f"{per_s:.2f} | {int(hwm) / 1024:.1f} | {int(rss0) / 1024:.1f} → {int(vmrss) / 1024:.1f} "
          f"({(int(vmrss) - int(rss0)) / (int(wall_ms) / 1000):+.1f} KiB/s) | {threads} | {own} | "
          f"{peer} | {polls} in {int(wall_ms) / 1000:.1f} s (±10: its status file is rewritten once a second) |")
    one = results[f"check-mysql --peer, {role}"]
    print(f"| {role} | one-shot `check-mysql --peer` at `interval 1` | {cpu(one) * 100:.2f} | "
          f"{cpu(one) * 1000:.2f} | {rss[f'check-mysql --peer, {role}'] / 1024:.1f} (per run) | — "
          "| — | 1 per run | 1 per run | 1 per s |")
print()
for role, (per_s, hwm, own, peer) in wrows.items():
    ok_cpu, ok_rss, ok_conn = per_s / 10 <= 1, hwm / 1024 <= 6, own == 1 and peer <= 1
    print(f"- Issue 12's watcher target ({role}; ≤ 1 % of one core, RSS ≤ 6 MiB, one "
          f"connection): CPU {per_s / 10:.2f} % **{'met' if ok_cpu else 'not met'}**; peak RSS "
          f"{hwm / 1024:.1f} MiB **{'met' if ok_rss else 'not met'}**; connections {own} on its "
          f"server and {peer} on the peer **{'met' if ok_conn else 'not met'}**.")
PY
} > "$WORK/check-cost.md"
mv "$WORK/check-cost.md" "$OUT/check-cost.md"
echo "bench: wrote $OUT/check-cost.md"
cat "$OUT/check-cost.md"
bash bench/report.sh
