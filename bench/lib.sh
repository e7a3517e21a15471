# shellcheck shell=bash
# bench/lib.sh: what bench/bench.sh and bench/failover.sh both write into their results, so
# that every number carries its provenance (sourced, not run).

# Processes that compete for the CPU and are not ours: test suites (cargo, rustc), servers and
# keepalived daemons of other labs or tests. Prints "none" or a count per program.
bench_others_running() {
    local out
    # shellcheck disable=SC2009 # a count per program name over all processes: not pgrep's job
    out=$(ps -eo comm= | grep -E '^(cargo|rustc|mariadbd|keepalived)$' | sort | uniq -c |
        awk '{printf "%s%s x %s", sep, $1, $2; sep=", "}' || true)
    echo "${out:-none}"
}

bench_load() { cut -d' ' -f1-3 /proc/loadavg; }

# A markdown paragraph: when, where, and how busy the machine was. Arguments: the load and the
# other processes seen at the start (sampled before the benchmark started anything).
bench_machine_md() {
    local load_start=$1 others_start=$2 cpu mariadb keepalived
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    mariadb=$(mariadbd --version 2>/dev/null | sed -n 's/.*Ver \([^ ]*\).*/\1/p')
    keepalived=$(keepalived --version 2>&1 | sed -n 's/^Keepalived \(v[^ ]*\).*/\1/p' | head -n 1)
    printf 'Measured %s on %s CPU(s) (%s), Linux %s, MariaDB %s, keepalived %s' \
        "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "${cpu:-unknown CPU}" "$(uname -r)" \
        "${mariadb:-?}" "${keepalived:-?}"
    if command -v hyperfine >/dev/null; then printf ', %s' "$(hyperfine --version)"; fi
    printf '. Load average (1/5/15 min) at the start %s, at the end %s; other cargo/rustc/mariadbd/keepalived processes at the start: %s.\n' \
        "$load_start" "$(bench_load)" "$others_start"
}
