// SPDX-License-Identifier: MIT
/*
 * workers.c - the threads that run node/mm for the daemon: one control worker for what
 * names no CPU (views, sysctls, stats, zone ops, boot) and, with --cpu-threads, one worker
 * per simulated CPU (so each CPU's requests run on its own thread, concurrently with the
 * other CPUs'). Without it the loop thread runs every CPU's requests itself (dispatch.c).
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

/* ------------------------------------------------------------------ job queues */

void node_jobq_append(struct node_jobq *q, struct node_job *head, struct node_job *tail)
{
	if (q->tail)
		q->tail->next = head;
	else
		q->head = head;
	q->tail = tail;
}

void node_jobq_push(struct node_jobq *q, struct node_job *job)
{
	job->next = NULL;
	node_jobq_append(q, job, job);
}

struct node_job *node_jobq_take(struct node_jobq *q, struct node_job **tail)
{
	struct node_job *list = q->head;

	if (tail)
		*tail = q->tail;
	q->head = q->tail = NULL;
	return list;
}

/* ------------------------------------------------------------------ results queue */

int node_results_init(struct node_results *r, uv_loop_t *loop, uv_async_cb cb, void *data)
{
	int ret;

	r->q.head = r->q.tail = NULL;
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
	node_jobq_append(&r->q, head, tail);
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
	list = node_jobq_take(&r->q, NULL);
	pthread_mutex_unlock(&r->lock);
	return list;
}

/* ------------------------------------------------------------------ one worker */

/* Take every queued job, oldest first, waiting for one; NULL when asked to stop. */
static struct node_job *worker_take(struct node_worker *w, struct node_job **tail)
{
	struct node_job *list = NULL;

	pthread_mutex_lock(&w->lock);
	while (!w->q.head && !w->stop)
		pthread_cond_wait(&w->wake, &w->lock);
	if (!w->stop)
		list = node_jobq_take(&w->q, tail);
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

	w->q.head = w->q.tail = NULL;
	w->staged.head = w->staged.tail = NULL;
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
	node_jobq_append(&w->q, head, tail);
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
	node_jobq_push(&w->staged, job);
}

void node_worker_flush(struct node_worker *w)
{
	struct node_job *list, *tail;

	if (!w->staged.head || !w->started) /* a stopped worker's are taken by node_worker_stop */
		return;
	list = node_jobq_take(&w->staged, &tail);
	worker_push_list(w, list, tail);
}

struct node_job *node_worker_stop(struct node_worker *w)
{
	struct node_job *left;

	if (!w->started) /* staged after the stop: never ran either */
		return node_jobq_take(&w->staged, NULL);
	node_worker_flush(w);
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	left = node_jobq_take(&w->q, NULL);
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
static void list_append(struct node_jobq *q, struct node_job *more)
{
	struct node_job *tail = more;

	if (!more)
		return;
	while (tail->next)
		tail = tail->next;
	node_jobq_append(q, more, tail);
}

struct node_job *node_pool_free(struct node_pool *pool)
{
	struct node_jobq left = {NULL, NULL};

	if (!pool)
		return NULL;
	for (int cpu = 0; cpu < pool->ncpus; cpu++)
		list_append(&left, node_worker_stop(&pool->cpu[cpu]));
	free(pool->cpu);
	free(pool);
	return left.head;
}
