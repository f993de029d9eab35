#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# netcost_check.py CHECK FILE [ARGS...] - the checks test_netcost.sh makes on
# netcost's output: JSON Lines records (FILE is netcost's stdout with -j) or a
# Prometheus scrape (FILE is the HTTP response). Prints "# ..." lines worth
# keeping; exits 1 with the reason on the first failure.
#
# Records: "cpu" (one CPU, numeric "cpu") and "total" (the CPUs together),
# "breakdown", "cgroup"; each with "average" false for an interval and true
# for the whole run.

import json
import re
import socket
import sys
import time


def die(msg):
    print(msg)
    sys.exit(1)


def load(path):
    recs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                recs.append(json.loads(line))
            except ValueError as e:
                die("line %d is not JSON: %s" % (n, e))
    return recs


def of_type(recs, typ, average=False):
    return [r for r in recs if r.get("type") == typ and r["average"] == average]


def total(recs, average=True):
    rows = of_type(recs, "total", average)
    if not rows:
        die("no %s total record" % ("whole-run" if average else "interval"))
    return rows[0] if average else rows


TIMES = ["interval_ns", "net_rx_pct", "net_tx_pct", "sock_send_pct", "sock_recv_pct",
         "total_pct", "net_rx_ns", "net_tx_ns", "sock_send_ns", "sock_recv_ns", "total_ns",
         "softirq_ns", "procstat_softirq_ns", "send_ops", "recv_ops", "untimed_ops"]


def fields(recs):
    """Every record starts with type and time, a number; no field changes JSON
    type between records of one type; cpu and total carry their fields."""
    seen = {}
    for r in recs:
        keys = list(r)
        if keys[:2] != ["type", "time"] or not isinstance(r["time"], float):
            die("record does not start with type and a numeric time: %s" % r)
        for k, v in r.items():
            t = type(v).__name__
            if t == "int":
                t = "number"    # 0.000 and 12 are both numbers
            if t == "float":
                t = "number"
            prev = seen.setdefault((r["type"], k), t)
            if prev != t:
                die("%s.%s is a %s here and a %s before: %s" % (r["type"], k, t, prev, r))
    cpus, totals = of_type(recs, "cpu"), of_type(recs, "total")
    if not cpus or not totals or not total(recs):
        die("no cpu or total records, or no whole-run total")
    for r in cpus + totals:
        for k in TIMES + (["cpu"] if r["type"] == "cpu" else ["ncpus", "samples"]):
            if not isinstance(r.get(k), (int, float)) or isinstance(r.get(k), bool):
                die("field %s missing or not a number in %s" % (k, r))
        s = r["net_rx_ns"] + r["net_tx_ns"] + r["sock_send_ns"] + r["sock_recv_ns"]
        if s != r["total_ns"]:
            die("total_ns %d != sum of parts %d" % (r["total_ns"], s))


def max100(recs):
    for r in of_type(recs, "cpu") + of_type(recs, "cpu", True):
        if r["total_pct"] > 100.5:
            die("cpu %d at %.2f%% > 100%%" % (r["cpu"], r["total_pct"]))
        if r["net_rx_ns"] + r["net_tx_ns"] > r["softirq_ns"] * 1.001 + 1000:
            die("cpu %d: NET_RX+NET_TX %d > all softirqs %d" %
                (r["cpu"], r["net_rx_ns"] + r["net_tx_ns"], r["softirq_ns"]))


def cgroups(recs):
    return {r["cgroup"]: r for r in of_type(recs, "cgroup", True)}


def busy(recs, name, send_min, recv_min, rx_min):
    # Other load on the machine only adds: socket time is judged on the
    # test's own cgroups, NET_RX (no task to charge) on the machine's peak.
    cgs = cgroups(recs)
    snd = cgs.get("/%s/snd" % name, {}).get("sock_send_pct", 0)
    rcv = cgs.get("/%s/rcv" % name, {}).get("sock_recv_pct", 0)
    rx = max(r["net_rx_pct"] for r in total(recs, False))
    for what, v, lim in (("sender cgroup sock_send_pct", snd, float(send_min)),
                         ("receiver cgroup sock_recv_pct", rcv, float(recv_min)),
                         ("machine net_rx_pct peak", rx, float(rx_min))):
        if v < lim:
            die("%s %.3f%% < %.2f%%" % (what, v, lim))
        print("# %s %.2f%%" % (what, v))


def cgroup(recs, name, role):
    cgs = cgroups(recs)
    snd = cgs.get("/%s/snd" % name)
    rcv = cgs.get("/%s/rcv" % name)
    if role == "idle":
        for c in (snd, rcv):
            if c and c["sock_send_ns"] + c["sock_recv_ns"] > 0:
                die("idle run charged %s" % c)
        return
    if not snd or not rcv:
        a = total(recs)
        die("sender or receiver cgroup missing: %s; whole run: send %d ns/%d ops, recv %d "
            "ns/%d ops, untimed %d, errors %d" % (sorted(cgs), a["sock_send_ns"], a["send_ops"],
            a["sock_recv_ns"], a["recv_ops"], a["untimed_ops"], a["errors"]))
    if snd["sock_send_ns"] <= 2 * snd["sock_recv_ns"] or snd["send_ops"] == 0:
        die("sender cgroup: send %d ns not well above recv %d ns" %
            (snd["sock_send_ns"], snd["sock_recv_ns"]))
    if rcv["sock_recv_ns"] <= rcv["sock_send_ns"] or rcv["recv_ops"] == 0:
        die("receiver cgroup: recv %d ns not above send %d ns" %
            (rcv["sock_recv_ns"], rcv["sock_send_ns"]))
    print("# sender cgroup %d ns send, receiver cgroup %d ns recv" %
          (snd["sock_send_ns"], rcv["sock_recv_ns"]))


def wilson(k, n, z=1.96):
    """Half the width of the 95% Wilson score interval of k in n, in points."""
    if not n:
        return 100.0
    p = k / n
    return 100 * z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4.0 * n * n)) ** 0.5


def breakdown(recs, want, min_samples="0"):
    cats = {r["category"]: r for r in of_type(recs, "breakdown", True)}
    if not cats:
        die("no breakdown records")
    n = sum(c["samples"] for c in cats.values())
    a = total(recs)
    if n < int(min_samples):
        die("only %d samples in networking context (%d lost): too few to judge, want %s" %
            (n, a["samples_lost"], min_samples))
    for c in cats.values():
        if c["samples_total"] != n:
            die("samples_total %d, categories sum to %d" % (c["samples_total"], n))
        want_err = wilson(c["samples"], n)
        if abs(c["pct_err"] - want_err) > 0.002:
            die("%s: pct_err %.3f, want %.3f (95%% Wilson, %d of %d)" %
                (c["category"], c["pct_err"], want_err, c["samples"], n))
    tot = sum(c["pct"] for c in cats.values())
    if abs(tot - 100) > 0.5:
        die("categories sum to %.2f%%" % tot)
    for kind in ("net_rx_pct", "sock_send_pct", "sock_recv_pct"):
        s = sum(c[kind] for c in cats.values())
        if s and abs(s - 100) > 0.5:
            die("%s categories sum to %.2f%%" % (kind, s))
    for w in want.split(","):
        cat, kind = w.split(":")
        if cats[cat][kind] <= 0:
            die("category %s has no %s samples: %s" % (cat, kind, cats[cat]))
    print("# breakdown: %s; %d samples, %d lost" %
          (", ".join("%s %.1f%%" % (k, v["pct"]) for k, v in sorted(cats.items())
                     if v["pct"] > 0), a["samples"], a["samples_lost"]))


def procstat(recs):
    a = total(recs)
    bpf, stat = a["softirq_ns"], a["procstat_softirq_ns"]
    print("# softirq: netcost %d ns, /proc/stat %d ns" % (bpf, stat))
    if stat < 50e6:
        return  # too few ticks to compare
    if not 0.5 <= bpf / stat <= 2:
        die("netcost softirq %d ns vs /proc/stat %d ns: off by more than 2x" % (bpf, stat))


# Prometheus text format 0.0.4: a sample line, with label values escaped.
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
VALUE = r"(?:[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|[-+]?Inf|NaN)"
SAMPLE = re.compile(r"^%s(?:\{%s(?:,%s)*\})? %s(?: -?[0-9]+)?$" % (NAME, LABEL, LABEL, VALUE))


def prom(path, want_label=None):
    """Every line of the scrape's body is a comment or a valid sample; with
    want_label, some sample carries that cgroup (as netcost must escape it)."""
    raw = open(path, "rb").read()
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n")[0]:
        die("not an HTTP 200 response: %r" % raw[:200])
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        die("body is not UTF-8: %s" % e)
    n = 0
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        if not SAMPLE.match(line):
            die("not a sample line: %r" % line)
        n += 1
    if not n:
        die("no samples")
    if want_label is not None:
        esc = want_label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        if 'cgroup="%s"' % esc not in text:
            die("no sample for cgroup %r (escaped %r)" % (want_label, esc))
    print("# %d sample lines, all valid" % n)


def idle_clients(port, n, secs):
    """Hold n idle connections to 127.0.0.1:port open for secs (or until
    killed), sending nothing; print "open N" once they are connected."""
    conns = []
    for _ in range(int(n)):
        s = socket.socket()
        s.connect(("127.0.0.1", int(port)))
        conns.append(s)
    print("open %d" % len(conns), flush=True)
    time.sleep(float(secs))


if __name__ == "__main__":
    check, args = sys.argv[1], sys.argv[2:]
    if check in ("prom", "idle_clients"):
        globals()[check](*args)
    else:
        globals()[check](load(args[0]), *args[1:])
