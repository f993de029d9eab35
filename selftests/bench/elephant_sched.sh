#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# elephant_sched.sh - how fast elephant-sched answers kube-scheduler: requests
# per second and p50/p99 latency of POST /prioritize and /filter with 100 and
# 5,000 nodes in the request (NodeNames form, every node with data, two
# workloads each), against GET /healthz on the same server and client as the
# baseline. Goal: p99 under 5 ms at 5,000 nodes (kube-scheduler's default
# timeout is 5 s). The data comes from a stand-in Prometheus API (python)
# answering the extender's two queries for NODES nodes; the client is python
# (http.client, one connection per request, as kube-scheduler's extender
# client does without keep-alive here), sequential. Never fails.

source "$(dirname "$0")/../lib.sh"

ES=$TOP_DIR/elephant/elephant-sched
NODES=${NODES:-5000}
REQS=${REQS:-400}
trap cleanup EXIT

if [ "$(id -u)" != 0 ] || [ ! -x "$ES" ] || ! command -v python3 >/dev/null; then
	echo "# elephant-sched bench skipped: needs root, elephant-sched built, python3"
	exit 0
fi
make_tmp bench_elephant_sched
setup_ns bs || exit 0

cat >"$TMP/prom.py" <<'EOF'
import json, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
n = int(sys.argv[1])
series = []
for i in range(n):
    node = "node-%05d" % i
    series.append(({"__name__": "elephant_node_elephants", "node": node}, i % 4))
    series.append(({"__name__": "elephant_node_heavy_workloads", "node": node}, i % 2))
    for w, e, m in (("web-%d" % (i % 50), i % 3, 1), ("api-%d" % (i % 70), 0, 4)):
        lab = {"node": node, "workload": w}
        series.append((dict(lab, __name__="elephant_workload_elephants"), e))
        series.append((dict(lab, __name__="elephant_workload_mice"), m))
        series.append((dict(lab, __name__="elephant_workload_heavy"), int(e > 0)))
class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query).get("query", [""])[0]
        now = time.time()
        if q.startswith("timestamp("):
            res = [{"metric": {"node": "node-%05d" % i}, "value": [now, "%.3f" % now]}
                   for i in range(n)]
        else:
            res = [{"metric": m, "value": [now, str(v)]} for m, v in series]
        body = json.dumps({"status": "success",
                           "data": {"resultType": "vector", "result": res}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
HTTPServer(("127.0.0.1", 19190), H).serve_forever()
EOF

cat >"$TMP/client.py" <<'EOF'
import http.client, json, sys, time
path, nodes, reqs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pod = {"metadata": {"name": "p", "namespace": "bench", "labels": {"app": "web-7"}}}
body = json.dumps({"Pod": pod, "NodeNames": ["node-%05d" % i for i in range(nodes)]}).encode()
lat = []
t0 = time.perf_counter()
for _ in range(reqs):
    s = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", 18889, timeout=10)
    if path == "/healthz":
        c.request("GET", path)
    else:
        c.request("POST", path, body, {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    lat.append(time.perf_counter() - s)
    if r.status != 200:
        sys.exit("status %d: %s" % (r.status, data[:200]))
total = time.perf_counter() - t0
lat.sort()
print("%.3f %.3f %.1f %d" % (lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.99) - 1] * 1e3,
                             reqs / total, len(body)))
EOF

ip netns exec "$bs" python3 "$TMP/prom.py" "$NODES" >"$TMP/prom.log" 2>&1 &
on_cleanup "kill -9 $!"
wait_listen 20 "$bs" 19190 || { echo "# elephant-sched bench: stand-in prometheus did not start"; exit 0; }
tool_start es ip netns exec "$bs" "$ES" -l 127.0.0.1:18889 --prometheus http://127.0.0.1:19190 \
	--refresh 5s --isolate -j ||
	{ echo "# elephant-sched bench: extender did not start"; exit 0; }
if ! wait_until 60 sh -c "ip netns exec $bs curl -s http://127.0.0.1:18889/state |
	jq -e '.nodes_fresh == $NODES' >/dev/null"; then
	echo "# elephant-sched bench: no data for $NODES nodes"
	exit 0
fi

run() { ip netns exec "$bs" python3 "$TMP/client.py" "$@"; }
read -r b50 b99 brps _ < <(run /healthz 0 "$REQS")
for n in 100 "$NODES"; do
	for p in /prioritize /filter; do
		read -r p50 p99 rps bytes < <(run "$p" "$n" "$REQS") || continue
		awk -v p="$p" -v n="$n" -v p50="$p50" -v p99="$p99" -v rps="$rps" \
		    -v b99="$b99" -v bytes="$bytes" 'BEGIN {
			printf "elephant-sched: %s p99 with %d nodes / GET /healthz p99: %.2f " \
			       "(%.3f / %.3f ms; p50 %.3f ms; %.0f requests/s; %d-byte body; " \
			       "goal p99 < 5 ms)\n", p, n, p99 / b99, p99, b99, p50, rps, bytes }'
	done
done
echo "# elephant-sched bench: GET /healthz p50 $b50 ms, $brps requests/s; $NODES nodes, $(
	ip netns exec "$bs" curl -s http://127.0.0.1:18889/state | jq '.workloads | length') learned workloads"
exit 0
