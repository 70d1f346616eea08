// SPDX-License-Identifier: MIT
/*
 * boot.c - from the coordinator's MachineConfig to a booted machine holding one node.
 *
 * The coordinator hands every node the same MachineConfig (with local_node set to the
 * receiver); each node daemon boots the whole layout with only its own node's struct pages
 * (machine_config.local_node), so zone sizes, watermarks and lowmem_reserve are the ones the
 * coordinator computed for the same machine. Booting, rebooting and the teardown before it
 * run on the control worker: the loop never waits for machine_new().
 *
 * A boot job owns the old machine and its CPU workers while it runs; it stops those workers
 * first (their unrun jobs go back to the loop answered ENODEV), then frees the machine, then
 * boots the new one, applies the config's sysctls in order and starts one worker per CPU.
 * A machine kept across a registration gets the config's sysctls again (node_sysctls_run).
 */
#include <errno.h>
#include <stdio.h>

#include "node.h"

/* The config's sysctls, in order, as the kernel's handlers would take them at boot. */
static int apply_sysctls(struct machine *m, const Numasim__MachineConfig *mc, char *err)
{
	for (size_t i = 0; i < mc->n_sysctls; i++) {
		const char *name = mc->sysctls[i]->name ? mc->sysctls[i]->name : "";
		const char *value = mc->sysctls[i]->value ? mc->sysctls[i]->value : "";
		int ret = machine_sysctl_set(m, name, value);

		if (ret == -ENOENT)
			snprintf(err, MM_ERRLEN, "unknown sysctl '%s'", name);
		else if (ret)
			snprintf(err, MM_ERRLEN, "sysctl '%s': invalid value '%s'", name, value);
		if (ret)
			return ret;
	}
	return 0;
}

/* Stop the old CPU workers (their unrun jobs go back answered ENODEV), free the machine. */
static void boot_teardown(struct node_boot *b)
{
	struct node_job *left = node_pool_free(b->old_pool);

	while (left) {
		struct node_job *job = left;

		left = job->next;
		node_reply_set(job, NUMASIM__STATUS__STATUS_ENODEV,
			       "node rebooted before the request ran");
		node_results_push(b->results, job);
	}
	b->old_pool = NULL;
	machine_free(b->old_m);
	b->old_m = NULL;
}

void node_sysctls_run(struct node_job *job)
{
	struct node_boot *b = &job->boot;

	b->ret = apply_sysctls(job->m, b->msg->register_->config, b->err);
}

void node_boot_run(struct node_job *job)
{
	struct node_boot *b = &job->boot;
	const Numasim__MachineConfig *mc = b->msg->register_->config;
	struct machine_config cfg;

	boot_teardown(b);
	b->ret = node_config_build(&cfg, mc, job->nid, b->err);
	if (!b->ret)
		b->ret = machine_new(&b->m, &cfg, b->err);
	if (!b->ret)
		b->ret = apply_sysctls(b->m, mc, b->err);
	if (!b->ret && b->cpu_threads) {
		b->pool = node_pool_new(b->m->ncpus, b->results);
		if (!b->pool) {
			snprintf(b->err, MM_ERRLEN, "cannot start %d CPU worker threads",
				 b->m->ncpus);
			b->ret = -EAGAIN;
		}
	}
	if (b->ret) {
		machine_free(b->m);
		b->m = NULL;
	}
}
