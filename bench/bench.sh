#!/usr/bin/env bash
# Per-check cost, side by side in one run: check-mysql vs the seed's mysql_check.sh vs one
# `mariadb -e 'select 1'`, against a real dual-master pair on loopback; then the check's cost
# with 1, 4 and 16 replication connections. Writes bench/results/check-cost.md, and then
# BENCHMARKS.md (bench/report.sh) from it and bench/results/failover.md.
#
#   bench/bench.sh            (root; needs mariadb-server mariadb-client hyperfine time)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-300}
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

PA=$(free_port); PB=$(free_port)
echo "bench: starting a dual-master pair on 127.0.0.1:$PA and :$PB"
start_server 1 "$PA"; start_server 2 "$PB"
for p in "$PA" "$PB"; do
    sql "$p" "SET sql_log_bin=0; CREATE USER repl@'127.0.0.1' IDENTIFIED BY 'repl-pw';
              GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1';
              CREATE USER monitor@'127.0.0.1' IDENTIFIED BY 'mon-pw';
              GRANT SLAVE MONITOR ON *.* TO monitor@'127.0.0.1';"
done
sql "$PA" "CHANGE MASTER TO master_host='127.0.0.1', master_port=$PB, master_user='repl', master_password='repl-pw', master_use_gtid=slave_pos; START SLAVE;"
sql "$PB" "CHANGE MASTER TO master_host='127.0.0.1', master_port=$PA, master_user='repl', master_password='repl-pw', master_use_gtid=slave_pos; START SLAVE;"
sql "$PA" "CREATE DATABASE bench; CREATE TABLE bench.t (id INT PRIMARY KEY AUTO_INCREMENT, v INT); INSERT INTO bench.t (v) VALUES (1),(2),(3);"
for _ in $(seq 1 100); do
    [ "$(sql "$PB" "SELECT COUNT(*) FROM bench.t" 2>/dev/null || true)" = 3 ] && break
    sleep 0.1
done

# Measured on the standby: the seed script's job is to check replication.
CNF=$WORK/monitor.cnf
printf '[client]\nhost=127.0.0.1\nport=%s\nuser=monitor\npassword=mon-pw\n' "$PB" > "$CNF"
chmod 600 "$CNF"
export DEFAULTS=$CNF
STATE=$WORK/state

CMD_OURS="$CHECK --defaults-file $CNF --role standby --state-dir $STATE --no-syslog"
CMD_SEED="/bin/bash $ROOT/bench/mysql_check.sh"
CMD_ONE="/usr/bin/mariadb --defaults-file=$CNF -e 'select 1'"

# Every command must pass before it is timed: a failing check is not a fair comparison.
$CMD_OURS >/dev/null || { echo "bench: check-mysql does not pass: $($CMD_OURS)" >&2; exit 1; }
$CMD_SEED || { echo "bench: mysql_check.sh does not pass" >&2; exit 1; }

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
hyperfine --shell=none --warmup 20 --runs "$RUNS" --export-json "$WORK/cost.json" \
    -n check-mysql "$CMD_OURS" \
    -n "seed mysql_check.sh" "$CMD_SEED" \
    -n "mariadb -e 'select 1'" "$CMD_ONE" >/dev/null

# shellcheck disable=SC2086 # a command line, split on purpose
RSS_OURS=$(peak_rss_kib $CMD_OURS)
RSS_SEED=$(peak_rss_kib /bin/bash "$ROOT/bench/mysql_check.sh")
RSS_ONE=$(peak_rss_kib /usr/bin/mariadb --defaults-file="$CNF" -e 'select 1')

echo "bench: scale, 1/4/16 replication connections"
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
python3 - "$WORK/cost.json" "$RSS_OURS" "$RSS_SEED" "$RSS_ONE" "$RUNS" "${scale_json[@]}" <<'PY'
import json, sys
cost = json.load(open(sys.argv[1]))["results"]
rss = [int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])]
runs = sys.argv[5]
scale = [json.load(open(p))["results"][0] for p in sys.argv[6:]]
ms = lambda s: f"{s * 1000:.2f}"
print(f"Per-check cost ({runs} runs each after 20 warm-ups; the standby of a healthy "
      "dual-master pair on loopback; mean ± σ):\n")
print("| command | wall ms | user ms | system ms | CPU ms | peak RSS MiB |")
print("|---|---|---|---|---|---|")
for r, m in zip(cost, rss):
    print(f"| {r['command']} | {ms(r['mean'])} ± {ms(r['stddev'])} | {ms(r['user'])} | "
          f"{ms(r['system'])} | {ms(r['user'] + r['system'])} | {m / 1024:.1f} |")
ours, seed, one = cost
cpu = lambda r: r["user"] + r["system"]
print()
print(f"- check-mysql / seed script: wall {ours['mean'] / seed['mean']:.3f}, "
      f"CPU {cpu(ours) / cpu(seed):.3f} (target ≤ 0.1)")
print(f"- check-mysql / one client query: wall {ours['mean'] / one['mean']:.3f}, "
      f"CPU {cpu(ours) / cpu(one):.3f} (target ≤ 1)")
print(f"- check-mysql peak RSS: {rss[0] / 1024:.1f} MiB (target ≤ 8 MiB)")
print()
print("Scale: check-mysql with 1, 4 and 16 replication connections (multi-source, "
      "`--role writer`):\n")
print("| connections | wall ms | CPU ms |")
print("|---|---|---|")
for r in scale:
    print(f"| {r['command'].split()[0]} | {ms(r['mean'])} ± {ms(r['stddev'])} | {ms(cpu(r))} |")
PY
} > "$WORK/check-cost.md"
mv "$WORK/check-cost.md" "$OUT/check-cost.md"
echo "bench: wrote $OUT/check-cost.md"
cat "$OUT/check-cost.md"
bash bench/report.sh
