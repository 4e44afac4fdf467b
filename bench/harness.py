#!/usr/bin/env python3
"""Measurement and reporting helpers for bench/run.sh (standard library only).

Subcommands:
  cpu PID                 utime+stime (seconds) of PID and all its descendants, from /proc
  rss PID                 "<sum VmRSS KiB> <sum VmHWM KiB> <process count>" of PID and its descendants
  sample-rss PID OUT      sample sum(VmRSS) of the tree every 50 ms until killed; keep the max in OUT (KiB)
  wrk-json FILE           extract the JSON line printed by bench/wrk_cookie.lua from wrk's output
  mock-delta BEFORE AFTER upstream calls / 429s between two /_mock/stats snapshots (JSON files)
  report RESULTS.json     print the comparison table (markdown) and write it into BENCHMARKS.md
"""

import json
import os
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2 :].split()
        ppid = int(rest[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid):
    kids = _children_map()
    out, stack = [], [int(pid)]
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(kids.get(p, []))
    return out


def cpu_by_pid(pid):
    out = {}
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2 :].split()
        out[p] = (int(rest[11]) + int(rest[12])) / CLK_TCK
    return out


def cpu_seconds(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2 :].split()
        # fields 14 and 15 (utime, stime) -> indexes 11, 12 after the comm field
        total += int(rest[11]) + int(rest[12])
    return total / CLK_TCK


def rss_kib(pid):
    rss = hwm = n = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
            n += 1
        except OSError:
            continue
    return rss, hwm, n


def sample_rss(pid, out):
    peak = 0
    deadline = time.time() + 3600  # bounded: one hour at most
    while time.time() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            break
        rss, _, _ = rss_kib(pid)
        if rss > peak:
            peak = rss
            tmp = out + ".tmp"
            with open(tmp, "w") as f:
                f.write(str(peak))
            os.replace(tmp, out)
        time.sleep(0.05)


def wrk_json(path):
    with open(path) as f:
        for line in f:
            if line.startswith("WRKJSON "):
                print(line[len("WRKJSON ") :].strip())
                return
    print(json.dumps({"error": "no WRKJSON line in wrk output"}))


# ------------------------------------------------------------------------------------------------
# /_mock/stats deltas
# ------------------------------------------------------------------------------------------------


def _flatten(v, prefix="", out=None):
    out = {} if out is None else out
    if isinstance(v, dict):
        for k, x in v.items():
            _flatten(x, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        out[prefix] = v
    return out


def mock_delta(before, after):
    """Upstream calls (all routes), 429s and per-route deltas between two stats snapshots.

    The fake's /_mock/stats counts requests per route under ``requests`` (or ``routes``), 429s
    under ``rate_limited`` / ``total_rate_limited``. Keys are matched loosely so the harness keeps
    working if the fake adds counters.
    """
    b, a = _flatten(before or {}), _flatten(after or {})
    d = {k: a.get(k, 0) - b.get(k, 0) for k in set(a) | set(b)}
    d = {k: v for k, v in d.items() if v}

    def pick(pred):
        return {k: v for k, v in d.items() if pred(k)}

    totals_429 = pick(lambda k: k in ("total_rate_limited", "rate_limited_total", "429"))
    if totals_429:
        n429 = sum(totals_429.values())
    else:
        n429 = sum(pick(lambda k: k.startswith("rate_limited.") or k.startswith("429")).values())
    total_keys = pick(lambda k: k in ("total_requests", "requests_total"))
    if total_keys:
        calls = sum(total_keys.values())
        per_route = pick(lambda k: k.startswith("requests.") or k.startswith("routes."))
    else:
        per_route = pick(lambda k: k.startswith("requests.") or k.startswith("routes."))
        if not per_route:  # flat {route: count} (dev stand-in)
            per_route = pick(lambda k: "." not in k and k != "429" and not k.startswith("tokens") and k != "revocations")
        calls = sum(per_route.values())
    # The browser's hop to the authorize page is not a call made by the app: leave it out.
    browser = {k: v for k, v in per_route.items() if "authorize" in k.lower()}
    calls -= sum(browser.values())
    per_route = {k: v for k, v in per_route.items() if k not in browser}
    return {"calls": calls, "429s": n429, "per_route": dict(sorted(per_route.items()))}


# ------------------------------------------------------------------------------------------------
# workloads: everything measured against one app
# ------------------------------------------------------------------------------------------------


def _http_json(url, timeout=10):
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout) as r:  # loopback only (run.sh passes 127.0.0.1)
        return json.loads(r.read().decode())


def _post_json(url, body, timeout=10):
    import urllib.request

    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:  # loopback only
        return r.status


def set_limits(cfg, enabled):
    """Switch the fake's rate limits (POST /_mock/rate-limits); no-op without a limits URL."""
    url = cfg.get("limits")
    if url:
        _post_json(url, {"enabled": bool(enabled)})


def _run(cmd, timeout, env=None, log=None):
    import subprocess

    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e)
    if log:
        with open(log, "a") as f:
            f.write(f"$ {' '.join(cmd)}\n{p.stderr}\n{p.stdout}\n")
    return p


def _last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    return {"error": "no JSON output"}


def system_busy_seconds():
    """Busy CPU seconds of the whole machine since boot (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    v = [int(x) for x in parts]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    busy = sum(v[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / CLK_TCK


class CpuShare:
    """CPU used (in cores) by the app tree, the fake Discord and the load tools during a workload."""

    def __init__(self, app_pid, fake_pid):
        import resource

        self.app, self.fake = app_pid, fake_pid
        self.per0 = cpu_by_pid(app_pid)
        self.t0 = time.time()
        self.a0 = cpu_seconds(app_pid)
        self.f0 = cpu_seconds(fake_pid) if fake_pid else 0.0
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.l0 = ru.ru_utime + ru.ru_stime
        self.s0 = system_busy_seconds()

    def done(self):
        import resource

        wall = time.time() - self.t0
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        app = cpu_seconds(self.app) - self.a0
        fake = (cpu_seconds(self.fake) - self.f0) if self.fake else None
        load = ru.ru_utime + ru.ru_stime - self.l0
        other = system_busy_seconds() - self.s0 - app - (fake or 0) - load
        r = lambda x: None if x is None else round(x / wall, 2)  # noqa: E731
        per1 = cpu_by_pid(self.app)
        per = {str(p): r(v - self.per0.get(p, 0.0)) for p, v in per1.items()}
        return {"app_cores": r(app), "fake_cores": r(fake), "load_tool_cores": r(load), "other_cores": r(max(other, 0.0)), "wall_s": round(wall, 2), "app_cores_per_process": per}


class RssSampler:
    """Samples sum(VmRSS) of the app's process tree every 50 ms in a thread; keeps the peak."""

    def __init__(self, pid):
        import threading

        self.pid, self.peak, self.stop = pid, 0, False
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        deadline = time.time() + 3600
        while not self.stop and time.time() < deadline:
            rss, _, _ = rss_kib(self.pid)
            self.peak = max(self.peak, rss)
            time.sleep(0.05)

    def finish(self):
        self.stop = True
        self.t.join(timeout=2)
        return self.peak


def ceiling(cfg):
    """wrk against a bare hyper "ok" server (bench-loadgen serve-ok), same wrk settings as (a)."""
    import subprocess

    port = str(cfg.get("port", 18089))
    secs = int(cfg["hot_seconds"])
    srv = subprocess.Popen([cfg["loadgen"], "serve-ok", "--port", port, "--seconds", str(secs + 30)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        share = CpuShare(srv.pid, None)
        p = _run([cfg["wrk"], "-t", str(cfg["wrk_threads"]), "-c", str(cfg["hot_conns"]), "-d", f"{secs}s", "--timeout", "5s", "-s", cfg["lua"], f"http://127.0.0.1:{port}/"], secs + 60, env={"BENCH_COOKIE": ""}, log=cfg.get("log"))
        r = {}
        for line in p.stdout.splitlines():
            if line.startswith("WRKJSON "):
                r = json.loads(line[8:])
        r["cpu_share"] = share.done()
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=5)
        except subprocess.TimeoutExpired:
            srv.kill()
    print(f"[ceiling] bare hyper ok: {r.get('rps')} req/s, cores used {r.get('cpu_share')}", file=sys.stderr)
    return r


def workloads(cfg):
    """Run (a) hot /me + /health, (b) login storm + CPU storm, (c) bot burst against one app.

    cfg keys: name, pid, app, stats, loadgen, wrk, lua, guild, hot_seconds, hot_conns, wrk_threads,
    storm_users, cpu_users, concurrency, burst_users, user_base, loadgen_threads, log.
    """
    pid, app, stats, lg, log = cfg["pid"], cfg["app"], cfg["stats"], cfg["loadgen"], cfg["log"]
    fake_pid = cfg.get("fake_pid")
    ub = int(cfg["user_base"])
    lgt = str(cfg.get("loadgen_threads", 1))
    ids = ["--user-ids", cfg["user_ids"]] if cfg.get("user_ids") else []
    res = {"name": cfg["name"]}
    sampler = RssSampler(pid)
    res["rss_start_mib"] = rss_kib(pid)[0] / 1024

    def say(msg):
        print(f"[{cfg['name']}] {msg}", file=sys.stderr, flush=True)

    def snap():
        try:
            return _http_json(stats)
        except Exception as e:  # noqa: BLE001 - report, do not crash the run
            return {"_error": str(e)}

    # (a) and (b) with the fake's rate limits off, (c) with them on (see run.sh).
    set_limits(cfg, False)
    # (a) hot /me with a logged-in cookie, then /health; same wrk settings.
    p = _run([lg, "login", "--app", app, "--user", str(ub), "--warm", "3", "--threads", lgt, "--max-seconds", "30"] + ids, 60, log=log)
    cookie = _last_json(p.stdout).get("cookie", "")
    if not cookie:
        say(f"login for the hot loop failed: {p.stdout.strip()} {p.stderr.strip()[-300:]}")
    wrk_base = [cfg["wrk"], "-t", str(cfg["wrk_threads"]), "-c", str(cfg["hot_conns"]), "-d", f"{cfg['hot_seconds']}s", "--timeout", "5s", "-s", cfg["lua"]]
    for key, path, ck in (("hot_me", "/me", cookie), ("health", "/health", "")):
        before = snap()
        say(f"wrk {path} for {cfg['hot_seconds']}s at {cfg['hot_conns']} connections")
        share = CpuShare(pid, fake_pid)
        p = _run(wrk_base + [app + path], int(cfg["hot_seconds"]) + 60, env={"BENCH_COOKIE": ck}, log=log)
        r = {}
        for line in p.stdout.splitlines():
            if line.startswith("WRKJSON "):
                r = json.loads(line[8:])
        if not r:
            r = {"error": p.stdout[-300:] + p.stderr[-300:]}
        r["cpu_share"] = share.done()
        r["rss_after_mib"] = rss_kib(pid)[0] / 1024
        d = mock_delta(before, snap())
        r["upstream_calls"], r["429s"] = d["calls"], d["429s"]
        res[key] = r
        say(f"  -> {r.get('rps')} req/s, p50 {r.get('p50_ms')} ms, p99 {r.get('p99_ms')} ms, errors {r.get('errors')}, cores used {r['cpu_share']}")
    for key in ("hot_me", "health"):
        c, rps = res[key].get("cpu_share", {}).get("app_cores"), res[key].get("rps")
        if c is not None and rps:
            res[key]["cpu_us_per_req"] = c * 1e6 / rps
    if res["hot_me"].get("rps") and res["health"].get("rps"):
        res["hot_me"]["vs_health"] = res["hot_me"]["rps"] / res["health"]["rps"]

    # (b) login storms: throughput/latency (storm_users) and CPU/RSS (cpu_users), fresh users each.
    next_user = ub + 1
    for key, n in (("storm", int(cfg["storm_users"])), ("cpu_storm", int(cfg["cpu_users"]))):
        say(f"login storm: {n} users at concurrency {cfg['concurrency']}")
        before, cpu0 = snap(), cpu_seconds(pid)
        share = CpuShare(pid, fake_pid)
        p = _run([lg, "storm", "--app", app, "--users", str(n), "--concurrency", str(cfg["concurrency"]), "--first-user", str(next_user), "--threads", lgt, "--max-seconds", "240"] + ids, 300, log=log)
        cpu1, after = cpu_seconds(pid), snap()
        next_user += n
        r = _last_json(p.stdout)
        r["cpu_share"] = share.done()
        d = mock_delta(before, after)
        done = r.get("completed", 0)
        r["cpu_s"] = cpu1 - cpu0
        r["cpu_ms_per_login"] = (cpu1 - cpu0) * 1000 / done if done else None
        r["upstream_calls"], r["429s"], r["upstream_routes"] = d["calls"], d["429s"], d["per_route"]
        r["upstream_per_login"] = round(d["calls"] / done, 2) if done else None
        r["completed_errors"] = f"{done} / {r.get('errors', 'n/a')}"
        rss, hwm, nproc = rss_kib(pid)
        r["rss_after_mib"], r["hwm_sum_mib"] = rss / 1024, hwm / 1024
        res[key] = r
        say(f"  -> {done}/{n} ok, {r.get('logins_per_s', 0):.1f} logins/s, CPU {r['cpu_ms_per_login']} ms/login, {d['calls']} upstream calls, RSS {rss / 1024:.1f} MiB, cores used {r['cpu_share']}")

    # (c) bot burst: burst_users logged-in users press join at once, Discord's limits on.
    set_limits(cfg, True)
    time.sleep(1.1)  # let any global window opened earlier close
    nb = int(cfg["burst_users"])
    say(f"bot burst: {nb} users join guild {cfg['guild']} at once")
    p = _run([lg, "burst", "--app", app, "--users", str(nb), "--guild", str(cfg["guild"]), "--first-user", str(next_user), "--stats", stats, "--threads", lgt, "--max-seconds", "120"] + ids, 180, log=log)
    set_limits(cfg, False)
    r = _last_json(p.stdout)
    d = mock_delta(r.pop("stats_before", None), r.pop("stats_after", None))
    r["429s"], r["upstream_calls"], r["upstream_routes"] = d["429s"], d["calls"], d["per_route"]
    r["codes_s"] = " ".join(f"{k}:{v}" for k, v in sorted((r.get("codes") or {}).items()))
    r["rss_after_mib"] = rss_kib(pid)[0] / 1024
    res["burst"] = r
    say(f"  -> {r.get('succeeded')}/{nb} in {r.get('wall_s')} s, codes {r['codes_s']}, 429s {d['429s']}")

    res["peak_rss_mib"] = sampler.finish() / 1024
    _, hwm, res["processes"] = rss_kib(pid)
    res["hwm_sum_mib"] = hwm / 1024
    return res


# ------------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------------


def _fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if abs(v) >= 100:
            s = f"{v:,.0f}"
        elif abs(v) >= 10:
            s = f"{v:.1f}"
        else:
            s = f"{v:.2f}"
    else:
        s = f"{v:,}" if isinstance(v, int) else str(v)
    return f"{s}{unit}"


def _ratio(ours, theirs, higher_is_better):
    if ours is None or theirs is None:
        return "n/a"
    try:
        if higher_is_better:
            r = ours / theirs if theirs else None
        else:
            r = theirs / ours if ours else None
    except TypeError:
        return "n/a"
    if r is None:
        return "n/a"
    return f"{r:.1f}x better" if r >= 1 else f"{1 / r:.1f}x worse"


def _get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def rows(res):
    o, f = res.get("ours", {}), res.get("flask", {})
    out = []

    def row(label, path, unit="", hib=True, ratio=True, conv=None):
        a, b = _get(o, *path), _get(f, *path)
        if conv:
            a = conv(a) if a is not None else None
            b = conv(b) if b is not None else None
        out.append((label, _fmt(a, unit), _fmt(b, unit), _ratio(a, b, hib) if ratio else ""))

    row("hot GET /me: requests/s", ("hot_me", "rps"))
    row("hot GET /me: p50 latency", ("hot_me", "p50_ms"), " ms", hib=False)
    row("hot GET /me: p99 latency", ("hot_me", "p99_ms"), " ms", hib=False)
    row("hot GET /me: app CPU per request", ("hot_me", "cpu_us_per_req"), " µs", hib=False)
    row("hot GET /me: errors (non-2xx + socket)", ("hot_me", "errors"), ratio=False)
    row("hot GET /me: upstream calls", ("hot_me", "upstream_calls"), ratio=False)
    row("GET /health: requests/s", ("health", "rps"))
    row("GET /health: p50 latency", ("health", "p50_ms"), " ms", hib=False)
    row("GET /health: p99 latency", ("health", "p99_ms"), " ms", hib=False)
    row("GET /health: app CPU per request", ("health", "cpu_us_per_req"), " µs", hib=False)
    row("hot /me as a fraction of own /health", ("hot_me", "vs_health"), ratio=False)
    row("login storm: logins/s", ("storm", "logins_per_s"))
    row("login storm: app requests/s", ("storm", "app_rps"))
    row("login storm: p50 latency (app requests)", ("storm", "app_p50_ms"), " ms", hib=False)
    row("login storm: p99 latency (app requests)", ("storm", "app_p99_ms"), " ms", hib=False)
    row("login storm: completed / errors", ("storm", "completed_errors"), ratio=False)
    row("login storm: upstream calls (per login)", ("storm", "upstream_per_login"), ratio=False)
    row("login storm: 429s received", ("storm", "429s"), ratio=False)
    row("CPU storm: app CPU per completed login", ("cpu_storm", "cpu_ms_per_login"), " ms", hib=False)
    row("CPU storm: logins/s", ("cpu_storm", "logins_per_s"))
    row("CPU storm: completed / errors", ("cpu_storm", "completed_errors"), ratio=False)
    row("CPU storm: upstream calls (per login)", ("cpu_storm", "upstream_per_login"), ratio=False)
    row("RSS after the CPU storm (all processes)", ("cpu_storm", "rss_after_mib"), " MiB", hib=False)
    row("bot burst: succeeded / 100", ("burst", "succeeded"), ratio=False)
    row("bot burst: wall time (first press to last answer)", ("burst", "wall_s"), " s", hib=False, ratio=False)
    row("bot burst: 429s received from the fake", ("burst", "429s"), ratio=False)
    row("bot burst: upstream calls", ("burst", "upstream_calls"), ratio=False)
    row("bot burst: status codes", ("burst", "codes_s"), ratio=False)
    row("RSS before the workloads (idle, after the smoke check)", ("rss_start_mib",), " MiB", hib=False)
    row("peak RSS, whole run (all processes, sampled at 20 Hz)", ("peak_rss_mib",), " MiB", hib=False)
    row("sum of per-process VmHWM at the end", ("hwm_sum_mib",), " MiB", hib=False)

    def rss_path(d):
        vals = [_get(d, "rss_start_mib")] + [_get(d, k, "rss_after_mib") for k in ("hot_me", "health", "storm", "cpu_storm", "burst")]
        return " → ".join("n/a" if v is None else f"{v:.1f}" for v in vals)

    out.append(("RSS MiB: start → after hot /me → /health → storm → CPU storm → burst", rss_path(o), rss_path(f), ""))

    def share(label, key):
        def fmt(d):
            c = _get(d, key, "cpu_share")
            if not c:
                return "n/a"
            return f"{_fmt(c.get('app_cores'))} / {_fmt(c.get('fake_cores'))} / {_fmt(c.get('load_tool_cores'))} / {_fmt(c.get('other_cores'))}"

        out.append((label, fmt(o), fmt(f), ""))

    share("cores busy in hot /me: app / fake / wrk / other", "hot_me")
    share("cores busy in /health: app / fake / wrk / other", "health")
    share("cores busy in storm: app / fake / loadgen / other", "storm")
    share("cores busy in CPU storm: app / fake / loadgen / other", "cpu_storm")
    row("processes", ("processes",), ratio=False)
    return out


def table(res):
    lines = [
        "| metric | ours (discord-oauth demo) | Flask-Discord 0.1.69 + gunicorn | ratio |",
        "|---|---:|---:|---|",
    ]
    for label, a, b, r in rows(res):
        lines.append(f"| {label} | {a} | {b} | {r} |")
    return "\n".join(lines)


def targets(res):
    o, f = res.get("ours", {}), res.get("flask", {})
    t = []

    def chk(name, ok, detail):
        if ok is None:
            t.append(f"- [ ] {name}: not measured ({detail})")
        else:
            t.append(f"- [{'x' if ok else ' '}] {name}: {detail}")

    me_o, me_f = _get(o, "hot_me", "rps"), _get(f, "hot_me", "rps")
    r = me_o / me_f if me_o and me_f else None
    chk("hot /me >= 20x Flask-Discord's req/s", None if r is None else r >= 20, f"{_fmt(r)}x")
    v = _get(o, "hot_me", "vs_health")
    chk("hot /me >= 0.9 of our /health", None if v is None else v >= 0.9, _fmt(v))
    c_o, c_f = _get(o, "cpu_storm", "cpu_ms_per_login"), _get(f, "cpu_storm", "cpu_ms_per_login")
    chk("app CPU per login <= ~0.9 ms", None if c_o is None else c_o <= 0.9, f"{_fmt(c_o)} ms")
    r = c_f / c_o if c_o and c_f else None
    chk("app CPU per login >= 10x lower than Flask-Discord's", None if r is None else r >= 10, f"{_fmt(r)}x")
    l_o, l_f = _get(o, "cpu_storm", "logins_per_s"), _get(f, "cpu_storm", "logins_per_s")
    r = l_o / l_f if l_o and l_f else None
    sh = _get(o, "cpu_storm", "cpu_share") or {}
    detail = f"{_fmt(r)}x in the {_get(o, 'cpu_storm', 'users') or 'n/a'}-user storm"
    s2o, s2f = _get(o, "storm", "logins_per_s"), _get(f, "storm", "logins_per_s")
    if s2o and s2f:
        detail += f" ({s2o / s2f:.1f}x in the {_get(o, 'storm', 'users')}-user storm)"
    if sh:
        detail += (
            f"; during it our app used {_fmt(sh.get('app_cores'))} cores while the load generator used {_fmt(sh.get('load_tool_cores'))}, "
            f"the fake {_fmt(sh.get('fake_cores'))} and other processes {_fmt(sh.get('other_cores'))} of the 2"
        )
        busy_others = (sh.get("load_tool_cores") or 0) + (sh.get("fake_cores") or 0) + (sh.get("other_cores") or 0)
        if (sh.get("app_cores") or 0) < 1.5 and busy_others > 0.3:
            detail += ": the app is not saturated, the load generator and the fake share the machine with it, so our figure is a floor"
    chk("login throughput >= 10x (where the load generator is not the bottleneck)", None if r is None else r >= 10, detail)
    m = _get(o, "cpu_storm", "rss_after_mib")
    chk("RSS <= 20 MiB after the 500 logins", None if m is None else m <= 20, f"{_fmt(m)} MiB")
    s, w, n429 = _get(o, "burst", "succeeded"), _get(o, "burst", "wall_s"), _get(o, "burst", "429s")
    ok = None if s is None else (s == 100 and w is not None and w <= 1.3 and n429 == 0)
    chk("bot burst 100/100 in <= 1.3 s with zero 429s", ok, f"{_fmt(s)}/100 in {_fmt(w)} s, {_fmt(n429)} 429s")
    errs = [_get(o, "hot_me", "errors"), _get(o, "health", "errors"), _get(o, "storm", "errors"), _get(o, "cpu_storm", "errors"), _get(o, "burst", "errors")]
    known = [e for e in errs if e is not None]
    chk("zero errors (ours)", None if not known else sum(known) == 0, f"{sum(known) if known else 'n/a'} errors")
    return "\n".join(t)


def ceiling_note(res):
    c = _get(res, "ceiling", "rps")
    if not c:
        return ""
    me_f, me_o = _get(res, "flask", "hot_me", "rps"), _get(res, "ours", "hot_me", "rps")
    parts = [f"Ceiling of the hot loop on this machine in this run: a bare hyper server answering `ok` (`bench-loadgen serve-ok`) reaches {_fmt(c)} req/s with the same wrk settings"]
    if me_f:
        parts.append(f"= {c / me_f:.1f}x Flask-Discord's hot /me")
    if me_o:
        parts.append(f"; our hot /me is {me_o / c:.2f} of that ceiling")
    return " ".join(parts) + "."


def noise_note(res):
    worst = 0.0
    for side in ("ours", "flask"):
        for key in ("hot_me", "health", "storm", "cpu_storm"):
            o = _get(res, side, key, "cpu_share", "other_cores")
            if isinstance(o, (int, float)):
                worst = max(worst, o)
    if worst >= 0.3:
        return (
            f"**Noise:** other processes on this shared machine used up to {worst:.2f} of its 2 cores during a workload "
            "(\"other\" in the rows above); throughput and latency figures of that workload are lower bounds. "
            "CPU per request / per login is measured per process and is less affected."
        )
    return ""


def report(path):
    with open(path) as f:
        res = json.load(f)
    md = table(res)
    for note in (ceiling_note(res), noise_note(res)):
        if note:
            md += "\n\n" + note
    print(md)
    print()
    print(targets(res))
    return res, md


def sweep_table(out_dir):
    import glob

    lines = [
        "| gunicorn config | hot /me req/s | /health req/s | storm logins/s | storm p99 | CPU/login | peak RSS | burst ok | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    found = False
    for path in sorted(glob.glob(os.path.join(out_dir, "flask-*.json"))):
        cfg = os.path.basename(path)[len("flask-") : -len(".json")]
        with open(path) as f:
            r = json.load(f)
        found = True
        errs = sum(
            x for x in (_get(r, "hot_me", "errors"), _get(r, "health", "errors"), _get(r, "storm", "errors"), _get(r, "cpu_storm", "errors"), _get(r, "burst", "errors")) if isinstance(x, int)
        )
        lines.append(
            f"| `{cfg}` | {_fmt(_get(r, 'hot_me', 'rps'))} | {_fmt(_get(r, 'health', 'rps'))} | {_fmt(_get(r, 'storm', 'logins_per_s'))} | "
            f"{_fmt(_get(r, 'storm', 'app_p99_ms'), ' ms')} | {_fmt(_get(r, 'cpu_storm', 'cpu_ms_per_login'), ' ms')} | "
            f"{_fmt(_get(r, 'peak_rss_mib'), ' MiB')} | {_fmt(_get(r, 'burst', 'succeeded'))}/{_fmt(_get(r, 'burst', 'users'))} | {errs} |"
        )
    return "\n".join(lines) if found else ""


def _replace_block(text, tag, body):
    begin, end = f"<!-- {tag}:begin -->", f"<!-- {tag}:end -->"
    block = f"{begin}\n{body}\n{end}"
    if begin in text and end in text:
        a, b = text.index(begin), text.index(end) + len(end)
        return text[:a] + block + text[b:]
    return text + "\n" + block + "\n"


def publish(results, md_path, write, date, machine, cmd, flask_cfg, sweep, out_dir, smoke_failed, wrk_desc):
    res, md = report(results)
    o = res.get("ours", {})
    extra = []
    if smoke_failed:
        extra.append(f"**Smoke check FAILED for: {smoke_failed}. Those numbers do not count.**")
    body = "\n".join(
        [
            f"Latest run: **{date}** on {machine}.",
            "",
            f"Command: `{cmd}` (Flask side: gunicorn `{flask_cfg}`; hot loop: {wrk_desc}; login storms at concurrency "
            f"{_get(o, 'storm', 'concurrency') or 'n/a'}, {_get(o, 'storm', 'users') or 'n/a'} then {_get(o, 'cpu_storm', 'users') or 'n/a'} users; "
            f"bot burst of {_get(o, 'burst', 'users') or 'n/a'} users).",
            "",
            *extra,
            md,
            "",
            "Targets (issue 8):",
            "",
            targets(res),
        ]
    )
    print()
    sw = sweep_table(out_dir) if sweep else ""
    if sw:
        print(sw)
    if write != "1":
        return
    text = open(md_path).read() if os.path.exists(md_path) else "# Benchmarks\n"
    text = _replace_block(text, "e2e", body)
    import subprocess

    def ver(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[0]
        except Exception:  # noqa: BLE001
            return "n/a"

    text = _replace_block(
        text,
        "machine",
        "\n".join(
            [
                f"* Machine of the latest end-to-end run ({date}): {machine}.",
                f"* Toolchain: `{ver(['rustc', '-V'])}`; Python `{ver([sys.executable, '-V'])}` (Flask side in `bench/.venv`, pins in `bench/requirements.txt`); {wrk_desc}.",
                f"* End-to-end command: `{cmd}` (raw results: `bench/out/results.json`, logs: `bench/out/`).",
                "* Gunicorn sweep: `SWEEP=\"sync:2 sync:4 gthread:2x8 gthread:4x4 gevent:2x100\" bash bench/run.sh`.",
                "* Flask side only (no demo needed): `ONLY=flask bash bench/run.sh` (prints, never writes this file).",
            ]
        ),
    )
    if sw:
        text = _replace_block(
            text,
            "sweep",
            f"Measured {date} with `{cmd}` (same fake, same load; the first row is not necessarily the main table's).\n\n{sw}",
        )
    with open(md_path, "w") as f:
        f.write(text)
    print(f"\nwrote {md_path}", file=sys.stderr)


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "cpu":
        print(f"{cpu_seconds(sys.argv[2]):.3f}")
    elif cmd == "rss":
        print(*rss_kib(sys.argv[2]))
    elif cmd == "sample-rss":
        sample_rss(sys.argv[2], sys.argv[3])
    elif cmd == "wrk-json":
        wrk_json(sys.argv[2])
    elif cmd == "mock-delta":
        with open(sys.argv[2]) as f1, open(sys.argv[3]) as f2:
            b, a = json.load(f1), json.load(f2)
        print(json.dumps(mock_delta(b, a)))
    elif cmd == "mock-delta-inline":
        d = json.loads(sys.stdin.read())
        print(json.dumps(mock_delta(d.get("stats_before"), d.get("stats_after"))))
    elif cmd == "workloads":
        cfg = json.loads(sys.argv[2])
        out = workloads(cfg)
        with open(cfg["out"], "w") as f:
            json.dump(out, f, indent=1)
    elif cmd == "wait-quiet":
        # wait-quiet MAX_SECONDS [CORES]: wait until other processes use < CORES cores (2 s samples)
        limit, cores = float(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 0.3
        t_end = time.time() + limit
        while True:
            b0 = system_busy_seconds()
            time.sleep(2)
            busy = (system_busy_seconds() - b0) / 2
            if busy < cores or time.time() >= t_end:
                print(f"{busy:.2f}")
                break
            print(f"machine busy ({busy:.2f} cores used by other processes); waiting", file=sys.stderr)
    elif cmd == "ceiling":
        cfg = json.loads(sys.argv[2])
        with open(cfg["out"], "w") as f:
            json.dump(ceiling(cfg), f, indent=1)
    elif cmd == "merge":
        # merge OUT ours.json flask.json [ceiling.json]
        with open(sys.argv[3]) as f1, open(sys.argv[4]) as f2:
            merged = {"ours": json.load(f1), "flask": json.load(f2)}
        if len(sys.argv) > 5 and os.path.exists(sys.argv[5]):
            with open(sys.argv[5]) as f3:
                merged["ceiling"] = json.load(f3)
        with open(sys.argv[2], "w") as f:
            json.dump(merged, f, indent=1)
    elif cmd == "report":
        report(sys.argv[2])
    elif cmd == "publish":
        publish(*sys.argv[2:13])
    else:
        print(__doc__)
        sys.exit(2)
