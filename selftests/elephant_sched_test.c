// SPDX-License-Identifier: GPL-2.0
/*
 * elephant_sched_test - elephant-sched's policy and wire format without a
 * network: a fixed snapshot (parsed from elephant's text exposition), the
 * pod classes, exact costs, scores and filter verdicts; upstream-shaped
 * ExtenderArgs in both forms and with lower-cased keys answered exactly;
 * every truncation of a valid document refused with a message; the
 * Prometheus API parser.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "../elephant/sched_api.c"
#include "../elephant/sched_expo.c"
#include "../elephant/sched_snap.c"
#include "../elephant/sched_policy.c"

#define T0 (1800000000ULL * NSEC)

static const char expo[] =
	"# HELP elephant_workload_elephants Active elephant flows of the workload.\n"
	"# TYPE elephant_workload_elephants gauge\n"
	"elephant_workload_elephants{node=\"n1\",workload=\"web\"} 2\n"
	"elephant_workload_elephants{node=\"n1\",workload=\"api2\"} 0\n"
	"elephant_workload_mice{node=\"n1\",workload=\"web\"} 1\n"
	"elephant_workload_mice{node=\"n1\",workload=\"api2\"} 3\n"
	"elephant_workload_bytes_total{node=\"n1\",workload=\"web\"} 123456789\n"
	"elephant_workload_heavy{node=\"n1\",workload=\"web\"} 1\n"
	"elephant_workload_heavy{node=\"n1\",workload=\"api2\"} 0\n"
	"elephant_node_elephants{node=\"n1\"} 2\n"
	"elephant_node_heavy_workloads{node=\"n1\"} 1\n"
	"elephant_workload_mice{node=\"n2\",workload=\"api\"} 5\n"
	"elephant_workload_heavy{node=\"n2\",workload=\"api\"} 0\n"
	"elephant_node_elephants{node=\"n2\"} 0\n"
	"elephant_node_heavy_workloads{node=\"n2\"} 0\n"
	"elephant_workload_last_elephant_seconds{node=\"n3\",workload=\"old\"} 1799999000\n"
	"elephant_workload_last_elephant_seconds{node=\"n3\",workload=\"recent\"} 1799999990\n"
	"elephant_node_elephants{node=\"n3\"} 0\n";

/* ExtenderArgs as kube-scheduler sends them (nodeCacheCapable: NodeNames, Nodes null). */
static const char args_names[] =
	"{\"Pod\":{\"metadata\":{\"name\":\"p\",\"namespace\":\"t\",\"uid\":\"1\","
	"\"labels\":{\"app.kubernetes.io/name\":\"api\",\"app\":\"web\"},"
	"\"annotations\":{\"x\":\"y\"}},\"spec\":{\"containers\":[{\"name\":\"c\"}]},"
	"\"status\":{}},\"Nodes\":null,\"NodeNames\":[\"n1\",\"n2\",\"n3\",\"n4\"]}";
static const char args_nodes[] =
	"{\"pod\":{\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\"}}},"
	"\"nodes\":{\"metadata\":{},\"items\":[{\"metadata\":{\"name\":\"n1\"}},"
	"{\"metadata\":{\"name\":\"n2\"},\"status\":{\"addresses\":[]}}]},\"nodenames\":null}";

FIXTURE(sched) {
	struct sched_cfg cfg;
	struct sched_snap snap;
	struct sched_memory mem;
};

FIXTURE_SETUP(sched)
{
	struct sched_samples ss = { 0 };
	struct sched_memory none = { 0 };
	char err[256];

	memset(&self->cfg, 0, sizeof(self->cfg));
	self->cfg.isolate = true;
	self->cfg.max_elephants = 2;
	self->cfg.stale_ns = 60 * NSEC;
	self->cfg.learn_window_ns = 300 * NSEC;
	self->cfg.labels[0] = "app.kubernetes.io/name";
	self->cfg.labels[1] = "app";
	self->cfg.nlabels = 2;
	ASSERT_EQ(0, sched_expo_parse(expo, sizeof(expo) - 1, NULL, &ss, err, sizeof(err)));
	ASSERT_EQ(0, sched_snap_build(&self->snap, &ss, T0 - NSEC));
	sched_samples_free(&ss);
	ASSERT_EQ(0, sched_memory_update(&none, &self->snap, &self->cfg, T0, &self->mem));
}

FIXTURE_TEARDOWN(sched)
{
	sched_snap_free(&self->snap);
	sched_memory_free(&self->mem);
}

static void pod_with(struct sched_pod *pod, const char *app_name, const char *app,
		     const char *footprint)
{
	memset(pod, 0, sizeof(*pod));
	pod->name = "p";
	pod->ns = "t";
	pod->label_vals[0] = app_name;
	pod->label_vals[1] = app;
	pod->footprint = footprint;
}

TEST_F(sched, snapshot)
{
	const struct sched_node *n1 = sched_snap_find(&self->snap, "n1");
	const struct sched_node *n2 = sched_snap_find(&self->snap, "n2");

	ASSERT_EQ(3, self->snap.n);
	ASSERT_NE(NULL, n1);
	EXPECT_EQ(2, n1->e);
	EXPECT_EQ(1, n1->h);
	EXPECT_EQ(1, n1->l);		/* api2: mice, not heavy */
	EXPECT_EQ(2, n1->nwl);
	EXPECT_EQ(0, n2->e);
	EXPECT_EQ(1, n2->l);
	EXPECT_EQ(NULL, sched_snap_find(&self->snap, "n4"));
	EXPECT_EQ(3, sched_fresh_nodes(&self->snap, &self->cfg, T0));
	EXPECT_EQ(0, sched_fresh_nodes(&self->snap, &self->cfg, T0 + 62 * NSEC));
}

TEST_F(sched, classes)
{
	struct sched_pod pod;

	pod_with(&pod, "api", "web", NULL);	/* the first label present wins */
	sched_classify(&self->cfg, &self->mem, &pod, T0);
	EXPECT_EQ(SC_LIGHT, pod.cls);
	EXPECT_STREQ("api", pod.workload);
	pod_with(&pod, NULL, "web", NULL);
	sched_classify(&self->cfg, &self->mem, &pod, T0);
	EXPECT_EQ(SC_HEAVY, pod.cls);
	EXPECT_NE(NULL, strstr(pod.source, "elephant on n1"));
	pod_with(&pod, NULL, "recent", NULL);	/* last elephant 10 s before */
	sched_classify(&self->cfg, &self->mem, &pod, T0);
	EXPECT_EQ(SC_HEAVY, pod.cls);
	pod_with(&pod, NULL, "old", NULL);	/* 1000 s before: out of the window */
	sched_classify(&self->cfg, &self->mem, &pod, T0);
	EXPECT_EQ(SC_LIGHT, pod.cls);
	pod_with(&pod, NULL, "nosuch", NULL);
	sched_classify(&self->cfg, &self->mem, &pod, T0);
	EXPECT_EQ(SC_UNKNOWN, pod.cls);
	pod_with(&pod, NULL, NULL, NULL);
	sched_classify(&self->cfg, &self->mem, &pod, T0);
	EXPECT_EQ(SC_UNKNOWN, pod.cls);
	EXPECT_STREQ("", pod.workload);
	pod_with(&pod, NULL, "web", "light");	/* declared beats learned */
	sched_classify(&self->cfg, &self->mem, &pod, T0);
	EXPECT_EQ(SC_LIGHT, pod.cls);
	pod_with(&pod, NULL, "web", "medium");	/* not heavy|light: ignored */
	sched_classify(&self->cfg, &self->mem, &pod, T0);
	EXPECT_EQ(SC_HEAVY, pod.cls);
	self->cfg.namespaced = true;
	pod_with(&pod, NULL, "web", NULL);
	sched_classify(&self->cfg, &self->mem, &pod, T0);
	EXPECT_STREQ("t/web", pod.workload);
	EXPECT_EQ(SC_UNKNOWN, pod.cls);
}

TEST_F(sched, scores_and_filter)
{
	const char *names[] = { "n1", "n2", "n3", "n4" };
	struct sched_decision d;
	struct sched_pod pod;

	pod_with(&pod, NULL, "web", NULL);	/* heavy: C = E + L = 3, 1, 0 */
	sched_classify(&self->cfg, &self->mem, &pod, T0);
	ASSERT_EQ(0, sched_decide(&self->cfg, &self->snap, &pod, names, 4, true, T0, &d));
	EXPECT_EQ(3, d.nodes[0].cost);
	EXPECT_EQ(1, d.nodes[1].cost);
	EXPECT_EQ(0, d.nodes[0].score);
	EXPECT_EQ(6, d.nodes[1].score);		/* 10 * (3 - 1) / 3, rounded down */
	EXPECT_EQ(10, d.nodes[2].score);
	EXPECT_EQ(0, d.nodes[3].score);		/* no data */
	EXPECT_FALSE(d.nodes[3].data);
	EXPECT_EQ(1, d.no_data);
	EXPECT_TRUE(d.nodes[0].failed);		/* --max-elephants 2 */
	EXPECT_STREQ("--max-elephants 2: node has 2 elephant flows", d.nodes[0].reason);
	EXPECT_EQ(3, d.passed);
	EXPECT_FALSE(d.fail_open);
	sched_decision_free(&d);

	pod_with(&pod, "api", NULL, NULL);	/* light: C = H + E = 3, 0, 0 */
	sched_classify(&self->cfg, &self->mem, &pod, T0);
	ASSERT_EQ(0, sched_decide(&self->cfg, &self->snap, &pod, names, 3, true, T0, &d));
	EXPECT_EQ(0, d.nodes[0].score);
	EXPECT_EQ(10, d.nodes[1].score);
	EXPECT_STREQ("--isolate: light pod, node has 1 heavy workload (web)", d.nodes[0].reason);
	sched_decision_free(&d);

	/* every node rejected: fail open */
	ASSERT_EQ(0, sched_decide(&self->cfg, &self->snap, &pod, names, 1, true, T0, &d));
	EXPECT_TRUE(d.fail_open);
	EXPECT_EQ(1, d.passed);
	sched_decision_free(&d);

	/* Cmax 0: 10 everywhere; stale data: 0 and never rejected */
	ASSERT_EQ(0, sched_decide(&self->cfg, &self->snap, &pod, names + 1, 2, true, T0, &d));
	EXPECT_EQ(10, d.nodes[0].score);
	EXPECT_EQ(10, d.nodes[1].score);
	sched_decision_free(&d);
	ASSERT_EQ(0, sched_decide(&self->cfg, &self->snap, &pod, names, 4, true,
				  T0 + 120 * NSEC, &d));
	EXPECT_EQ(4, d.no_data);
	EXPECT_EQ(4, d.passed);
	EXPECT_FALSE(d.nodes[0].failed);
	sched_decision_free(&d);
}

/* Parse @body, decide, answer; the answer into @out (malloc()ed). */
static int answer(struct sched_cfg *cfg, struct sched_snap *snap, struct sched_memory *mem,
		  const char *body, bool filter, char **out, char *err)
{
	struct sched_decision dn = { 0 }, di = { 0 };
	struct sched_args a;
	struct sched_pod pod;
	size_t len;
	int e;

	e = sched_args_parse(body, strlen(body), cfg, &a, &pod, err, 256);
	if (!e) {
		sched_classify(cfg, mem, &pod, T0);
		e = sched_decide(cfg, snap, &pod, a.names, a.nnames, filter, T0, &dn);
		e = e ?: sched_decide(cfg, snap, &pod, a.item_names, a.nitems, filter, T0, &di);
		e = e ?: filter ? sched_answer_filter(&a, &dn, &di, out, &len) :
				  sched_answer_prioritize(a.has_names ? &dn : &di, out, &len);
	}
	sched_decision_free(&dn);
	sched_decision_free(&di);
	sched_args_free(&a);
	return e;
}

TEST_F(sched, wire_names)
{
	char *out = NULL, err[256];

	ASSERT_EQ(0, answer(&self->cfg, &self->snap, &self->mem, args_names, true, &out, err));
	EXPECT_STREQ("{\"Nodes\":null,\"NodeNames\":[\"n2\",\"n3\",\"n4\"],\"FailedNodes\":{},"
		     "\"FailedAndUnresolvableNodes\":{\"n1\":\"--isolate: light pod, node has 1 "
		     "heavy workload (web)\"},\"Error\":\"\"}\n", out);
	free(out);
	ASSERT_EQ(0, answer(&self->cfg, &self->snap, &self->mem, args_names, false, &out, err));
	EXPECT_STREQ("[{\"Host\":\"n1\",\"Score\":0},{\"Host\":\"n2\",\"Score\":10},"
		     "{\"Host\":\"n3\",\"Score\":10},{\"Host\":\"n4\",\"Score\":0}]\n", out);
	free(out);
}

TEST_F(sched, wire_nodes_lowercase)
{
	char *out = NULL, err[256];

	ASSERT_EQ(0, answer(&self->cfg, &self->snap, &self->mem, args_nodes, true, &out, err));
	EXPECT_STREQ("{\"Nodes\":{\"metadata\":{},\"items\":[{\"metadata\":{\"name\":\"n2\"},"
		     "\"status\":{\"addresses\":[]}}]},\"NodeNames\":null,\"FailedNodes\":{},"
		     "\"FailedAndUnresolvableNodes\":{\"n1\":\"--max-elephants 2: node has 2 "
		     "elephant flows\"},\"Error\":\"\"}\n", out);
	free(out);
	ASSERT_EQ(0, answer(&self->cfg, &self->snap, &self->mem, args_nodes, false, &out, err));
	/* a heavy pod: C = E + L = 3, 1 */
	EXPECT_STREQ("[{\"Host\":\"n1\",\"Score\":0},{\"Host\":\"n2\",\"Score\":6}]\n", out);
	free(out);
}

TEST_F(sched, go_keys)
{
	/* U+017F LONG S folds to s; the last matching key wins */
	static const char doc[] = "{\"Pod\":{},\"pOd\":{\"METADATA\":{\"Name\":\"x\"}},"
				  "\"NodeName\xc5\xbf\":1,\"NodeNames\":[\"a\"]}";
	struct sched_args a;
	struct sched_pod pod;
	char err[256];

	ASSERT_EQ(0, sched_args_parse(doc, sizeof(doc) - 1, &self->cfg, &a, &pod, err,
				      sizeof(err)));
	EXPECT_STREQ("x", pod.name);
	EXPECT_EQ(1, a.nnames);
	sched_args_free(&a);
	EXPECT_TRUE(go_fold_eq("\xe2\x84\xaa", "k"));
	EXPECT_TRUE(go_fold_eq("NODENAME\xc5\xbf", "NodeNames"));
	EXPECT_FALSE(go_fold_eq("NodeName", "NodeNames"));
	EXPECT_FALSE(go_fold_eq("NodeNamesX", "NodeNames"));
}

TEST_F(sched, truncations)
{
	size_t len = strlen(args_names), i;
	struct sched_args a;
	struct sched_pod pod;
	char err[256];
	int refused = 0;

	for (i = 0; i < len; i++) {
		err[0] = '\0';
		if (sched_args_parse(args_names, i, &self->cfg, &a, &pod, err, sizeof(err)))
			refused += err[0] != '\0';
		sched_args_free(&a);
	}
	EXPECT_EQ(len, refused);
	ASSERT_EQ(0, sched_args_parse(args_names, len, &self->cfg, &a, &pod, err, sizeof(err)));
	sched_args_free(&a);
	ASSERT_NE(0, sched_args_parse("{\"Pod\":{},\n \"NodeNames\":[1,}", 28, &self->cfg, &a,
				      &pod, err, sizeof(err)));
	EXPECT_STREQ("invalid JSON at line 2, column 17: unexpected token near '}'", err);
	sched_args_free(&a);
}

TEST(prometheus_api)
{
	static const char ok[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
		"{\"metric\":{\"__name__\":\"elephant_node_elephants\",\"node\":\"n1\","
		"\"job\":\"e\"},\"value\":[1800000000.5,\"2\"]},"
		"{\"metric\":{\"__name__\":\"up\",\"node\":\"n1\"},\"value\":[1800000000.5,\"1\"]},"
		"{\"metric\":{\"__name__\":\"elephant_workload_mice\",\"node\":\"n1\","
		"\"workload\":\"w\"},\"value\":[1800000000.5,\"7\"]}]}}";
	static const char bad[] = "{\"status\":\"error\",\"error\":\"parse error at char 3\"}";
	struct sched_samples ss = { 0 };
	double eval = 0;
	char err[256];

	ASSERT_EQ(0, sched_prom_parse(ok, sizeof(ok) - 1, -1, &ss, &eval, err, sizeof(err)));
	ASSERT_EQ(2, ss.n);
	EXPECT_EQ(SM_NODE_ELEPHANTS, ss.s[0].metric);
	EXPECT_EQ(7, (int)ss.s[1].value);
	EXPECT_STREQ("w", ss.s[1].workload);
	EXPECT_EQ(1800000000, (long)eval);
	EXPECT_EQ(-EINVAL, sched_prom_parse(bad, sizeof(bad) - 1, -1, &ss, &eval, err,
					    sizeof(err)));
	EXPECT_STREQ("query failed: parse error at char 3", err);
	sched_samples_free(&ss);
}

TEST(exposition_errors)
{
	struct sched_samples ss = { 0 };
	char err[256];

	EXPECT_EQ(-EINVAL, sched_expo_parse("a 1\nelephant_node_elephants{node=\"n\" 1\n", 38,
					    NULL, &ss, err, sizeof(err)));
	EXPECT_STREQ("line 2: want ',' or '}' after a label", err);
	EXPECT_EQ(-EINVAL, sched_expo_parse("elephant_node_elephants 1\n", 26, NULL, &ss, err,
					    sizeof(err)));
	EXPECT_STREQ("line 1: no node label", err);
	/* escapes, a timestamp, a trailing comma, NaN */
	EXPECT_EQ(0, sched_expo_parse("elephant_workload_mice{node=\"a\\\"b\",workload=\"w\\\\\",}"
				      " NaN 1700000000000\n", 69, NULL, &ss, err, sizeof(err)));
	ASSERT_EQ(1, ss.n);
	EXPECT_STREQ("a\"b", ss.s[0].node);
	EXPECT_STREQ("w\\", ss.s[0].workload);
	sched_samples_free(&ss);
}

TEST_HARNESS_MAIN
