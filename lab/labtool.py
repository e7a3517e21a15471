#!/usr/bin/env python3
"""Helpers of lab/lab that are easier in Python (standard library only).

  labtool.py collector LOG NODE=SOCKET...   syslog collector: unix datagram sockets -> LOG
  labtool.py report DIR [--json] [--since MS] client report from DIR/acked.log, DIR/failed.log
  labtool.py status-json FILE               turn lab/lab's key=value status dump into JSON

The collector stands in for rsyslog: the binaries are pointed at a socket per node with their
hidden --syslog-socket flag; every datagram becomes one line `TIME NODE MESSAGE` in LOG.
"""

import json
import os
import select
import signal
import socket
import sys
import time


def collector(log_path, pairs):
    socks = {}
    for pair in pairs:
        node, path = pair.split("=", 1)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        # keepalived runs the helpers as its script_user: they must be able to send here.
        os.chmod(path, 0o666)
        socks[s] = node
    running = True

    def stop(_sig, _frame):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    lab_dir = os.path.dirname(log_path)
    with open(log_path, "a", buffering=1, encoding="utf-8") as out:
        while running:
            # Stop by itself when the lab is gone (a lab torn down without us).
            if not os.path.isdir(lab_dir):
                break
            try:
                ready, _, _ = select.select(list(socks), [], [], 1.0)
            except InterruptedError:
                continue
            for s in ready:
                data = s.recv(65536)
                now = time.time()
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now))
                text = data.decode("utf-8", "replace").rstrip("\n\0")
                out.write(f"{stamp}.{int(now * 1000) % 1000:03d} {int(now * 1000)} {socks[s]} {text}\n")
    for s in socks:
        s.close()


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [line.rstrip("\n") for line in f if line.strip()]
    except FileNotFoundError:
        return []


def gtid_seq(gtid):
    """Sequence number of a single MariaDB GTID (domain-server-seq) in domain 0, else None."""
    parts = gtid.split("-")
    if len(parts) != 3 or parts[0] != "0":
        return None
    try:
        return int(parts[2])
    except ValueError:
        return None


def report(client_dir, as_json, since_ms):
    acked = []
    for line in read_lines(os.path.join(client_dir, "acked.log")):
        f = line.split()
        if len(f) >= 5:
            acked.append({"start": int(f[0]), "end": int(f[1]), "id": int(f[2]), "gtid": f[3], "server_id": f[4]})
    failed = []
    for line in read_lines(os.path.join(client_dir, "failed.log")):
        f = line.split(None, 4)
        if len(f) >= 4:
            failed.append({"start": int(f[0]), "end": int(f[1]), "id": int(f[2]), "rc": f[3], "error": f[4] if len(f) > 4 else ""})
    if since_ms:
        acked = [a for a in acked if a["end"] >= since_ms]
        failed = [x for x in failed if x["end"] >= since_ms]
    events = read_lines(os.path.join(client_dir, "events.log"))
    started = [int(e.split()[0]) for e in events if e.split()[1:2] == ["start"]]
    stopped = [int(e.split()[0]) for e in events if e.split()[1:2] == ["stop"]]
    t0 = max([since_ms or 0] + started[-1:])
    running = os.path.exists(os.path.join(client_dir, "client.pid"))
    t_end = int(time.time() * 1000) if running or not stopped else stopped[-1]
    # Longest write outage: the longest time without an acknowledged write, between two
    # acknowledgements (or from the start / to the end of the run when it began or ended in one).
    stamps = [t0] + [a["end"] for a in acked] + [t_end]
    longest = (0, t0, t0)
    for a, b in zip(stamps, stamps[1:]):
        if b - a > longest[0]:
            longest = (b - a, a, b)
    ongoing = t_end - (acked[-1]["end"] if acked else t0) if failed and (not acked or failed[-1]["end"] > acked[-1]["end"]) else 0
    by_server = {}
    for a in acked:
        by_server[a["server_id"]] = by_server.get(a["server_id"], 0) + 1
    errors = {}
    for x in failed:
        key = x["error"].split(":")[0][:60] if x["error"] else f"exit {x['rc']}"
        errors[key] = errors.get(key, 0) + 1
    result = {
        "acked": len(acked),
        "failed": len(failed),
        "acked_by_server_id": by_server,
        "longest_outage_ms": longest[0],
        "longest_outage_from_ms": longest[1],
        "longest_outage_to_ms": longest[2],
        "ongoing_outage_ms": ongoing,
        "first_ms": t0,
        "last_ms": t_end,
        "running": running,
        "errors": errors,
        "last_ack": acked[-1] if acked else None,
    }
    if as_json:
        print(json.dumps(result, sort_keys=True))
        return
    secs = max(t_end - t0, 1) / 1000
    print(f"client: {len(acked)} acknowledged writes, {len(failed)} failed attempts in {secs:.1f}s"
          + (" (still running)" if running else ""))
    if by_server:
        print("  acknowledged by server_id: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_server.items())))
    print(f"  longest time without an acknowledged write: {longest[0] / 1000:.2f}s")
    if ongoing:
        print(f"  writes are failing right now (for {ongoing / 1000:.2f}s)")
    for k, v in sorted(errors.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {v} x {k}")
    if acked:
        a = acked[-1]
        print(f"  last acknowledged: id {a['id']} gtid {a['gtid']} on server_id {a['server_id']}")


def status_json(path):
    """lab/lab writes `node.key=value` lines; nest them."""
    out = {}
    for line in read_lines(path):
        key, _, value = line.partition("=")
        parts = key.split(".")
        d = out
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        if value.lstrip("-").isdigit() and parts[-1] in ("check_exit", "acked", "failed", "pid", "mysqld_pid", "keepalived_pid"):
            value = int(value)
        elif value in ("true", "false"):
            value = value == "true"
        d[parts[-1]] = value
    print(json.dumps(out, sort_keys=True))


def main(argv):
    if len(argv) >= 3 and argv[1] == "collector":
        collector(argv[2], argv[3:])
    elif len(argv) >= 3 and argv[1] == "report":
        since = 0
        if "--since" in argv:
            since = int(argv[argv.index("--since") + 1])
        report(argv[2], "--json" in argv, since)
    elif len(argv) == 3 and argv[1] == "status-json":
        status_json(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
