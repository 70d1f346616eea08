// SPDX-License-Identifier: MIT
/*
 * cmd_cluster.c - `numasim cluster up|status|down`: a whole cluster on this machine, for
 * trying things and for tests.
 *
 * up starts numasim-coordinator (--listen 127.0.0.1:PORT --port-file DIR/coordinator.port)
 * and one numasim-node per node of the config, each in its own session with its output in
 * DIR/<name>.log, records them in DIR/cluster, and returns once `ping` reports every node
 * up: the readiness test is an RPC, never a sleep. PORT comes from -s (or NUMASIM_SERVER),
 * else from the config's [coordinator] listen, else 7070; 0 picks a free port, which the
 * coordinator reports through the port file. down stops what DIR/cluster names: SIGTERM,
 * up to 5 s, then SIGKILL.
 *
 * The record holds "name pid starttime" lines: a pid whose /proc starttime differs is another
 * process that reused the number and is never signalled.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ini.h>

#include "cli.h"
#include "nsim.h"

const char cli_cluster_usage[] =
	"usage: numasim [-s 127.0.0.1:PORT] cluster up [--config FILE | --nodes N] "
	"[--cpu-threads]\n"
	"                                                [--dir DIR]\n"
	"       numasim cluster status [--dir DIR]\n"
	"       numasim cluster down [--dir DIR]\n"
	"\n"
	"  --config FILE  the machine and the coordinator's port (deploy/*.ini)\n"
	"  --nodes N      instead: a generated 686-pae config, N nodes of 1 GiB, 1 CPU each\n"
	"                 (default --nodes 2)\n"
	"  --cpu-threads  nodes run each simulated CPU's requests on a thread of its own\n"
	"                 (default: on the node's loop thread, in arrival order)\n"
	"  --dir DIR      logs, pids and the generated config (default $NUMASIM_RUN_DIR,\n"
	"                 else /tmp/numasim-$UID)\n"
	"  -s             the port to listen on (0: any free port); default: the config's\n"
	"up waits until every node is up (10 s at most); down sends SIGTERM, then SIGKILL\n"
	"after 5 s\n";

#define CMD "cluster"
#define UP_TIMEOUT_MS 10000
#define DOWN_TIMEOUT_MS 5000
#define POLL_INTERVAL_MS 50
#define MAX_PROCS (1 + MAX_NUMNODES)

struct cluster_proc {
	char name[16];		      /* "coordinator", "node0", ... */
	pid_t pid;		      /* process id */
	unsigned long long starttime; /* /proc/PID/stat field 22: tells reused pids apart */
};

struct cluster {
	char dir[PATH_MAX];    /* --dir */
	char config[PATH_MAX]; /* the config in use */
	char addr[64];	       /* "127.0.0.1:PORT" */
	int nodes;	       /* nodes of the config */
	int port;	       /* port asked for (0: any) */
	bool cpu_threads;      /* --cpu-threads for the nodes */
	char node_addr[sizeof(NSIM_UNIX_PREFIX) + PATH_MAX +
		       32];		      /* what nodes dial: unix:DIR/... or addr */
	struct cluster_proc procs[MAX_PROCS]; /* coordinator first */
	int nr_procs;			      /* how many */
};

/* ------------------------------------------------------------------ small helpers */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int path_in(char *out, size_t len, const char *dir, const char *file)
{
	if ((size_t)snprintf(out, len, "%s/%s", dir, file) >= len)
		return cli_error(CLI_EXIT_USAGE, CMD, "path too long: '%s/%s'", dir, file);
	return 0;
}

/* mkdir -p @dir (mode 0700 for what it creates). */
static int make_dir(const char *dir)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		goto fail;
	return 0;
fail:
	return cli_error(CLI_EXIT_FAIL, CMD, "cannot create '%s': %s", buf, cli_strerror(errno));
}

/* The last non-empty line of a log, for an error message (empty if none). */
static void log_tail(const char *path, char *line, size_t len)
{
	char buf[4096];
	FILE *f = fopen(path, "r");

	line[0] = '\0';
	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f))
		if (buf[strspn(buf, " \t\r\n")])
			snprintf(line, len, "%.*s", (int)strcspn(buf, "\r\n"), buf);
	fclose(f);
}

/* ------------------------------------------------------------------ processes */

/* /proc/PID/stat's state and starttime; false if there is no such process. */
static bool proc_stat(pid_t pid, char *state, unsigned long long *starttime)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	if (!p || sscanf(p + 1,
			 " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			 "%*s %*s %*s %*s %llu",
			 state, starttime) != 2)
		return false;
	return true;
}

/* The recorded process still runs (same pid, same start time, not a zombie). */
static bool proc_alive(const struct cluster_proc *p)
{
	unsigned long long start;
	char state;

	return proc_stat(p->pid, &state, &start) && start == p->starttime && state != 'Z' &&
	       state != 'X';
}

/* The directory of this executable: where the daemons were built next to it. */
static void exe_dir(char *dir, size_t len)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0) {
		snprintf(dir, len, ".");
		return;
	}
	buf[n] = '\0';
	snprintf(dir, len, "%s", dirname(buf));
}

static bool is_program(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* <exe dir>/../@subdir/@name, <exe dir>/@name, then $PATH. */
static int find_program(const char *name, const char *subdir, char *out, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX * 2];
	const char *env = getenv("PATH");

	exe_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/../%s/%s", dir, subdir, name);
	if (!is_program(path))
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (const char *p = env; !is_program(path) && p && *p;) {
		size_t n = strcspn(p, ":");

		snprintf(path, sizeof(path), "%.*s/%s", (int)n, n ? p : ".", name);
		p += n + (p[n] == ':');
	}
	if (!is_program(path) || strlen(path) >= len)
		return cli_error(CLI_EXIT_FAIL, CMD,
				 "cannot find %s (looked in %s/../%s, %s and PATH)", name, dir,
				 subdir, dir);
	snprintf(out, len, "%s", path);
	return 0;
}

/* The child's side of spawn(): never returns. */
static void __attribute__((noreturn)) spawn_child(char *const argv[], const char *log, int errfd)
{
	int fd, err;

	setsid();
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
		execv(argv[0], argv);
	}
	err = errno;
	if (write(errfd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

/*
 * spawn - start @argv[0] in a new session, output to DIR/@name.log, and record it in @c.
 * A failed exec is reported through a close-on-exec pipe, so it is an error here.
 */
static int spawn(struct cluster *c, const char *name, char *const argv[])
{
	struct cluster_proc *p = &c->procs[c->nr_procs];
	char log[PATH_MAX + 32], state;
	int fds[2], err = 0;
	ssize_t n;

	snprintf(log, sizeof(log), "%s/%s.log", c->dir, name);
	if (pipe(fds))
		return cli_error(CLI_EXIT_FAIL, CMD, "pipe: %s", cli_strerror(errno));
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	fflush(NULL);
	p->pid = fork();
	if (p->pid < 0) {
		err = errno;
		close(fds[0]);
		close(fds[1]);
		return cli_error(CLI_EXIT_FAIL, CMD, "fork: %s", cli_strerror(err));
	}
	if (!p->pid)
		spawn_child(argv, log, fds[1]);
	close(fds[1]);
	do
		n = read(fds[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n > 0) {
		waitpid(p->pid, NULL, 0);
		return cli_error(CLI_EXIT_FAIL, CMD, "cannot start %s: %s", argv[0],
				 cli_strerror(err));
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (!proc_stat(p->pid, &state, &p->starttime))
		p->starttime = 0;
	c->nr_procs++;
	return 0;
}

/* An exited child of ours, as a message naming its log's last line; 0 if all run. */
static int reap_check(struct cluster *c)
{
	char log[PATH_MAX + 32], tail[256];
	int status;

	for (int i = 0; i < c->nr_procs; i++) {
		struct cluster_proc *p = &c->procs[i];

		if (waitpid(p->pid, &status, WNOHANG) != p->pid)
			continue;
		p->starttime = ~0ull; /* reaped: never signal this pid again */
		snprintf(log, sizeof(log), "%s/%s.log", c->dir, p->name);
		log_tail(log, tail, sizeof(tail));
		if (WIFSIGNALED(status))
			return cli_error(CLI_EXIT_FAIL, CMD,
					 "%s (pid %d) was killed by signal %d%s%s", p->name,
					 (int)p->pid, WTERMSIG(status), *tail ? ": " : "", tail);
		return cli_error(CLI_EXIT_FAIL, CMD, "%s (pid %d) exited with status %d%s%s",
				 p->name, (int)p->pid, WEXITSTATUS(status), *tail ? ": " : "",
				 tail);
	}
	return 0;
}

/*
 * stop - SIGTERM every recorded process still running, wait up to DOWN_TIMEOUT_MS, SIGKILL
 * what is left. Reaps our own children on the way. The number killed with SIGKILL.
 */
static int stop(struct cluster *c, int *stopped)
{
	long deadline = now_ms() + DOWN_TIMEOUT_MS;
	int left, killed = 0;

	*stopped = 0;
	for (int i = 0; i < c->nr_procs; i++)
		if (proc_alive(&c->procs[i]) && !kill(c->procs[i].pid, SIGTERM))
			(*stopped)++;
	do {
		left = 0;
		for (int i = 0; i < c->nr_procs; i++) {
			waitpid(c->procs[i].pid, NULL, WNOHANG);
			left += proc_alive(&c->procs[i]);
		}
		if (left)
			sleep_ms(POLL_INTERVAL_MS);
	} while (left && now_ms() < deadline);
	for (int i = 0; left && i < c->nr_procs; i++)
		if (proc_alive(&c->procs[i]) && !kill(c->procs[i].pid, SIGKILL)) {
			killed++;
			waitpid(c->procs[i].pid, NULL, 0);
		}
	return killed;
}

/* ------------------------------------------------------------------ the record */

static int record_write(const struct cluster *c)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 32];
	FILE *f;

	if (path_in(path, sizeof(path), c->dir, "cluster"))
		return CLI_EXIT_USAGE;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return cli_error(CLI_EXIT_FAIL, CMD, "cannot write '%s': %s", tmp,
				 cli_strerror(errno));
	fprintf(f, "address %s\nconfig %s\n", c->addr, c->config);
	for (int i = 0; i < c->nr_procs; i++)
		fprintf(f, "%s %d %llu\n", c->procs[i].name, (int)c->procs[i].pid,
			c->procs[i].starttime);
	if (fclose(f) || rename(tmp, path))
		return cli_error(CLI_EXIT_FAIL, CMD, "cannot write '%s': %s", path,
				 cli_strerror(errno));
	return 0;
}

/* Read DIR/cluster into @c. -ENOENT when there is none (nothing printed). */
static int record_read(struct cluster *c)
{
	char path[PATH_MAX + 16], line[PATH_MAX + 64];
	FILE *f;

	if (path_in(path, sizeof(path), c->dir, "cluster"))
		return CLI_EXIT_USAGE;
	f = fopen(path, "r");
	if (!f && errno == ENOENT)
		return -ENOENT;
	if (!f)
		return cli_error(CLI_EXIT_FAIL, CMD, "cannot read '%s': %s", path,
				 cli_strerror(errno));
	c->nr_procs = 0;
	while (fgets(line, sizeof(line), f)) {
		struct cluster_proc *p = &c->procs[c->nr_procs];
		int pid;

		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "address ", 8))
			snprintf(c->addr, sizeof(c->addr), "%.*s", (int)sizeof(c->addr) - 1,
				 line + 8);
		else if (!strncmp(line, "config ", 7))
			snprintf(c->config, sizeof(c->config), "%.*s", (int)sizeof(c->config) - 1,
				 line + 7);
		else if (c->nr_procs < MAX_PROCS &&
			 sscanf(line, "%15s %d %llu", p->name, &pid, &p->starttime) == 3 &&
			 pid > 0) {
			p->pid = pid;
			c->nr_procs++;
		}
	}
	fclose(f);
	return 0;
}

static void record_remove(const struct cluster *c)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/cluster", c->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/coordinator.port", c->dir);
	unlink(path);
}

/* ------------------------------------------------------------------ the config */

struct config_scan {
	int nodes;	 /* [machine] nodes, or the count of node_mem entries */
	char listen[64]; /* [coordinator] listen */
};

static int config_key(void *arg, const char *section, const char *name, const char *value)
{
	struct config_scan *s = arg;
	long v;

	if (!strcmp(section, "machine") && !strcmp(name, "nodes") &&
	    !nsim_parse_long(value, 1, MAX_NUMNODES, &v))
		s->nodes = (int)v;
	else if (!strcmp(section, "machine") && !strcmp(name, "node_mem") && !s->nodes) {
		s->nodes = 1;
		for (const char *p = value; (p = strchr(p, ',')); p++)
			s->nodes++;
	} else if (!strcmp(section, "coordinator") && !strcmp(name, "listen"))
		snprintf(s->listen, sizeof(s->listen), "%s", value);
	return 1;
}

/* The node count and the configured port of --config FILE. */
static int config_read(struct cluster *c, int *config_port)
{
	struct config_scan s = {.nodes = 0};
	char host[256];
	int ret = ini_parse(c->config, config_key, &s);

	if (ret < 0)
		return cli_error(CLI_EXIT_FAIL, CMD, "cannot read config '%s'", c->config);
	if (ret > 0)
		return cli_error(CLI_EXIT_FAIL, CMD, "%s:%d: cannot parse this line", c->config,
				 ret);
	c->nodes = s.nodes ? s.nodes : 1;
	*config_port = NSIM_DEFAULT_PORT;
	if (*s.listen && nsim_parse_host_port(s.listen, host, sizeof(host), config_port))
		return cli_error(CLI_EXIT_FAIL, CMD, "%s: bad [coordinator] listen '%s'", c->config,
				 s.listen);
	return 0;
}

/* --nodes N: DIR/cluster.ini, N nodes of 1 GiB, one CPU each, 686-pae, SLIT 10/20. */
static int config_generate(struct cluster *c)
{
	FILE *f;

	if (path_in(c->config, sizeof(c->config), c->dir, "cluster.ini"))
		return CLI_EXIT_USAGE;
	f = fopen(c->config, "w");
	if (!f)
		return cli_error(CLI_EXIT_FAIL, CMD, "cannot write '%s': %s", c->config,
				 cli_strerror(errno));
	fprintf(f,
		"; generated by `numasim cluster up --nodes %d`\n[machine]\narch = 686-pae\n"
		"cpus = %d\nnodes = %d\nnode_mem = ",
		c->nodes, c->nodes, c->nodes);
	for (int i = 0; i < c->nodes; i++)
		fprintf(f, "%s1G", i ? "," : "");
	fprintf(f, "\nthp = always\ncmdline =\ndistance = ");
	for (int i = 0; i < c->nodes; i++)
		for (int j = 0; j < c->nodes; j++)
			fprintf(f, "%s%d", j ? " " : i ? "; " : "", i == j ? 10 : 20);
	fprintf(f,
		"\n\n[sysctl]\n\n[coordinator]\nlisten = 127.0.0.1:%d\nheartbeat_ms = 500\n"
		"dead_after_ms = 1500\n",
		c->port);
	if (fclose(f))
		return cli_error(CLI_EXIT_FAIL, CMD, "cannot write '%s': %s", c->config,
				 cli_strerror(errno));
	return 0;
}

/* ------------------------------------------------------------------ up */

/* The port the coordinator listens on, once it has written the port file; 0 until then. */
static int port_file_read(const struct cluster *c)
{
	char path[PATH_MAX + 32];
	long port = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/coordinator.port", c->dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &port) != 1 || port <= 0 || port > 65535)
		port = 0;
	fclose(f);
	return (int)port;
}

/*
 * The nodes dial the coordinator's Unix socket in the run directory (no TCP/IP stack and no
 * packet filter on each frame), unless its path is too long for a socket address.
 */
static const char *local_socket(const struct cluster *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/coordinator.sock", c->dir);
	return nsim_check_unix_path(buf) ? NULL : buf;
}

static int start_coordinator(struct cluster *c)
{
	char prog[PATH_MAX], listen[64], portfile[PATH_MAX + 32], sock[PATH_MAX + 32];
	char *argv[] = {prog,	       "--config", c->config, "--listen", listen,
			"--port-file", portfile,   NULL,      NULL,	  NULL};
	int ret = find_program("numasim-coordinator", "server", prog, sizeof(prog));

	if (ret)
		return ret;
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", c->port);
	snprintf(portfile, sizeof(portfile), "%s/coordinator.port", c->dir);
	unlink(portfile);
	if (local_socket(c, sock, sizeof(sock))) {
		argv[7] = "--local";
		argv[8] = sock;
	}
	return spawn(c, "coordinator", argv);
}

/* Wait for the port file: the coordinator listens. Sets c->addr. */
static int wait_listening(struct cluster *c, long deadline)
{
	int port, ret;

	while (!(port = port_file_read(c))) {
		ret = reap_check(c);
		if (ret)
			return ret;
		if (now_ms() > deadline)
			return cli_error(CLI_EXIT_FAIL, CMD,
					 "numasim-coordinator wrote no port file in %d s (see "
					 "%s/coordinator.log)",
					 UP_TIMEOUT_MS / 1000, c->dir);
		sleep_ms(POLL_INTERVAL_MS);
	}
	snprintf(c->addr, sizeof(c->addr), "127.0.0.1:%d", port);
	return 0;
}

static int start_nodes(struct cluster *c)
{
	char prog[PATH_MAX], id[16], name[16];
	char sock[PATH_MAX + 32];
	char *argv[] = {prog, "--coordinator", c->node_addr, "--id", id, NULL, NULL};
	int ret = find_program("numasim-node", "node", prog, sizeof(prog));

	if (local_socket(c, sock, sizeof(sock)))
		snprintf(c->node_addr, sizeof(c->node_addr), NSIM_UNIX_PREFIX "%s", sock);
	else
		snprintf(c->node_addr, sizeof(c->node_addr), "%s", c->addr);
	if (c->cpu_threads)
		argv[5] = "--cpu-threads";
	for (int i = 0; !ret && i < c->nodes; i++) {
		snprintf(id, sizeof(id), "%d", i);
		snprintf(name, sizeof(name), "node%d", i);
		ret = spawn(c, name, argv);
	}
	return ret;
}

/* Poll `ping` until every node is up. */
static int wait_nodes_up(struct cluster *c, long deadline, struct cli_pong *p)
{
	struct cli_remote r;
	int ret;

	for (;;) {
		ret = reap_check(c);
		if (ret)
			return ret;
		ret = cli_remote_open(&r, CMD, c->addr, CLI_QUIET | CLI_POLL);
		if (!ret)
			ret = cli_ping_once(&r, p);
		cli_remote_close(&r);
		if (!ret && p->nodes && p->nodes_up >= p->nodes)
			return 0;
		if (now_ms() > deadline)
			break;
		sleep_ms(POLL_INTERVAL_MS);
	}
	if (ret)
		return cli_error(CLI_EXIT_FAIL, CMD, "not ready after %d s: %s (logs in %s)",
				 UP_TIMEOUT_MS / 1000, r.error, c->dir);
	return cli_error(CLI_EXIT_FAIL, CMD, "not ready after %d s: nodes up %u/%u (logs in %s)",
			 UP_TIMEOUT_MS / 1000, p->nodes_up, p->nodes, c->dir);
}

/* A cluster recorded in DIR whose processes still run is an error; a stale record goes. */
static int check_not_running(const struct cluster *want)
{
	struct cluster old;
	int ret;

	memset(&old, 0, sizeof(old));
	snprintf(old.dir, sizeof(old.dir), "%s", want->dir);
	ret = record_read(&old);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	for (int i = 0; i < old.nr_procs; i++)
		if (proc_alive(&old.procs[i]))
			return cli_error(CLI_EXIT_FAIL, CMD,
					 "a cluster at %s is running (%s/cluster); `numasim "
					 "cluster down` first",
					 old.addr, old.dir);
	record_remove(&old);
	return 0;
}

/* The port: -s (or NUMASIM_SERVER), else the config's. */
static int choose_port(struct cluster *c, int config_port)
{
	bool explicit;
	const char *s = cli_server_address(&explicit);
	char host[256];

	c->port = config_port;
	if (explicit && (nsim_parse_host_port(s, host, sizeof(host), &c->port) || c->port < 0 ||
			 c->port > 65535))
		return cli_error(CLI_EXIT_USAGE, CMD, "bad server address '%s' (HOST:PORT)", s);
	return 0;
}

static int cluster_start(struct cluster *c)
{
	long deadline = now_ms() + UP_TIMEOUT_MS;
	struct cli_pong p = {0, 0, 0};
	int ret = start_coordinator(c), stopped;

	if (!ret)
		ret = wait_listening(c, deadline);
	if (!ret)
		ret = record_write(c); /* from here on, `cluster down` can clean up */
	if (!ret)
		ret = start_nodes(c);
	if (!ret)
		ret = record_write(c);
	if (!ret)
		ret = wait_nodes_up(c, deadline, &p);
	if (ret) {
		stop(c, &stopped);
		record_remove(c);
		return ret;
	}
	printf("%s: %u node%s up (logs in %s)\n", c->addr, p.nodes_up, p.nodes_up == 1 ? "" : "s",
	       c->dir);
	return 0;
}

static int cluster_up(struct cluster *c, const char *config, long nodes)
{
	int config_port = NSIM_DEFAULT_PORT, ret;

	if (config && nodes > 0)
		return cli_error(CLI_EXIT_USAGE, CMD, "--config and --nodes exclude each other");
	ret = make_dir(c->dir);
	if (!ret)
		ret = check_not_running(c);
	if (!ret && config) {
		if (!realpath(config, c->config))
			return cli_error(CLI_EXIT_FAIL, CMD, "cannot read config '%s': %s", config,
					 cli_strerror(errno));
		ret = config_read(c, &config_port);
	}
	if (!ret)
		ret = choose_port(c, config_port);
	if (!ret && !config) {
		c->nodes = nodes > 0 ? (int)nodes : 2;
		ret = config_generate(c);
	}
	return ret ? ret : cluster_start(c);
}

/* ------------------------------------------------------------------ status, down */

static int cluster_load(struct cluster *c)
{
	int ret = record_read(c);

	if (ret == -ENOENT)
		return cli_error(CLI_EXIT_FAIL, CMD, "no cluster recorded in %s", c->dir);
	return ret;
}

static int cluster_status(struct cluster *c)
{
	struct cli_remote r;
	struct cli_pong p;
	int ret = cluster_load(c), running = 0;

	if (ret)
		return ret;
	for (int i = 0; i < c->nr_procs; i++)
		running += proc_alive(&c->procs[i]);
	printf("cluster %s: %d of %d processes running (config %s, logs in %s)\n", c->addr, running,
	       c->nr_procs, c->config, c->dir);
	ret = cli_remote_open(&r, CMD, c->addr, 0);
	if (!ret)
		ret = cli_ping_once(&r, &p);
	if (!ret) {
		cli_pong_print(&p, stdout);
		ret = cli_view_show(&r, "hardware", -1, false, NULL);
	}
	cli_remote_close(&r);
	return ret;
}

static int cluster_down(struct cluster *c)
{
	int ret = cluster_load(c), stopped, killed;

	if (ret)
		return ret;
	killed = stop(c, &stopped);
	record_remove(c);
	printf("cluster %s down: %d process%s stopped", c->addr, stopped, stopped == 1 ? "" : "es");
	if (killed)
		printf(", %d with SIGKILL", killed);
	putchar('\n');
	return 0;
}

/* ------------------------------------------------------------------ the command */

enum { OPT_CONFIG = 256, OPT_NODES, OPT_CPU_THREADS, OPT_DIR };

static const struct option cluster_options[] = {
	{"config", required_argument, NULL, OPT_CONFIG},
	{"nodes", required_argument, NULL, OPT_NODES},
	{"cpu-threads", no_argument, NULL, OPT_CPU_THREADS},
	{"dir", required_argument, NULL, OPT_DIR},
	{NULL, 0, NULL, 0},
};

static void default_dir(char *dir, size_t len)
{
	const char *env = getenv("NUMASIM_RUN_DIR");

	if (env && *env)
		snprintf(dir, len, "%s", env);
	else
		snprintf(dir, len, "/tmp/numasim-%u", (unsigned int)getuid());
}

int cli_cluster(int argc, char **argv)
{
	static struct cluster c; /* large: keep it off the stack */
	const char *config = NULL, *op = argc > 1 ? argv[1] : "";
	long nodes = 0;
	int opt, ret = 0;

	if (strcmp(op, "up") && strcmp(op, "status") && strcmp(op, "down"))
		return cli_error(CLI_EXIT_USAGE, CMD, "expected up, status or down");
	default_dir(c.dir, sizeof(c.dir));
	argc--;
	argv++; /* getopt sees OP as argv[0] */
	optind = 1;
	opterr = 0;
	while (!ret && (opt = getopt_long(argc, argv, "", cluster_options, NULL)) != -1) {
		if (opt == '?')
			return cli_option_error(CMD, argv);
		if (opt == OPT_CONFIG)
			config = optarg;
		else if (opt == OPT_NODES)
			ret = cli_parse_long(CMD, "node count", optarg, 1, MAX_NUMNODES, &nodes);
		else if (opt == OPT_CPU_THREADS)
			c.cpu_threads = true;
		else if (!*optarg || strlen(optarg) >= sizeof(c.dir) - 32)
			ret = cli_error(CLI_EXIT_USAGE, CMD, "bad directory '%s'", optarg);
		else
			snprintf(c.dir, sizeof(c.dir), "%s", optarg);
	}
	if (ret)
		return ret;
	if (optind < argc)
		return cli_error(CLI_EXIT_USAGE, CMD, "unexpected argument '%s'", argv[optind]);
	if (strcmp(op, "up") && (config || nodes || c.cpu_threads))
		return cli_error(CLI_EXIT_USAGE, CMD,
				 "--config, --nodes and --cpu-threads are for `cluster up`");
	if (!strcmp(op, "up"))
		return cluster_up(&c, config, nodes);
	if (!strcmp(op, "status"))
		return cluster_status(&c);
	return cluster_down(&c);
}
