#!/usr/bin/env python3
"""Helpers of lab/lab that are easier in Python (standard library only).

  labtool.py collector LOG NODE=SOCKET...   syslog collector: unix datagram sockets -> LOG
  labtool.py report DIR [--json] [--since MS] client report from DIR/acked.log, DIR/failed.log
  labtool.py status-json FILE               turn lab/lab's key=value status dump into JSON
  labtool.py sampler LOG VIP NODE=SOCKET=NETNS...
                                            every 200 ms: each node's @@read_only and the VIP's
                                            holders -> LOG (one line per sample)
  labtool.py samples LOG [--json] [--since MS]  print the sampler's log

The collector stands in for rsyslog: the binaries are pointed at a socket per node with their
hidden --syslog-socket flag; every datagram becomes one line `TIME NODE MESSAGE` in LOG.

The sampler's line: `EPOCH_MS RO_A RO_B VIP SPAN_MS`. EPOCH_MS is when the sample began; RO_x
is the node's @@read_only (0 or 1) read as root on its unix socket, or `?` when it gave no
answer within 400 ms (down, hung, refused); VIP is `a`, `b`, `a,b` or `none`; SPAN_MS is how
long the whole sample took (both nodes are read at the same time, on two threads, over
connections kept open between samples).
"""

import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time


def until_signalled():
    """A function that says True until SIGTERM or SIGINT arrives (the loops' stop)."""
    state = {"running": True}

    def stop(_sig, _frame):
        state["running"] = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return lambda: state["running"]


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
    running = until_signalled()
    lab_dir = os.path.dirname(log_path)
    with open(log_path, "a", buffering=1, encoding="utf-8") as out:
        while running():
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
        if value.lstrip("-").isdigit() and parts[-1] in ("check_exit", "acked", "failed", "pid", "mysqld_pid", "keepalived_pid", "watcher_pid",
                                                  "holder", "votes", "voters", "expires_in_ms"):
            value = int(value)
        elif value in ("true", "false"):
            value = value == "true"
        d[parts[-1]] = value
    print(json.dumps(out, sort_keys=True))


# ---------------------------------------------------------------------------------------------
# sampler

SAMPLE_EVERY = 0.2
SAMPLE_TIMEOUT = 0.4


class MiniClient:
    """Just enough of the MySQL client protocol to run `SELECT @@read_only` as root over a
    unix socket (no password: mysql_native_password with an empty one, or unix_socket)."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        self.sock = None

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def _read_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
        return buf

    def _read_packet(self):
        head = self._read_exact(4)
        length = head[0] | head[1] << 8 | head[2] << 16
        return head[3], self._read_exact(length)

    def _send(self, seq, payload):
        self.sock.sendall(struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload)

    def _connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)
        seq, hello = self._read_packet()
        if hello[:1] == b"\xff":
            raise ConnectionError(hello[3:].decode("utf-8", "replace"))
        # CLIENT_LONG_PASSWORD (MariaDB: CLIENT_MYSQL) | PROTOCOL_41 | TRANSACTIONS |
        # SECURE_CONNECTION | PLUGIN_AUTH
        caps = 0x1 | 0x200 | 0x2000 | 0x8000 | 0x80000
        resp = struct.pack("<IIB23x", caps, 1 << 24, 33) + b"root\0" + b"\0" + b"mysql_native_password\0"
        self._send(seq + 1, resp)
        seq, pkt = self._read_packet()
        if pkt[:1] == b"\xfe":  # auth switch: an empty answer (no password, or unix_socket)
            self._send(seq + 1, b"")
            seq, pkt = self._read_packet()
        if pkt[:1] != b"\x00":
            raise ConnectionError("login refused: " + pkt[3:].decode("utf-8", "replace"))

    def read_only(self):
        """'0' or '1'; raises on any failure (the caller reconnects next time)."""
        if self.sock is None:
            self._connect()
        self._send(0, b"\x03SELECT @@read_only")
        _, pkt = self._read_packet()
        if pkt[:1] == b"\xff":
            raise ConnectionError(pkt[3:].decode("utf-8", "replace"))
        columns = pkt[0]
        for _ in range(columns):  # column definitions, then EOF
            self._read_packet()
        self._read_packet()
        value = None
        while True:
            _, pkt = self._read_packet()
            if pkt[:1] == b"\xfe" and len(pkt) < 9:
                break
            if pkt[:1] == b"\xff":
                raise ConnectionError(pkt[3:].decode("utf-8", "replace"))
            n = pkt[0]
            value = pkt[1 : 1 + n].decode()
        if value not in ("0", "1"):
            raise ValueError(f"unexpected @@read_only {value!r}")
        return value


def vip_on(netns, vip):
    try:
        out = subprocess.run(["ip", "-n", netns, "-4", "-o", "addr", "show", "dev", "eth0"],
                             capture_output=True, text=True, timeout=2).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return f" {vip}/" in out


class NodeSampler(threading.Thread):
    """One per node: on each tick, reads @@read_only and whether the node holds the VIP."""

    def __init__(self, node, sock_path, netns, vip):
        super().__init__(daemon=True)
        self.node, self.netns, self.vip = node, netns, vip
        self.client = MiniClient(sock_path, SAMPLE_TIMEOUT)
        self.tick = threading.Event()
        self.done = threading.Event()
        self.result = ("?", False)

    def run(self):
        while True:
            self.tick.wait()
            self.tick.clear()
            try:
                ro = self.client.read_only()
            except (OSError, ValueError, IndexError, ConnectionError):
                self.client.close()
                ro = "?"
            self.result = (ro, vip_on(self.netns, self.vip))
            self.done.set()


def sampler(log_path, vip, specs):
    nodes = []
    for spec in specs:
        node, sock_path, netns = spec.split("=", 2)
        nodes.append(NodeSampler(node, sock_path, netns, vip))
    for n in nodes:
        n.start()
    running = until_signalled()
    lab_dir = os.path.dirname(log_path)
    next_at = time.monotonic()
    with open(log_path, "a", buffering=1, encoding="utf-8") as out:
        while running() and os.path.isdir(lab_dir):
            start_ms = int(time.time() * 1000)
            t0 = time.monotonic()
            for n in nodes:
                n.done.clear()
                n.tick.set()
            for n in nodes:
                n.done.wait()
            span = int((time.monotonic() - t0) * 1000)
            holders = [n.node for n in nodes if n.result[1]]
            ros = " ".join(n.result[0] for n in nodes)
            out.write(f"{start_ms} {ros} {','.join(holders) or 'none'} {span}\n")
            # Fixed 200 ms ticks; a sample that overran skips the ticks it missed.
            next_at += SAMPLE_EVERY
            now = time.monotonic()
            if next_at < now:
                next_at = now + SAMPLE_EVERY - (now - next_at) % SAMPLE_EVERY
            time.sleep(max(0.0, next_at - time.monotonic()))
    for n in nodes:
        n.client.close()


def read_samples(log_path, since_ms):
    samples = []
    for line in read_lines(log_path):
        f = line.split()
        if len(f) < 5 or not f[0].isdigit():
            continue
        ms = int(f[0])
        if ms < since_ms:
            continue
        samples.append({"ms": ms, "a": f[1], "b": f[2],
                        "vip": [] if f[3] == "none" else f[3].split(","), "span_ms": int(f[4])})
    return samples


def samples_cmd(log_path, as_json, since_ms):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `lab samples | head`
    samples = read_samples(log_path, since_ms)
    if as_json:
        print(json.dumps(samples))
        return
    both = [s for s in samples if s["a"] == "0" and s["b"] == "0"]
    two_vips = [s for s in samples if len(s["vip"]) > 1]
    for s in samples:
        t = time.strftime("%H:%M:%S", time.localtime(s["ms"] / 1000)) + f".{s['ms'] % 1000:03d}"
        mark = "  <- both writable" if s in both else ""
        print(f"{t} {s['ms']}  read_only a={s['a']} b={s['b']}  vip={','.join(s['vip']) or 'none':5} "
              f"({s['span_ms']} ms){mark}")
    print(f"{len(samples)} samples; {len(both)} with both nodes writable (read_only=0); "
          f"{len(two_vips)} with the VIP on both nodes")


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
    elif len(argv) >= 5 and argv[1] == "sampler":
        sampler(argv[2], argv[3], argv[4:])
    elif len(argv) >= 3 and argv[1] == "samples":
        since = 0
        if "--since" in argv:
            since = int(argv[argv.index("--since") + 1])
        samples_cmd(argv[2], "--json" in argv, since)
    else:
        print(__doc__, file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
