"""Added latency of `gatehouse mcp` per tools/call (allow path), loopback only.

usage: python3 tests/mcp/bench.py GATEHOUSE_BINARY [CALLS]

Runs CALLS sequential tools/call round trips against tests/mcp/bench_server.py
directly, then through `gatehouse mcp --name bench --policy tests/mcp/policy.yaml`,
interleaving rounds to spread machine noise, and prints median and p99 of each
and of the difference."""

import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def start(cmd):
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    send(p, {"jsonrpc": "2.0", "id": 0, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
    recv(p)
    send(p, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    return p


def send(p, msg):
    p.stdin.write((json.dumps(msg) + "\n").encode())


def recv(p):
    return json.loads(p.stdout.readline())


def round_trips(p, n, start_id):
    out = []
    for i in range(n):
        msg = {"jsonrpc": "2.0", "id": start_id + i, "method": "tools/call",
               "params": {"name": "echo", "arguments": {"text": "x" * 64}}}
        line = (json.dumps(msg) + "\n").encode()
        t0 = time.perf_counter_ns()
        p.stdin.write(line)
        reply = p.stdout.readline()
        out.append((time.perf_counter_ns() - t0) / 1000.0)
        assert b'"isError"' not in reply, reply
    return out


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    gatehouse = sys.argv[1]
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    server = [sys.executable, os.path.join(HERE, "bench_server.py")]
    direct = start(server)
    proxied = start([gatehouse, "mcp", "--name", "bench", "--policy", os.path.join(HERE, "policy.yaml"), "--"] + server)
    d, g = [], []
    rounds = 10
    for r in range(rounds):
        d += round_trips(direct, calls // rounds, 1 + r * calls)
        g += round_trips(proxied, calls // rounds, 1 + r * calls)
    for p in (direct, proxied):
        p.stdin.close()
        p.wait()
    # Drop the first round of each as warm-up.
    w = calls // rounds
    d, g = d[w:], g[w:]
    print(f"calls per path: {len(d)} (after {w} warm-up)")
    print(f"direct   median {statistics.median(d):8.1f} us   p99 {pct(d, 0.99):8.1f} us")
    print(f"proxied  median {statistics.median(g):8.1f} us   p99 {pct(g, 0.99):8.1f} us")
    print(f"added    median {statistics.median(g) - statistics.median(d):8.1f} us   p99 {pct(g, 0.99) - pct(d, 0.99):8.1f} us")


if __name__ == "__main__":
    main()
