// SPDX-License-Identifier: MIT
/*
 * workers.c - the threads that run node/mm for the daemon: one worker per simulated CPU (so
 * per-CPU state is touched by its CPU's thread only, as STYLE.md asks) and one control
 * worker for what names no CPU (views, sysctls, stats, zone ops, boot).
 *
 * Each worker has a locked FIFO of jobs and a condition variable; the loop stages the jobs
 * of one read (or one results batch) per worker and pushes each list once, the worker
 * takes its whole queue at once, runs the jobs in order with no lock held and
 * appends them all to the results queue in one step, whose uv_async_t wakes the loop. The
 * loop takes the results queue whole, so one wake-up answers every job finished meanwhile
 * (uv_async_send coalesces), and a burst of n jobs costs the worker one lock round and one
 * wake-up of the loop, not n.
 *
 * Invariant: a job is on exactly one list at a time (a staged list, a worker queue, the
 * results queue or the loop's hands), so it is never touched by two threads at once; staged
 * lists are empty whenever the loop is not inside a read or results callback.
 *
 * Lock order: node_worker.lock and node_results.lock are never held together.
 */
#include <errno.h>
#include <stdlib.h>

#include "node.h"
#include "nsim.h"

/* ------------------------------------------------------------------ results queue */

int node_results_init(struct node_results *r, uv_loop_t *loop, uv_async_cb cb, void *data)
{
	int ret;

	r->head = r->tail = NULL;
	ret = uv_async_init(loop, &r->async, cb);
	if (ret)
		return ret;
	r->async.data = data;
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

/* Append the list @head..@tail (tail->next == NULL) and wake the loop once. */
static void results_push_list(struct node_results *r, struct node_job *head, struct node_job *tail)
{
	pthread_mutex_lock(&r->lock);
	if (r->tail)
		r->tail->next = head;
	else
		r->head = head;
	r->tail = tail;
	pthread_mutex_unlock(&r->lock);
	uv_async_send(&r->async);
}

void node_results_push(struct node_results *r, struct node_job *job)
{
	job->next = NULL;
	results_push_list(r, job, job);
}

struct node_job *node_results_take(struct node_results *r)
{
	struct node_job *list;

	pthread_mutex_lock(&r->lock);
	list = r->head;
	r->head = r->tail = NULL;
	pthread_mutex_unlock(&r->lock);
	return list;
}

/* ------------------------------------------------------------------ one worker */

/* Take every queued job, oldest first, waiting for one; NULL when asked to stop. */
static struct node_job *worker_take(struct node_worker *w, struct node_job **tail)
{
	struct node_job *list = NULL;

	pthread_mutex_lock(&w->lock);
	while (!w->head && !w->stop)
		pthread_cond_wait(&w->wake, &w->lock);
	if (!w->stop) {
		list = w->head;
		*tail = w->tail;
		w->head = w->tail = NULL;
	}
	pthread_mutex_unlock(&w->lock);
	return list;
}

static void *worker_main(void *arg)
{
	struct node_worker *w = arg;
	struct node_job *list, *tail;

	while ((list = worker_take(w, &tail))) {
		for (struct node_job *job = list; job; job = job->next)
			node_job_run(job);
		results_push_list(w->results, list, tail);
	}
	return NULL;
}

int node_worker_start(struct node_worker *w, struct node_results *results)
{
	int ret;

	w->head = w->tail = NULL;
	w->stop = false;
	w->results = results;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	ret = pthread_create(&w->thread, NULL, worker_main, w);
	if (ret) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		return -ret;
	}
	w->started = true;
	return 0;
}

/* Append the list @head..@tail (tail->next == NULL) to the queue and wake the worker. */
static void worker_push_list(struct node_worker *w, struct node_job *head, struct node_job *tail)
{
	pthread_mutex_lock(&w->lock);
	if (w->tail)
		w->tail->next = head;
	else
		w->head = head;
	w->tail = tail;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void node_worker_push(struct node_worker *w, struct node_job *job)
{
	job->next = NULL;
	worker_push_list(w, job, job);
}

void node_worker_stage(struct node_worker *w, struct node_job *job)
{
	job->next = NULL;
	if (w->staged_tail)
		w->staged_tail->next = job;
	else
		w->staged = job;
	w->staged_tail = job;
}

void node_worker_flush(struct node_worker *w)
{
	if (!w->staged || !w->started) /* a stopped worker's are taken by node_worker_stop */
		return;
	worker_push_list(w, w->staged, w->staged_tail);
	w->staged = w->staged_tail = NULL;
}

struct node_job *node_worker_stop(struct node_worker *w)
{
	struct node_job *left;

	if (!w->started) { /* staged after the stop: never ran either */
		left = w->staged;
		w->staged = w->staged_tail = NULL;
		return left;
	}
	node_worker_flush(w);
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	left = w->head;
	w->head = w->tail = NULL;
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	w->started = false;
	return left;
}

/* ------------------------------------------------------------------ the CPU workers */

struct node_pool *node_pool_new(int ncpus, struct node_results *results)
{
	struct node_pool *pool = xcalloc(1, sizeof(*pool));

	pool->cpu = xcalloc((size_t)ncpus, sizeof(*pool->cpu));
	for (pool->ncpus = 0; pool->ncpus < ncpus; pool->ncpus++)
		if (node_worker_start(&pool->cpu[pool->ncpus], results))
			goto out_free_pool;
	return pool;
out_free_pool:
	node_pool_free(pool); /* a new pool has no jobs */
	return NULL;
}

/* Append @more to the list ending at *@tail. */
static void list_append(struct node_job **head, struct node_job **tail, struct node_job *more)
{
	if (!more)
		return;
	if (*tail)
		(*tail)->next = more;
	else
		*head = more;
	for (*tail = more; (*tail)->next; *tail = (*tail)->next)
		;
}

struct node_job *node_pool_free(struct node_pool *pool)
{
	struct node_job *left = NULL, *tail = NULL;

	if (!pool)
		return NULL;
	for (int cpu = 0; cpu < pool->ncpus; cpu++)
		list_append(&left, &tail, node_worker_stop(&pool->cpu[cpu]));
	free(pool->cpu);
	free(pool);
	return left;
}
