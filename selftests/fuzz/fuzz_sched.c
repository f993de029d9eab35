// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_sched - libFuzzer target for elephant-sched's parsers of untrusted
 * input: the ExtenderArgs body of POST /filter and /prioritize (then the
 * whole decision and both answers against a fixed snapshot), elephant's
 * /metrics text exposition and the Prometheus API's JSON (then the snapshot
 * and what is learned from it). Every input goes to all three; an answer
 * must always be valid JSON, and a parsed body's nodes must be answered.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common.h"
#include "extender.h"

#define NSEC 1000000000ULL
#define NOW (1800000000ULL * NSEC)

static const char canned[] =
	"elephant_workload_elephants{node=\"n1\",workload=\"web\"} 2\n"
	"elephant_workload_mice{node=\"n1\",workload=\"api2\"} 3\n"
	"elephant_workload_heavy{node=\"n1\",workload=\"web\"} 1\n"
	"elephant_node_elephants{node=\"n1\"} 2\n"
	"elephant_node_heavy_workloads{node=\"n1\"} 1\n"
	"elephant_workload_mice{node=\"n2\",workload=\"api\"} 5\n"
	"elephant_node_elephants{node=\"n2\"} 0\n";

static struct sched_cfg cfg = {
	.isolate = true,
	.max_elephants = 2,
	.stale_ns = 60 * NSEC,
	.learn_window_ns = 3600 * NSEC,
	.labels = { "app.kubernetes.io/name", "app" },
	.nlabels = 2,
};

static void must_be_json(const char *s, size_t len)
{
	json_error_t je;
	json_t *j = json_loadb(s, len, JSON_DECODE_ANY, &je);

	if (!j)
		abort();
	json_decref(j);
}

static void requests(const char *s, size_t len, const struct sched_snap *snap,
		     const struct sched_memory *mem)
{
	struct sched_decision dn, di;
	struct sched_args a;
	struct sched_pod pod;
	char err[512], *out = NULL;
	size_t olen;

	if (sched_args_parse(s, len, &cfg, &a, &pod, err, sizeof(err))) {
		if (!err[0] || !memchr(err, '\0', sizeof(err)))
			abort();
		sched_args_free(&a);
		return;
	}
	if (!a.has_names && !a.has_nodes)
		abort();
	sched_classify(&cfg, mem, &pod, NOW);
	if (sched_decide(&cfg, snap, &pod, a.names, a.nnames, true, NOW, &dn) ||
	    sched_decide(&cfg, snap, &pod, a.item_names, a.nitems, true, NOW, &di))
		abort();
	if (!sched_answer_filter(&a, &dn, &di, &out, &olen)) {
		must_be_json(out, olen);
		free(out);
	}
	if (!sched_answer_prioritize(a.has_names ? &dn : &di, &out, &olen)) {
		must_be_json(out, olen);
		free(out);
	}
	sched_decision_free(&dn);
	sched_decision_free(&di);
	sched_args_free(&a);
}

static void data(const char *s, size_t len)
{
	struct sched_samples ss = { .max = 4096 };
	struct sched_memory none = { 0 }, mem = { 0 };
	struct sched_snap snap;
	char err[256];
	double eval;

	sched_expo_parse(s, len, NULL, &ss, err, sizeof(err));
	sched_expo_parse(s, len, "n9", &ss, err, sizeof(err));
	sched_prom_parse(s, len, -1, &ss, &eval, err, sizeof(err));
	sched_prom_parse(s, len, SM_SCRAPE_TIME, &ss, &eval, err, sizeof(err));
	if (!sched_snap_build(&snap, &ss, NOW)) {
		sched_memory_update(&none, &snap, &cfg, NOW, &mem);
		sched_fresh_nodes(&snap, &cfg, NOW);
		sched_snap_free(&snap);
		sched_memory_free(&mem);
	}
	sched_samples_free(&ss);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	static struct sched_memory none, mem;
	static struct sched_snap snap;
	static bool ready;
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, buf, size);
	s[size] = '\0';
	if (!ready) {
		struct sched_samples ss = { 0 };
		char err[256];

		if (sched_expo_parse(canned, sizeof(canned) - 1, NULL, &ss, err, sizeof(err)) ||
		    sched_snap_build(&snap, &ss, NOW - NSEC) ||
		    sched_memory_update(&none, &snap, &cfg, NOW, &mem))
			abort();
		sched_samples_free(&ss);
		ready = true;
	}
	requests(s, size, &snap, &mem);
	data(s, size);
	free(s);
	return 0;
}
