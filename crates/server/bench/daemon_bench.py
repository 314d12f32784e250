#!/usr/bin/env python3
"""Daemon benchmarks, loopback only, bounded in count and time.

  1. decisions/s through POST /v1/decisions with the audit persisted (wrk, 10 s)
  2. memory with 10,000 approvals pending (VmRSS before/after)
  3. time from `approve` (HTTP POST) to the waiting hook printing its answer

Usage: daemon_bench.py /path/to/release/gatehouse [--quick]
"""
import http.client, json, os, shutil, statistics, subprocess, sys, tempfile, time

BIN = sys.argv[1]
QUICK = "--quick" in sys.argv
HERE = os.path.dirname(os.path.abspath(__file__))
POLICY = """version: 1
default: allow
rules:
  - name: deploys
    match: { tool: exec, command: ["kubectl apply *"] }
    action: ask
    via: gateway
"""

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def start(home):
    env = dict(os.environ, GATEHOUSE_HOME=home, GATEHOUSE_POLICY=os.path.join(home, "policy.yaml"))
    env.pop("GATEHOUSE_URL", None); env.pop("GATEHOUSE_TOKEN", None)
    p = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            info = json.load(open(os.path.join(home, "daemon.json")))
            if info["pid"] == p.pid:
                creds = json.load(open(os.path.join(home, "credentials.json")))
                return p, info["url"], creds, env
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise SystemExit("daemon did not start")

def request(conn, method, path, token, body=None):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, json.loads(data) if data else None

def main():
    home = tempfile.mkdtemp(prefix="gh-bench-")
    with open(os.path.join(home, "policy.yaml"), "w") as f:
        f.write(POLICY)
    daemon, url, creds, env = start(home)
    host = url.removeprefix("http://")
    agent, admin = creds["agent_token"], creds["admin_token"]
    try:
        # 1. Throughput.
        secs = 3 if QUICK else 10
        for conns in (16, 64):
            out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{secs}s", "--latency",
                                  "-s", os.path.join(HERE, "decide.lua"), url + "/v1/decisions"],
                                 env=dict(os.environ, TOKEN=agent), capture_output=True, text=True).stdout
            rps = [l for l in out.splitlines() if "Requests/sec" in l]
            lat = [l.strip() for l in out.splitlines() if l.strip().startswith(("50%", "99%"))]
            print(f"decisions/s, {conns} connections, allow path, audit persisted: {rps[0].split()[-1]}  latency {lat}")
        c = http.client.HTTPConnection(host)
        st, audit = request(c, "GET", "/v1/audit?limit=1", admin)
        print(f"audit records written: {audit[0]['seq']}")

        # 2. Memory with 10,000 pending.
        n = 2000 if QUICK else 10000
        before = rss_kib(daemon.pid)
        t = time.time()
        for i in range(n):
            st, res = request(c, "POST", "/v1/decisions", agent,
                              {"tool": "Bash", "input": {"command": f"kubectl apply -f svc-{i}.yaml"},
                               "context": {"session": "bench/main"}})
            assert res["action"] == "ask", res
        created = time.time() - t
        after = rss_kib(daemon.pid)
        st, pend = request(c, "GET", "/v1/approvals?status=pending&limit=1", admin)
        print(f"{n} approvals pending: RSS {before/1024:.1f} MiB -> {after/1024:.1f} MiB "
              f"({(after-before)/n:.2f} KiB each); created at {n/created:.0f}/s sequentially")

        # 3. approve -> hook answer.
        runs = 10 if QUICK else 30
        samples = []
        payload = json.dumps({"session_id": "s", "transcript_path": "/tmp/t", "cwd": "/",
                              "permission_mode": "default", "hook_event_name": "PreToolUse",
                              "tool_name": "Bash", "tool_input": {"command": "kubectl apply -f x.yaml"},
                              "tool_use_id": "t"})
        for i in range(runs):
            hook = subprocess.Popen([BIN, "hook", "claude-code", "--deadline-secs", "30"], env=dict(env, GATEHOUSE_SESSION=f"lat-{i}"),
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            hook.stdin.write(payload.encode()); hook.stdin.close()
            aid = None
            while aid is None:
                st, items = request(c, "GET", "/v1/approvals?status=pending&limit=1", admin)
                if items and items[0]["context"]["session"] == f"lat-{i}":
                    aid = items[0]["id"]
                else:
                    time.sleep(0.005)
            time.sleep(0.05)  # let the hook settle into its long-poll
            t0 = time.perf_counter()
            request(c, "POST", f"/v1/approvals/{aid}/approve", admin, {})
            t_ack = time.perf_counter()
            line = hook.stdout.readline()
            t1 = time.perf_counter()
            assert b'"allow"' in line, line
            hook.wait()
            samples.append(((t1 - t0) * 1000, (t_ack - t0) * 1000))
        total = sorted(s[0] for s in samples)
        ack = sorted(s[1] for s in samples)
        print(f"approve -> hook printed answer over {runs} runs: median {statistics.median(total):.2f} ms, "
              f"max {total[-1]:.2f} ms (approve request itself: median {statistics.median(ack):.2f} ms)")
    finally:
        daemon.terminate(); daemon.wait()
        shutil.rmtree(home, ignore_errors=True)

main()
