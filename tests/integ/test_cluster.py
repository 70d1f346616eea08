#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_cluster.py - the networked cluster against Linux 6.1's allocator semantics.

Each test case starts its own numasim-coordinator (--listen 127.0.0.1:0 --port-file) and one
numasim-node per node of the machine as real processes, waits for readiness by RPC (ping until
nodes_up == every node, with a deadline), talks to the coordinator over raw sockets with the
tiny protobuf encoder/decoder below (Python 3 standard library only), and at the end checks
that no process crashed (still alive, clean exit on SIGTERM, no sanitizer report in the logs).

Usage: test_cluster.py NUMASIM NUMASIM-COORDINATOR NUMASIM-NODE [unittest arguments]
       (or NUMASIM_BIN, NUMASIM_COORDINATOR_BIN, NUMASIM_NODE_BIN in the environment)

The machine is deploy/numa4-686pae.ini: 4 nodes x 1 GiB, 686-pae, one CPU per node, SLIT
distances 10/20/30/40 (linear). Node 0 holds DMA, Normal (lowmem ends at 879 MiB) and a little
HighMem; nodes 1-3 hold HighMem only. The kernel's fallback order for node 2 is "2 3 1 0".
Kept at full size: filling all of it with batched requests takes a few seconds, and a smaller
machine would spread lowmem over several nodes, which blurs checks 1 and 3.

Checks (one class each): 1 NUMA counters (zone_statistics), 2 zonelist fallback by distance,
3 lowmem_reserve, 4 memory policies, 5 kmalloc and slab caches, 6 a node killed (-9) or silent
(SIGSTOP) and back, 7 bad input on raw sockets, 8 sixteen concurrent clients and the page
accounting. Where the issue and Linux 6.1 disagree, the test asserts 6.1 and says so. The CLI
binary is used for the human-readable hardware view in check 6.

The last line printed is "N passed, M failed"; the exit status is non-zero on any failure.
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

# ------------------------------------------------------------------ protobuf, by hand
#
# A schema maps each message to {field: (number, type, repeated)}. Types: "u" (uint32/uint64
# and enums), "i" (int32/int64: negatives are 10-byte varints), "b" (bool), "s" (string), or
# the name of a message. Encoding writes every field given (defaults included, which is valid
# proto3; a oneof member must be written even when empty). Decoding fills in the proto3
# defaults and skips fields it does not know.

SCHEMA = {
    "Hello": {"client": (1, "s", False), "admin": (2, "b", False)},
    "HelloReply": {"version": (1, "u", False), "server": (2, "s", False),
                   "nodes": (3, "u", False), "cpus": (4, "u", False)},
    "AllocPages": {"gfp": (1, "u", False), "order": (2, "u", False), "cpu": (3, "i", False),
                   "policy": (4, "u", False), "preferred": (5, "i", False),
                   "nodemask": (6, "u", False)},
    "ZoneTried": {"node": (1, "i", False), "zone": (2, "s", False), "why": (3, "s", False),
                  "free": (4, "i", False), "mark": (5, "i", False),
                  "reserve": (6, "i", False)},
    "AllocPagesReply": {"pfn": (1, "u", False), "node": (2, "i", False),
                        "zone": (3, "s", False), "tried": (4, "ZoneTried", True)},
    "FreePages": {"pfn": (1, "u", False), "order": (2, "u", False), "cpu": (3, "i", False)},
    "Kmalloc": {"size": (1, "u", False), "gfp": (2, "u", False), "cpu": (3, "i", False),
                "node": (4, "i", False)},
    "Kfree": {"addr": (1, "u", False), "cpu": (2, "i", False)},
    "Ksize": {"addr": (1, "u", False)},
    "AddrReply": {"addr": (1, "u", False), "node": (2, "i", False), "cache": (3, "s", False),
                  "size": (4, "u", False)},
    "CacheCreate": {"name": (1, "s", False), "size": (2, "u", False), "align": (3, "u", False),
                    "flags": (4, "u", False), "ctor": (5, "b", False)},
    "CacheCreateReply": {"name": (1, "s", False), "merged_into": (2, "s", False),
                         "objsize": (3, "u", False), "align": (4, "u", False),
                         "objperslab": (5, "u", False), "pagesperslab": (6, "u", False)},
    "CacheAlloc": {"name": (1, "s", False), "gfp": (2, "u", False), "cpu": (3, "i", False),
                   "node": (4, "i", False)},
    "CacheFree": {"name": (1, "s", False), "addr": (2, "u", False), "cpu": (3, "i", False)},
    "CacheName": {"name": (1, "s", False)},
    "CountReply": {"count": (1, "u", False), "message": (2, "s", False)},
    "SysctlGet": {"name": (1, "s", False)},
    "SysctlSet": {"name": (1, "s", False), "value": (2, "s", False)},
    "SysctlReply": {"name": (1, "s", False), "value": (2, "s", False)},
    "View": {"name": (1, "s", False), "node": (2, "i", False), "json": (3, "b", False),
             "sort": (4, "s", False)},
    "ViewReply": {"text": (1, "s", False)},
    "Ping": {},
    "Pong": {"uptime_ms": (1, "u", False), "nodes_up": (2, "u", False)},
    "NodeStats": {"node": (1, "i", False)},
    "NodeStat": {"node": (1, "i", False), "up": (2, "b", False), "managed": (3, "u", False),
                 "free": (4, "u", False), "pcp": (5, "u", False),
                 "allocated": (6, "u", False), "requests": (7, "u", False),
                 "errors": (8, "u", False)},
    "NodeStatsReply": {"nodes": (1, "NodeStat", True)},
    "Batch": {"requests": (1, "Request", True)},
    "BatchReply": {"responses": (1, "Response", True)},
    "ZoneAlloc": {"zone": (1, "i", False), "order": (2, "u", False), "gfp": (3, "u", False),
                  "alloc_flags": (4, "u", False), "highest_zoneidx": (5, "i", False),
                  "cpu": (6, "i", False), "preferred_node": (7, "i", False),
                  "owner": (8, "u", False)},
    "Request": {"version": (1, "u", False), "id": (2, "u", False),
                "hello": (10, "Hello", False), "alloc_pages": (11, "AllocPages", False),
                "free_pages": (12, "FreePages", False), "kmalloc": (13, "Kmalloc", False),
                "kfree": (14, "Kfree", False), "ksize": (15, "Ksize", False),
                "cache_create": (16, "CacheCreate", False),
                "cache_alloc": (17, "CacheAlloc", False),
                "cache_free": (18, "CacheFree", False),
                "cache_destroy": (19, "CacheName", False),
                "cache_shrink": (20, "CacheName", False),
                "cache_validate": (21, "CacheName", False),
                "sysctl_get": (22, "SysctlGet", False), "sysctl_set": (23, "SysctlSet", False),
                "view": (24, "View", False), "node_stats": (25, "NodeStats", False),
                "ping": (26, "Ping", False), "batch": (27, "Batch", False),
                "zone_alloc": (41, "ZoneAlloc", False)},
    "Response": {"id": (1, "u", False), "status": (2, "u", False), "message": (3, "s", False),
                 "hello": (10, "HelloReply", False),
                 "alloc_pages": (11, "AllocPagesReply", False),
                 "addr": (13, "AddrReply", False),
                 "cache_create": (16, "CacheCreateReply", False),
                 "count": (20, "CountReply", False), "sysctl": (22, "SysctlReply", False),
                 "view": (24, "ViewReply", False), "node_stats": (25, "NodeStatsReply", False),
                 "pong": (26, "Pong", False), "batch": (27, "BatchReply", False)},
}

STATUS = ["OK", "ENOMEM", "EINVAL", "EPERM", "BAD_PAGE_STATE", "ENODEV", "PROTOCOL_ERROR",
          "FRAME_TOO_LARGE", "UNKNOWN_OP", "VERSION_MISMATCH", "ENOENT", "EBUSY", "EEXIST",
          "EAGAIN"]
POLICY_LOCAL, POLICY_PREFERRED, POLICY_BIND, POLICY_INTERLEAVE = range(4)

# GFP masks of 6.1 (ALLOCATOR-SPEC.md 5.1); GFP_F_X is the kernel's __GFP_X (a leading
# double underscore would be name-mangled inside the test classes)
GFP_F_DMA = 0x01
GFP_F_HIGHMEM = 0x02
GFP_F_MOVABLE = 0x08
GFP_F_ZERO = 0x100
GFP_F_THISNODE = 0x200000
GFP_KERNEL = 0xcc0
GFP_USER = 0x100cc0
GFP_HIGHUSER = 0x100cc2
GFP_HIGHUSER_MOVABLE = 0x100cca
GFP_DMA = GFP_F_DMA  # 6.1: #define GFP_DMA GFP_F_DMA


def varint(v):
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while True:
        b = v & 0x7f
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(num, wire):
    return varint(num << 3 | wire)


def encode(msg_type, fields):
    schema = SCHEMA[msg_type]
    out = bytearray()
    for name, value in fields.items():
        if value is None:
            continue
        num, typ, repeated = schema[name]
        for v in (value if repeated else [value]):
            if typ in ("u", "i"):
                out += key(num, 0) + varint(int(v))
            elif typ == "b":
                out += key(num, 0) + varint(1 if v else 0)
            elif typ == "s":
                data = v.encode() if isinstance(v, str) else bytes(v)
                out += key(num, 2) + varint(len(data)) + data
            else:
                data = encode(typ, v)
                out += key(num, 2) + varint(len(data)) + data
    return bytes(out)


class DecodeError(Exception):
    pass


def read_varint(buf, pos):
    shift = v = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise DecodeError("truncated varint")
        b = buf[pos]
        pos += 1
        v |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return v, pos


def decode(msg_type, buf):
    schema = SCHEMA[msg_type]
    by_num = {num: (name, typ, rep) for name, (num, typ, rep) in schema.items()}
    out = {}
    for name, (num, typ, rep) in schema.items():
        out[name] = [] if rep else {"u": 0, "i": 0, "b": False, "s": ""}.get(typ)
    pos = 0
    while pos < len(buf):
        k, pos = read_varint(buf, pos)
        num, wire = k >> 3, k & 7
        if wire == 0:
            v, pos = read_varint(buf, pos)
        elif wire == 2:
            n, pos = read_varint(buf, pos)
            if pos + n > len(buf):
                raise DecodeError("truncated field")
            v, pos = buf[pos:pos + n], pos + n
        elif wire == 1:
            v, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            v, pos = buf[pos:pos + 4], pos + 4
        else:
            raise DecodeError("wire type %d" % wire)
        if num not in by_num:
            continue
        name, typ, rep = by_num[num]
        if typ == "u":
            v = int(v)
        elif typ == "i":
            v = v - (1 << 64) if v >= 1 << 63 else v
        elif typ == "b":
            v = bool(v)
        elif typ == "s":
            v = bytes(v).decode("utf-8", "replace")
        else:
            v = decode(typ, bytes(v))
        if rep:
            out[name].append(v)
        else:
            out[name] = v
    return out


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def status_name(resp):
    s = resp["status"]
    return STATUS[s] if s < len(STATUS) else "status%d" % s


class Closed(Exception):
    """The peer closed the connection."""


class Conn:
    """One client connection to the coordinator; requests are answered in order here."""

    def __init__(self, addr, client=None, admin=False, timeout=20.0):
        self.sock = socket.create_connection(addr, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.next_id = 1
        self.buf = b""
        if client is not None:
            r = self.call("hello", {"client": client, "admin": admin})
            if r["status"]:
                raise RuntimeError("hello as %s: %s" % (client, r["message"]))

    @classmethod
    def wrap(cls, sock):
        """A Conn over a socket that is already connected (no hello)."""
        conn = cls.__new__(cls)
        conn.sock, conn.next_id, conn.buf = sock, 1, b""
        return conn

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv_frame(self):
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    payload, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    return payload
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed("connection closed with %d bytes pending" % len(self.buf))
            self.buf += chunk

    def recv_response(self):
        return decode("Response", self.recv_frame())

    def request(self, body, fields=None, version=1):
        rid = self.next_id
        self.next_id += 1
        req = {"version": version, "id": rid}
        if body is not None:
            req[body] = fields if fields is not None else {}
        return rid, req

    def call(self, body, fields=None, version=1):
        rid, req = self.request(body, fields, version)
        self.send_raw(frame(encode("Request", req)))
        resp = self.recv_response()
        if resp["id"] != rid:
            raise AssertionError("answer id %d for request id %d" % (resp["id"], rid))
        return resp

    def batch(self, items):
        """[(body, fields)] in one Batch request; the inner Responses, in order."""
        inner = [{"version": 1, "id": i + 1, body: fields} for i, (body, fields) in
                 enumerate(items)]
        r = self.call("batch", {"requests": inner})
        if r["status"] or r["batch"] is None:
            raise AssertionError("batch: %s %s" % (status_name(r), r["message"]))
        out = r["batch"]["responses"]
        if len(out) != len(items):
            raise AssertionError("batch of %d answered %d" % (len(items), len(out)))
        return out

    # ---- conveniences
    def alloc(self, gfp, order=0, cpu=0, policy=POLICY_LOCAL, preferred=0, nodemask=0):
        return self.call("alloc_pages", alloc_args(gfp, order, cpu, policy, preferred,
                                                   nodemask))

    def free(self, pfn, order, cpu=0):
        return self.call("free_pages", {"pfn": pfn, "order": order, "cpu": cpu})

    def ping(self):
        return self.call("ping")

    def view(self, name, node=-1, as_json=True):
        r = self.call("view", {"name": name, "node": node, "json": as_json})
        if r["status"]:
            raise AssertionError("view %s: %s %s" % (name, status_name(r), r["message"]))
        return json.loads(r["view"]["text"]) if as_json else r["view"]["text"]

    def node_stats(self):
        r = self.call("node_stats", {"node": -1})
        if r["status"]:
            raise AssertionError("node_stats: %s %s" % (status_name(r), r["message"]))
        return {s["node"]: s for s in r["node_stats"]["nodes"]}

    def numastat(self):
        return {n["node"]: n for n in self.view("numastat")["nodes"]}

    def stats(self):
        return {c["name"]: c for c in self.view("stats")["commands"]}


def alloc_args(gfp, order=0, cpu=0, policy=POLICY_LOCAL, preferred=0, nodemask=0):
    return {"gfp": gfp, "order": order, "cpu": cpu, "policy": policy,
            "preferred": preferred, "nodemask": nodemask}


# ------------------------------------------------------------------ processes

BINARIES = {}
HERE = os.path.dirname(os.path.abspath(__file__))
DEPLOY_CONFIG = os.path.join(HERE, "..", "..", "deploy", "numa4-686pae.ini")
READY_DEADLINE = 20.0
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|ThreadSanitizer|UndefinedBehavior"
                       r"Sanitizer|runtime error:|Segmentation fault|core dumped")


def deadline_loop(seconds, step=0.02):
    """Yield until @seconds passed (the caller breaks out when its condition holds)."""
    end = time.monotonic() + seconds
    while True:
        yield
        if time.monotonic() >= end:
            return
        time.sleep(step)


class Cluster:
    """A coordinator and its node daemons as real processes on an ephemeral loopback port."""

    def __init__(self, config_text, nodes, node_args=()):
        self.dir = tempfile.mkdtemp(prefix="numasim-cluster.")
        self.nodes = nodes
        self.node_args = list(node_args)
        self.procs = {}       # name -> Popen (the latest incarnation)
        self.retired = []     # (name, Popen, expected returncode) killed on purpose
        self.logs = {}        # name -> [log paths]
        self.config = os.path.join(self.dir, "machine.ini")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.addr = None

    def log_path(self, name):
        n = len(self.logs.setdefault(name, []))
        path = os.path.join(self.dir, "%s%s.log" % (name, ".%d" % n if n else ""))
        self.logs[name].append(path)
        return path

    def spawn(self, name, argv):
        log = open(self.log_path(name), "a")  # O_APPEND: nothing written to it is lost
        try:
            self.procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                                stderr=subprocess.STDOUT, close_fds=True)
        finally:
            log.close()
        return self.procs[name]

    def start(self):
        port_file = os.path.join(self.dir, "coordinator.port")
        coord = self.spawn("coordinator", [BINARIES["coordinator"], "--config", self.config,
                                           "--listen", "127.0.0.1:0", "--port-file",
                                           port_file])
        port = None
        for _ in deadline_loop(READY_DEADLINE):
            if coord.poll() is not None:
                raise RuntimeError("coordinator exited %d: %s" % (coord.returncode,
                                                                   self.tail("coordinator")))
            try:
                with open(port_file) as f:
                    port = int(f.read().strip())
                break
            except (OSError, ValueError):
                pass
        if not port:
            raise RuntimeError("no port file from the coordinator")
        self.addr = ("127.0.0.1", port)
        for nid in range(self.nodes):
            self.start_node(nid)
        if not self.wait_nodes_up(self.nodes, READY_DEADLINE):
            raise RuntimeError("nodes not up within %gs: %s" % (
                READY_DEADLINE, "; ".join(self.tail(n) for n in self.procs)))

    def start_node(self, nid):
        return self.spawn("node%d" % nid, [BINARIES["node"], "--coordinator",
                                           "%s:%d" % self.addr, "--id", str(nid)] +
                          self.node_args)

    def kill_node(self, nid):
        """SIGKILL node @nid (its pid is the Popen's: the binary is run directly)."""
        p = self.procs.pop("node%d" % nid)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        self.retired.append(("node%d" % nid, p, -signal.SIGKILL))
        return p

    def connect(self, client=None, admin=False):
        return Conn(self.addr, client, admin)

    def nodes_up(self):
        with self.connect() as c:
            r = c.ping()
            return r["pong"]["nodes_up"] if r["pong"] else -1

    def wait_nodes_up(self, want, seconds):
        """Poll ping until nodes_up == @want; the last nodes_up seen otherwise (or None)."""
        last = None
        for _ in deadline_loop(seconds):
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise RuntimeError("%s exited %d: %s" % (name, p.returncode,
                                                             self.tail(name)))
            try:
                last = self.nodes_up()
            except OSError:
                continue
            if last == want:
                return True
        return False

    def log_text(self, name):
        """Everything process @name logged, every incarnation."""
        text = ""
        for path in self.logs.get(name, []):
            with open(path) as f:
                text += f.read()
        return text

    def tail(self, name, lines=5):
        try:
            with open(self.logs[name][-1]) as f:
                text = f.read().strip().splitlines()
            return "%s: %s" % (name, " | ".join(text[-lines:]))
        except (OSError, KeyError, IndexError):
            return "%s: no log" % name

    def stop(self):
        """Stop everything; a list of problems (crashes, unclean exits, sanitizer reports)."""
        problems = []
        for name, p in self.procs.items():
            if p.poll() is not None:
                problems.append("%s (pid %d) died during the test with status %d; %s" % (
                    name, p.pid, p.returncode, self.tail(name)))
        for name, p, want in self.retired:
            if p.returncode != want:
                problems.append("%s (pid %d) exited %d, expected %d" % (
                    name, p.pid, p.returncode, want))
        live = {n: p for n, p in self.procs.items() if p.poll() is None}
        for p in live.values():
            p.send_signal(signal.SIGTERM)
        for name, p in live.items():
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                problems.append("%s (pid %d) ignored SIGTERM for 5 s" % (name, p.pid))
                p.kill()
                p.wait(5)
                continue
            if p.returncode != 0:
                problems.append("%s (pid %d) exited %d after SIGTERM; %s" % (
                    name, p.pid, p.returncode, self.tail(name)))
        for paths in self.logs.values():
            for path in paths:
                try:
                    with open(path, errors="replace") as f:
                        text = f.read()
                except OSError:
                    continue
                m = SANITIZER.search(text)
                if m:
                    problems.append("%s: %s" % (os.path.basename(path),
                                                text[max(0, m.start() - 200):m.end() + 400]))
        return problems

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def deploy_config():
    with open(DEPLOY_CONFIG) as f:
        return f.read()


# ------------------------------------------------------------------ helpers for the checks

def ok(resp):
    return resp["status"] == 0


def where(resp):
    a = resp["alloc_pages"]
    return (a["node"], a["zone"])


def compress(seq):
    out = []
    for x in seq:
        if not out or out[-1] != x:
            out.append(x)
    return out


def fill(conn, gfp, order, cpu, chunk, limit=100000, **policy):
    """Allocate until the first refusal (in batches of @chunk): (OK answers, first refusal)."""
    served = []
    while len(served) < limit:
        for r in conn.batch([("alloc_pages", alloc_args(gfp, order, cpu, **policy))] * chunk):
            if not ok(r):
                return served, r
            served.append(r)
    raise AssertionError("%d allocations of order %d and no refusal" % (limit, order))


def zones_of(conn, node):
    return {z["name"]: z for z in conn.view("zoneinfo", node=node)["nodes"][0]["zones"]}


def numastat_delta(after, before):
    return {n: {k: after[n][k] - before[n].get(k, 0) for k in after[n] if k != "node"}
            for n in after}


def wait_numastat(conn, before, expect, seconds=3.0):
    """Poll numastat until every counter named in @expect ({node: {counter: delta}}) has
    exactly that delta from @before: numa_foreign and interleave_hit are posted to the nodes
    after the answer, so they may land a little later. Returns the last deltas seen."""
    delta = None
    for _ in deadline_loop(seconds, 0.05):
        delta = numastat_delta(conn.numastat(), before)
        if all(delta[n][k] == v for n, kv in expect.items() for k, v in kv.items()):
            break
    return delta


def expect_numastat(tc, conn, before, expect):
    delta = wait_numastat(conn, before, expect)
    for n, kv in sorted(expect.items()):
        for k, v in sorted(kv.items()):
            tc.assertEqual(delta[n][k], v, "node %d %s moved by %d, expected %d (all deltas: %s)"
                           % (n, k, delta[n][k], v, delta))


def zero_counters(nodes):
    return {n: {k: 0 for k in ("numa_hit", "numa_miss", "numa_foreign", "interleave_hit",
                               "local_node", "other_node")} for n in nodes}


class ClusterTest(unittest.TestCase):
    """One cluster per test case, checked for crashes when the test ends."""

    NODES = 4
    CONFIG = None  # default: deploy/numa4-686pae.ini
    NODE_ARGS = ()  # e.g. ("--cpu-threads",)

    def setUp(self):
        self.cluster = Cluster(self.CONFIG or deploy_config(), self.NODES, self.NODE_ARGS)
        self.conns = []
        try:
            self.cluster.start()
        except Exception:
            problems = self.cluster.stop()
            self.cluster.remove()
            raise RuntimeError("cluster did not start; %s" % "; ".join(problems))

    def tearDown(self):
        for c in self.conns:
            c.close()
        problems = self.cluster.stop()
        if problems:
            keep = self.cluster.dir + ".kept"
            shutil.move(self.cluster.dir, keep)
            self.fail("process problems (logs kept in %s):\n  %s" % (keep, "\n  ".join(problems)))
        self.cluster.remove()

    def connect(self, client="integ", admin=False):
        c = self.cluster.connect(client, admin)
        self.conns.append(c)
        return c

    def assertStatus(self, resp, want, what):
        self.assertEqual(status_name(resp), want, "%s: %s" % (what, resp["message"]))


def fill_until_away(tc, conn, gfp, order, cpu, home, chunk=16, limit=2000):
    """Blocks of @order from @cpu in batches until one is served outside @home ((node,
    zone)); every answer must be OK. Returns the list of (node, zone) served, in order."""
    seq = []
    while len(seq) < limit:
        for r in conn.batch([("alloc_pages", alloc_args(gfp, order, cpu))] * chunk):
            tc.assertStatus(r, "OK", "gfp %#x order %d from cpu %d after %d blocks"
                            % (gfp, order, cpu, len(seq)))
            seq.append(where(r))
        if any(w != home for w in seq):
            return seq
    tc.fail("%d blocks and %s never refused" % (limit, home))


class Check1NumaCounters(ClusterTest):
    def test_gfp_kernel_from_node2_counts_hit_on_node0(self):
        c = self.connect()
        before = c.numastat()
        r = c.alloc(GFP_KERNEL, 0, cpu=2)
        self.assertStatus(r, "OK", "GFP_KERNEL from cpu 2")
        # x86-32: lowmem (DMA, Normal) lives on node 0 only, so node 2's zonelist for
        # gfp_zone() == Normal starts (after the HighMem-only nodes 2, 3, 1) at node 0 Normal.
        self.assertEqual(where(r), (0, "Normal"))
        # The issue expects numa_miss on node 0 and numa_foreign on node 2. Linux 6.1's
        # zone_statistics(preferred_zone, z) compares z's node with the PREFERRED ZONE's node,
        # and the preferred zone is first_zones_zonelist(node 2's zonelist, ZONE_NORMAL) =
        # node 0 Normal: so 6.1 counts numa_hit on node 0 (and other_node, since node 0 is not
        # numa_node_id() of cpu 2), no numa_miss and no numa_foreign anywhere. Asserted: 6.1.
        want = zero_counters(range(4))
        want[0].update(numa_hit=1, other_node=1)
        expect_numastat(self, c, before, want)

    def test_highuser_fallback_counts_miss_and_foreign(self):
        c = self.connect()
        before = c.numastat()
        seq = fill_until_away(self, c, GFP_HIGHUSER, 10, 2, (2, "HighMem"))
        home = seq.count((2, "HighMem"))
        away = [w for w in seq if w != (2, "HighMem")]
        self.assertGreater(home, 200, "node 2 HighMem served too few order-10 blocks")
        # Fallback order for node 2 with SLIT row 30 20 10 20: "2 3 1 0", so node 3 next.
        self.assertEqual(set(away), {(3, "HighMem")}, "fallback went to %s" % away)
        # The preferred zone is node 2 HighMem: node 3 counts numa_miss (and other_node), the
        # preferred zone's node counts numa_foreign, once per allocation (6.1 passes
        # nr_account = 1 to zone_statistics() from rmqueue_buddy()).
        want = zero_counters(range(4))
        want[2].update(numa_hit=home, local_node=home, numa_foreign=len(away))
        want[3].update(numa_miss=len(away), other_node=len(away))
        expect_numastat(self, c, before, want)


class Check2Fallback(ClusterTest):
    def test_highuser_node2_then_by_distance(self):
        c = self.connect()
        r = c.alloc(GFP_HIGHUSER, 0, cpu=2)
        self.assertStatus(r, "OK", "GFP_HIGHUSER from cpu 2")
        self.assertEqual(where(r), (2, "HighMem"))
        # order-10 blocks until node 2 HighMem refuses (the reply's zone changes)
        seq = fill_until_away(self, c, GFP_HIGHUSER, 10, 2, (2, "HighMem"), chunk=1)
        self.assertEqual(seq[-1], (3, "HighMem"), "first fallback")
        # node 2 HighMem refused in the fast path, at its low watermark: zone_watermark_ok()
        # failed for order 10 (free - 1023 <= low, lowmem_reserve[HighMem] of HighMem is 0)
        # or no free block of order 10 is left
        z = zones_of(c, 2)["HighMem"]
        buddy = c.view("buddyinfo", node=2)["nodes"][0]["zones"]
        free10 = [b for b in buddy if b["zone"] == "HighMem"][0]["free"][10]
        self.assertTrue(z["free"] - 1023 <= z["low"] + z["protection"][2] or free10 == 0,
                        "node 2 HighMem fell back with free %d, low %d and %d free order-10 "
                        "blocks" % (z["free"], z["low"], free10))
        # Keep going until ENOMEM. The fast path (ALLOC_WMARK_LOW) walks node 2's zonelist in
        # the kernel's fallback order by distance, 2 3 1 0, HighMem before Normal before DMA
        # inside node 0 (DMA only down to low + lowmem_reserve[ZONE_HIGHMEM]); once every
        # zone fails at low, the slow path walks the same zonelist again at ALLOC_WMARK_MIN,
        # from node 2 again. So: one full pass in zonelist order, then a second pass that
        # starts over at node 2 and again only moves forward.
        served, refused = fill(c, GFP_HIGHUSER, 10, 2, 64)
        walk = compress(seq + [where(r) for r in served])
        zonelist = [(2, "HighMem"), (3, "HighMem"), (1, "HighMem"), (0, "HighMem"),
                    (0, "Normal"), (0, "DMA")]
        pos = [zonelist.index(w) for w in walk]
        runs = [[pos[0]]]
        for p in pos[1:]:
            if p > runs[-1][-1]:
                runs[-1].append(p)
            else:
                runs.append([p])
        self.assertIn(runs[0], [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5]],
                      "first pass (low watermark): %s" % walk)
        self.assertEqual(len(runs), 2, "passes over the zonelist: %s" % walk)
        self.assertEqual(runs[1][0], 0, "the min-watermark pass starts at node 2: %s" % walk)
        self.assertStatus(refused, "ENOMEM", "order 10 once everything is at its watermark")


class Check3LowmemReserve(ClusterTest):
    def test_highuser_cannot_take_dma_below_protection(self):
        c = self.connect()
        z0 = zones_of(c, 0)
        # GFP_HIGHUSER from node 2: order 10, then order 0, until ENOMEM. This fills every
        # node's HighMem and node 0's Normal down to their watermarks (plus, for the lowmem
        # zones, their lowmem_reserve[ZONE_HIGHMEM]).
        served10, refused10 = fill(c, GFP_HIGHUSER, 10, 2, 64)
        self.assertStatus(refused10, "ENOMEM", "GFP_HIGHUSER order 10")
        served0, refused = fill(c, GFP_HIGHUSER, 0, 2, 512)
        self.assertStatus(refused, "ENOMEM", "GFP_HIGHUSER order 0")
        nodes_used = {where(r) for r in served10 + served0}
        for n in range(4):
            self.assertIn((n, "HighMem"), nodes_used)
        self.assertIn((0, "Normal"), nodes_used)
        tried = {(t["node"], t["zone"]): t for t in refused["alloc_pages"]["tried"]}
        self.assertEqual(sorted(tried), sorted([(0, "DMA"), (0, "Normal"), (0, "HighMem"),
                                                (1, "HighMem"), (2, "HighMem"),
                                                (3, "HighMem")]),
                         "zones tried: %s" % refused["alloc_pages"]["tried"])
        # DMA (and Normal) refuse for lowmem_reserve: above min, but not above
        # min + lowmem_reserve[ZONE_HIGHMEM] (DMA: (Normal + HighMem managed of node 0) / 256;
        # Normal: HighMem managed / 32); the HighMem zones are simply at their watermark.
        for name in ("DMA", "Normal"):
            t = tried[(0, name)]
            with self.subTest(zone=name):
                self.assertEqual(t["why"], "lowmem_reserve", "node 0 %s: %s" % (name, t))
                self.assertEqual(t["reserve"], z0[name]["protection"][2], "%s reserve" % name)
                self.assertEqual(t["mark"], z0[name]["min"], "%s mark (min, no reductions "
                                 "for GFP_HIGHUSER)" % name)
                self.assertGreater(t["free"], t["mark"], "%s free" % name)
                self.assertLessEqual(t["free"], t["mark"] + t["reserve"], "%s free" % name)
        for n in range(4):
            self.assertEqual(tried[(n, "HighMem")]["why"], "watermark",
                             "node %d HighMem: %s" % (n, tried[(n, "HighMem")]))
        # GFP_DMA (gfp_zone() = DMA, lowmem_reserve[ZONE_DMA] = 0) still gets a page.
        r = c.alloc(GFP_DMA, 0, cpu=2)
        self.assertStatus(r, "OK", "GFP_DMA order 0 after GFP_HIGHUSER hit ENOMEM")
        self.assertEqual(where(r), (0, "DMA"))
        # GFP_KERNEL too, with its own reserves (lowmem_reserve[ZONE_NORMAL]: 0 for Normal,
        # Normal/256 for DMA): the fast path takes the first of Normal, DMA above low +
        # reserve, else the slow path the first above min + reserve.
        z = zones_of(c, 0)
        want = None
        for mark in ("low", "min"):
            for name in ("Normal", "DMA"):
                if want is None and z[name]["free"] > z[name][mark] + z[name]["protection"][1]:
                    want = (0, name)
        r = c.alloc(GFP_KERNEL, 0, cpu=2)
        self.assertStatus(r, "OK", "GFP_KERNEL order 0 after GFP_HIGHUSER hit ENOMEM")
        self.assertEqual(where(r), want, "GFP_KERNEL with lowmem at %s" % {
            n: {k: z[n][k] for k in ("free", "min", "low", "protection")}
            for n in ("Normal", "DMA")})
        # and GFP_HIGHUSER is still refused
        self.assertStatus(c.alloc(GFP_HIGHUSER, 0, cpu=2), "ENOMEM", "GFP_HIGHUSER again")


class Check4Policies(ClusterTest):
    def test_interleave_round_robin(self):
        c = self.connect()
        before = c.numastat()
        got = [c.alloc(GFP_HIGHUSER, 0, cpu=0, policy=POLICY_INTERLEAVE, nodemask=0b1111)
               for _ in range(8)]
        for r in got:
            self.assertStatus(r, "OK", "interleave 0-3")
        # one task (connection): il_prev starts at MAX_NUMNODES - 1, next_node_in() wraps
        self.assertEqual([where(r) for r in got], [(n, "HighMem") for n in [0, 1, 2, 3] * 2])
        got = [c.alloc(GFP_HIGHUSER, 0, cpu=0, policy=POLICY_INTERLEAVE, nodemask=0b1010)
               for _ in range(4)]
        for r in got:
            self.assertStatus(r, "OK", "interleave 1,3")
        self.assertEqual([where(r)[0] for r in got], [1, 3, 1, 3])
        # alloc_page_interleave(): __alloc_pages(gfp, order, nid, NULL), so the preferred
        # zone is on nid (numa_hit there) and interleave_hit counts when the page is on nid.
        want = zero_counters(range(4))
        for n, hits in ((0, 2), (1, 4), (2, 2), (3, 4)):
            want[n].update(numa_hit=hits, interleave_hit=hits)
            want[n]["local_node" if n == 0 else "other_node"] = hits
        expect_numastat(self, c, before, want)
        # another connection is another task: its own round robin
        r = self.connect("other").alloc(GFP_HIGHUSER, 0, cpu=0, policy=POLICY_INTERLEAVE,
                                        nodemask=0b1110)
        self.assertStatus(r, "OK", "interleave 1-3 on a new connection")
        self.assertEqual(where(r)[0], 1)

    def test_preferred(self):
        c = self.connect()
        before = c.numastat()
        # MPOL_PREFERRED: policy_node() = the preferred node, nodemask NULL (6.1)
        r = c.alloc(GFP_HIGHUSER, 0, cpu=0, policy=POLICY_PREFERRED, preferred=3)
        self.assertStatus(r, "OK", "GFP_HIGHUSER --preferred 3 from cpu 0")
        self.assertEqual(where(r), (3, "HighMem"))
        # GFP_KERNEL preferring node 1: node 1's zonelist reaches lowmem at node 0 Normal,
        # which is then the preferred zone (numa_hit, not miss, on node 0)
        r = c.alloc(GFP_KERNEL, 0, cpu=0, policy=POLICY_PREFERRED, preferred=1)
        self.assertStatus(r, "OK", "GFP_KERNEL --preferred 1 from cpu 0")
        self.assertEqual(where(r), (0, "Normal"))
        want = zero_counters(range(4))
        want[3].update(numa_hit=1, other_node=1)
        want[0].update(numa_hit=1, local_node=1)
        expect_numastat(self, c, before, want)

    def test_bind(self):
        c = self.connect()
        with self.subTest("GFP_HIGHUSER --membind 1,3"):
            # HighMem requests are bound (gfp_zone() >= policy_zone = ZONE_HIGHMEM)
            r = c.alloc(GFP_HIGHUSER, 0, cpu=2, policy=POLICY_BIND, nodemask=0b1010)
            self.assertStatus(r, "OK", "GFP_HIGHUSER bind 1,3 from cpu 2")
            self.assertEqual(where(r), (3, "HighMem"))
            r = c.alloc(GFP_HIGHUSER, 0, cpu=0, policy=POLICY_BIND, nodemask=0b1010)
            self.assertStatus(r, "OK", "GFP_HIGHUSER bind 1,3 from cpu 0")
            self.assertEqual(where(r), (1, "HighMem"))
        with self.subTest("GFP_KERNEL --membind 1,3"):
            r = c.alloc(GFP_KERNEL, 0, cpu=0, policy=POLICY_BIND, nodemask=0b1010)
            # The issue expects ENOMEM with no fallback (no zone of nodes 1 and 3 can serve
            # ZONE_NORMAL). Linux 6.1 does not apply MPOL_BIND to this request:
            # policy_nodemask() returns the bind mask only if apply_policy_zone(pol,
            # gfp_zone(gfp)), i.e. gfp_zone(gfp) >= policy_zone, and policy_zone is the
            # highest populated zone below Movable (check_highest_zone()), ZONE_HIGHMEM here;
            # so GFP_KERNEL gets nodemask NULL and is served from node 0 Normal.
            # Asserted: 6.1 (plan.h documents the coordinator's different choice).
            self.assertStatus(r, "OK", "GFP_KERNEL bind 1,3 (6.1: the bind mask is not "
                              "applied below policy_zone)")
            self.assertEqual(where(r), (0, "Normal"))
        with self.subTest("GFP_KERNEL --membind 1,3: no fallback outside the mask"):
            # What the issue asks, checked whichever way the request is answered: nodes 1 and
            # 3 hold no Normal zone, so nothing may be taken from them.
            before = c.node_stats()
            r = c.alloc(GFP_KERNEL, 0, cpu=0, policy=POLICY_BIND, nodemask=0b1010)
            after = c.node_stats()
            for n in (1, 3):
                self.assertEqual(after[n]["allocated"], before[n]["allocated"])
            if not ok(r):
                self.assertStatus(r, "ENOMEM", "GFP_KERNEL bind 1,3")
                self.assertTrue(all(t["why"] == "policy" for t in r["alloc_pages"]["tried"]),
                                r["alloc_pages"]["tried"])


PAGE_OFFSET = 0xc0000000


def kmalloc_args(size, cpu=0, node=-1, gfp=GFP_KERNEL):
    return {"size": size, "gfp": gfp, "cpu": cpu, "node": node}


def slab_caches(conn, node):
    return {c["name"]: c for c in conn.view("slabinfo", node=node)["nodes"][0]["caches"]}


class Check5Slab(ClusterTest):
    def test_kmalloc(self):
        alice, bob = self.connect("alice"), self.connect("bob")
        r = alice.call("kmalloc", kmalloc_args(100))
        self.assertStatus(r, "OK", "kmalloc 100")
        a = r["addr"]
        self.assertEqual((a["node"], a["cache"], a["size"]), (0, "kmalloc-128", 128))
        self.assertGreaterEqual(a["addr"], PAGE_OFFSET)
        self.assertEqual(alice.call("ksize", {"addr": a["addr"]})["addr"]["size"], 128)
        # kmalloc_node(): node 0 from a CPU of node 3
        r = alice.call("kmalloc", kmalloc_args(1000, cpu=3, node=0))
        self.assertStatus(r, "OK", "kmalloc_node 1000 node 0 from cpu 3")
        self.assertEqual((r["addr"]["node"], r["addr"]["cache"]), (0, "kmalloc-1k"))
        # kmalloc_node(2): node 2 holds no normal memory, so it is not in slab_nodes and
        # ___slab_alloc() ignores the node constraint: the object comes from node 0
        r = alice.call("kmalloc", kmalloc_args(64, cpu=2, node=2))
        self.assertStatus(r, "OK", "kmalloc_node 64 node 2")
        self.assertEqual((r["addr"]["node"], r["addr"]["cache"]), (0, "kmalloc-64"))
        # above 8 KiB: kmalloc_large, a compound page block (ksize = PAGE_SIZE << order)
        r = alice.call("kmalloc", kmalloc_args(20000))
        self.assertStatus(r, "OK", "kmalloc 20000")
        self.assertEqual((r["addr"]["cache"], r["addr"]["size"]), ("kmalloc_large", 32768))
        big = r["addr"]["addr"]
        # ownership, double free, a pointer into an object
        self.assertStatus(bob.call("kfree", {"addr": a["addr"], "cpu": 0}), "EPERM",
                          "bob kfree of alice's object")
        self.assertStatus(alice.call("kfree", {"addr": a["addr"] + 8, "cpu": 0}),
                          "BAD_PAGE_STATE", "kfree inside an object")
        self.assertStatus(alice.call("kfree", {"addr": a["addr"], "cpu": 0}), "OK", "kfree")
        self.assertStatus(alice.call("kfree", {"addr": a["addr"], "cpu": 0}),
                          "BAD_PAGE_STATE", "double kfree")
        self.assertStatus(alice.call("kfree", {"addr": big, "cpu": 1}), "OK", "kfree large")
        self.assertStatus(alice.call("kfree", {"addr": big, "cpu": 1}), "BAD_PAGE_STATE",
                          "double kfree of a kmalloc_large block")

    def test_named_cache(self):
        c = self.connect("alice")
        # a constructor makes the cache unmergeable (slab_unmergeable()): its own line
        r = c.call("cache_create", {"name": "integ_obj", "size": 200, "align": 0, "flags": 0,
                                    "ctor": True})
        self.assertStatus(r, "OK", "kmem_cache_create integ_obj")
        geo = r["cache_create"]
        self.assertEqual(geo["merged_into"], "")
        objs = c.batch([("cache_alloc", {"name": "integ_obj", "gfp": GFP_KERNEL, "cpu": i % 4,
                                         "node": -1}) for i in range(50)])
        for r in objs:
            self.assertStatus(r, "OK", "kmem_cache_alloc integ_obj")
            self.assertEqual((r["addr"]["cache"], r["addr"]["node"]), ("integ_obj", 0))
        addrs = [r["addr"]["addr"] for r in objs]
        self.assertEqual(len(set(addrs)), 50, "distinct objects")
        info = slab_caches(c, 0)
        self.assertIn("integ_obj", info)
        line = info["integ_obj"]
        self.assertEqual((line["objsize"], line["objperslab"], line["pagesperslab"]),
                         (geo["objsize"], geo["objperslab"], geo["pagesperslab"]))
        self.assertGreaterEqual(line["active_objs"], 50)
        self.assertGreaterEqual(line["num_objs"], line["active_objs"])
        self.assertGreaterEqual(line["num_slabs"], -(-50 // geo["objperslab"]))
        # slabinfo per node: HighMem-only nodes have no slab layer (not in slab_nodes)
        self.assertEqual(slab_caches(c, 1), {}, "node 1 slabinfo")
        r = c.call("cache_validate", {"name": "integ_obj"})
        self.assertStatus(r, "OK", "validate")
        self.assertEqual(r["count"]["count"], 0, "validate errors: %s" % r["count"])
        self.assertStatus(c.call("cache_destroy", {"name": "integ_obj"}), "EBUSY",
                          "destroy with objects")
        self.assertStatus(c.call("cache_free", {"name": "kmalloc-256", "addr": addrs[0],
                                                "cpu": 0}), "BAD_PAGE_STATE",
                          "free to the wrong cache")
        self.assertStatus(c.call("kfree", {"addr": addrs[0], "cpu": 0}), "OK",
                          "kfree of a cache object (kfree finds the cache)")
        for r in c.batch([("cache_free", {"name": "integ_obj", "addr": a, "cpu": 0})
                          for a in addrs[1:]]):
            self.assertStatus(r, "OK", "kmem_cache_free")
        self.assertStatus(c.call("cache_free", {"name": "integ_obj", "addr": addrs[1],
                                                "cpu": 0}), "BAD_PAGE_STATE", "double free")
        self.assertStatus(c.call("cache_shrink", {"name": "integ_obj"}), "OK", "shrink")
        self.assertStatus(c.call("cache_destroy", {"name": "integ_obj"}), "OK", "destroy")
        self.assertNotIn("integ_obj", slab_caches(c, 0))
        self.assertStatus(c.call("cache_alloc", {"name": "integ_obj", "gfp": GFP_KERNEL,
                                                 "cpu": 0, "node": -1}), "ENOENT",
                          "alloc from a destroyed cache")


class Check6NodeFailure(ClusterTest):
    def test_kill_and_rejoin(self):
        c = self.connect()
        # a sysctl written at run time must reach a node that registers later
        self.assertStatus(c.call("sysctl_set", {"name": "vm.min_free_kbytes",
                                                "value": "65536"}), "OK", "sysctl")
        marks = {n: [(z["min"], z["low"], z["high"], z["protection"])
                     for z in zones_of(c, n).values()] for n in range(4)}
        r = c.alloc(GFP_HIGHUSER, 2, cpu=2)
        self.assertStatus(r, "OK", "GFP_HIGHUSER order 2 from cpu 2")
        self.assertEqual(where(r), (2, "HighMem"))
        pfn = r["alloc_pages"]["pfn"]
        # requests in flight when the node dies: each is answered, by node 2 (before it
        # died) or by the next node of the walk (the coordinator fails the node's pending
        # ZoneAllocs as "node down" and goes on with node 3)
        busy = self.connect("busy")
        pipelined = []
        for _ in range(2000):
            rid, req = busy.request("alloc_pages", alloc_args(GFP_HIGHUSER, 0, 2))
            pipelined.append(frame(encode("Request", req)))
        busy.send_raw(b"".join(pipelined))
        t0 = time.monotonic()
        self.cluster.kill_node(2)
        up = None
        for _ in deadline_loop(2.0):
            up = c.ping()["pong"]["nodes_up"]
            if up == 3:
                break
        took = time.monotonic() - t0
        self.assertEqual(up, 3, "nodes_up %s %.2f s after kill -9 of node 2" % (up, took))
        self.assertLess(took, 2.0)
        answers = [busy.recv_response() for _ in pipelined]
        self.assertEqual(sorted(a["id"] for a in answers), list(range(1 + 1, 2000 + 2)),
                         "answer ids")
        served = {(status_name(a), a["alloc_pages"] and where(a)) for a in answers}
        self.assertLessEqual(served, {("OK", (2, "HighMem")), ("OK", (3, "HighMem"))},
                             "answers to the requests in flight at the kill")
        hw = {n["node"]: n for n in c.view("hardware")["nodes"]}
        self.assertEqual([hw[n]["up"] for n in range(4)], [True, True, False, True], hw)
        st = c.node_stats()
        self.assertFalse(st[2]["up"])
        cli = subprocess.run([BINARIES["numasim"], "-s", "%s:%d" % self.cluster.addr,
                              "hardware"], capture_output=True, text=True, timeout=20)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertIn("node 2 free: down", cli.stdout)
        # routed around: node 2's zonelist goes on with node 3 (fallback order 2 3 1 0)
        r = c.alloc(GFP_HIGHUSER, 0, cpu=2)
        self.assertStatus(r, "OK", "GFP_HIGHUSER from cpu 2 with node 2 down")
        self.assertEqual(where(r), (3, "HighMem"))
        r = c.alloc(GFP_HIGHUSER, 0, cpu=0, policy=POLICY_BIND, nodemask=0b0100)
        self.assertStatus(r, "ENOMEM", "bound to the dead node")
        # (the coordinator lists the zones the nodemask excludes as "policy")
        self.assertEqual([(t["node"], t["zone"], t["why"]) for t in r["alloc_pages"]["tried"]
                          if t["why"] != "policy"], [(2, "HighMem", "node down")])
        self.assertStatus(c.free(pfn, 2, cpu=2), "ENODEV", "free-pages of a page of node 2")
        # the other nodes go on serving
        r = c.alloc(GFP_KERNEL, 0, cpu=2)
        self.assertStatus(r, "OK", "GFP_KERNEL with node 2 down")
        # restart with the same id: it registers again
        self.cluster.start_node(2)
        self.assertTrue(self.cluster.wait_nodes_up(4, 10.0), "node 2 did not rejoin")
        # The new process is given back the blocks recorded for node 2 (README: "a node that
        # comes back rejoins, and the coordinator gives the new process back every block it
        # had recorded there, with its owner"): the order-2 block and the pipelined requests
        # node 2 answered before it died. The restore is asynchronous: poll.
        recorded = 4 + sum(1 for a in answers if ok(a) and where(a)[0] == 2)
        allocated = None
        for _ in deadline_loop(3.0, 0.05):
            allocated = c.node_stats()[2]["allocated"]
            if allocated == recorded:
                break
        self.assertEqual(allocated, recorded, "node 2 allocated pages after the restart")
        r = c.alloc(GFP_HIGHUSER, 0, cpu=2)
        self.assertStatus(r, "OK", "GFP_HIGHUSER from cpu 2 after the rejoin")
        self.assertEqual(where(r), (2, "HighMem"))
        hw = {n["node"]: n for n in c.view("hardware")["nodes"]}
        self.assertTrue(all(hw[n]["up"] for n in range(4)), hw)
        self.assertEqual({n: [(z["min"], z["low"], z["high"], z["protection"])
                              for z in zones_of(c, n).values()] for n in range(4)}, marks,
                         "watermarks after the rejoin (vm.min_free_kbytes = 65536 written "
                         "before the kill)")
        self.assertStatus(c.free(r["alloc_pages"]["pfn"], 0, cpu=2), "OK",
                          "free on the restarted node")
        self.assertStatus(self.connect("thief").free(pfn, 2, cpu=2), "EPERM",
                          "someone else frees the restored block")
        self.assertStatus(c.free(pfn, 2, cpu=2), "OK", "free of the restored block")
        self.assertStatus(c.free(pfn, 2, cpu=2), "BAD_PAGE_STATE", "and again")


    def test_silent_node(self):
        # A node that stops answering without closing its connection (SIGSTOP): found by
        # the heartbeat, within dead_after_ms (1500) + the 100 ms tick; given as 2.5 s to
        # leave room for a loaded machine. SIGCONT: it reconnects, registers again and
        # keeps its machine (same shape), so its blocks are still there.
        c = self.connect()
        base = c.node_stats()[1]["allocated"]
        r = c.alloc(GFP_HIGHUSER, 0, cpu=1)
        self.assertStatus(r, "OK", "GFP_HIGHUSER from cpu 1")
        self.assertEqual(where(r), (1, "HighMem"))
        pfn = r["alloc_pages"]["pfn"]
        node1 = self.cluster.procs["node1"]
        t0 = time.monotonic()
        os.kill(node1.pid, signal.SIGSTOP)
        try:
            # a request that reaches the stalled node waits for the verdict, then goes on
            # with node 1's fallback order (distances 20 10 20 30: "1 2 0 3")
            r = c.alloc(GFP_HIGHUSER, 0, cpu=1)
            self.assertStatus(r, "OK", "GFP_HIGHUSER from cpu 1 with node 1 stalled")
            self.assertEqual(where(r), (2, "HighMem"))
            up = None
            for _ in deadline_loop(2.5):
                up = c.ping()["pong"]["nodes_up"]
                if up == 3:
                    break
            took = time.monotonic() - t0
            self.assertEqual(up, 3, "nodes_up %s %.2f s after SIGSTOP of node 1" % (up, took))
        finally:
            os.kill(node1.pid, signal.SIGCONT)
        self.assertTrue(self.cluster.wait_nodes_up(4, 10.0), "node 1 did not come back")
        self.assertStatus(c.free(pfn, 0, cpu=1), "OK", "free of a block allocated before "
                          "the stall (the node kept its machine)")
        # the ZoneAlloc it served when it woke up was answered on the link the coordinator
        # had given up: with CPU workers the answer finds the link closed and the job is
        # undone; on the loop thread the answer is written before the close is read, so the
        # block is freed by the reconciliation that follows the new registration
        allocated = None
        for _ in deadline_loop(3.0, 0.05):
            allocated = c.node_stats()[1]["allocated"]
            if allocated == base:
                break
        self.assertEqual(allocated, base, "node 1 allocated pages after the stall")
        if not self.NODE_ARGS:
            self.assertIn("node 1: freed 1 block(s) allocated on the link given up",
                          self.cluster.log_text("coordinator"))


class Check7BadInput(ClusterTest):
    def raw(self):
        s = socket.create_connection(self.cluster.addr, timeout=10)
        self.addCleanup(s.close)
        return s

    @staticmethod
    def answer_and_close(s):
        """The one Response the coordinator sends before it closes the connection."""
        conn = Conn.wrap(s)
        resp = conn.recv_response()
        try:
            while s.recv(4096):
                pass
        except socket.timeout:
            raise AssertionError("the coordinator answered %s but kept the connection open"
                                 % status_name(resp))
        except OSError:
            pass  # a reset after the answer is a close too
        return resp

    def test_bad_frames_and_requests(self):
        admin = self.connect("integ-admin")
        base = admin.stats()
        rng = random.Random(20240601)

        # a frame whose payload does not decode (wire type 7 at once): PROTOCOL_ERROR, closed
        s = self.raw()
        s.sendall(frame(b"\x0f" + bytes(rng.randrange(256) for _ in range(63))))
        r = self.answer_and_close(s)
        self.assertStatus(r, "PROTOCOL_ERROR", "undecodable frame")

        # raw random bytes, then end of stream: whatever happens, the server goes on
        s = self.raw()
        s.sendall(bytes(rng.randrange(256) for _ in range(256)))
        s.shutdown(socket.SHUT_WR)
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
        s.close()

        # a length prefix of 0x7fffffff: FRAME_TOO_LARGE before any payload, closed
        s = self.raw()
        s.sendall(b"\x7f\xff\xff\xff")
        r = self.answer_and_close(s)
        self.assertStatus(r, "FRAME_TOO_LARGE", "0x7fffffff length prefix")

        # a truncated frame, then close: nothing to answer, nothing may break
        s = self.raw()
        s.sendall(b"\0\0\0\x64" + b"\x08\x01")
        s.close()

        # another protocol version on the first request: VERSION_MISMATCH (id echoed), closed
        s = self.raw()
        s.sendall(frame(encode("Request", {"version": 2, "id": 77, "ping": {}})))
        r = self.answer_and_close(s)
        self.assertStatus(r, "VERSION_MISMATCH", "version 2")
        self.assertEqual(r["id"], 77)

        # a node registration for a node the machine does not have: EINVAL, closed
        s = self.raw()
        s.sendall(frame(encode("Request", {"version": 1, "id": 5}) +
                        key(40, 2) + varint(2) + key(1, 0) + varint(99)))
        r = self.answer_and_close(s)
        self.assertStatus(r, "EINVAL", "register as node 99")

        # unknown operations: answered UNKNOWN_OP, the connection stays usable
        c = self.connect("mallory")
        self.assertStatus(c.call(None), "UNKNOWN_OP", "a Request without a body")
        rid = c.next_id
        c.next_id += 1
        c.send_raw(frame(encode("Request", {"version": 1, "id": rid}) + key(99, 0) +
                         varint(1)))
        r = c.recv_response()
        self.assertEqual(r["id"], rid)
        self.assertStatus(r, "UNKNOWN_OP", "a Request with only field 99")
        self.assertStatus(c.call("zone_alloc", {"zone": 2, "order": 0, "gfp": GFP_HIGHUSER,
                                                "preferred_node": 0, "owner": 1}),
                          "UNKNOWN_OP", "an internal node operation from a client")
        # a frame delivered one byte at a time is still one request
        rid = c.next_id
        c.next_id += 1
        for b in frame(encode("Request", {"version": 1, "id": rid, "ping": {}})):
            c.send_raw(bytes([b]))
        r = c.recv_response()
        self.assertEqual((r["id"], status_name(r)), (rid, "OK"))

        # page frees: double, wrong order, someone else's
        alice = self.connect("alice")
        r = alice.alloc(GFP_KERNEL, 2, cpu=1)
        self.assertStatus(r, "OK", "alloc order 2")
        pfn = r["alloc_pages"]["pfn"]
        self.assertStatus(c.free(pfn, 2), "EPERM", "mallory frees alice's block")
        self.assertStatus(alice.free(pfn, 1), "BAD_PAGE_STATE", "wrong order")
        self.assertStatus(alice.free(pfn, 2), "OK", "the right free")
        self.assertStatus(alice.free(pfn, 2), "BAD_PAGE_STATE", "double free")
        self.assertStatus(alice.free(pfn, 11), "EINVAL", "order above MAX_ORDER - 1")
        self.assertStatus(alice.alloc(GFP_KERNEL, 11), "EINVAL", "alloc order 11")
        self.assertStatus(alice.alloc(GFP_KERNEL, 0, cpu=9), "EINVAL", "no cpu 9")
        self.assertStatus(alice.alloc(GFP_F_DMA | GFP_F_HIGHMEM), "EINVAL", "DMA|HIGHMEM")

        # the coordinator still serves, on a fresh connection too
        with self.cluster.connect("someone") as fresh:
            r = fresh.ping()
            self.assertStatus(r, "OK", "ping after the bad input")
            self.assertEqual(r["pong"]["nodes_up"], 4)

        # and its statistics saw every refusal
        now = admin.stats()

        def moved(cmd, status):
            return now[cmd]["status"].get(status, 0) - base[cmd]["status"].get(status, 0)

        self.assertGreaterEqual(moved("(frame)", "PROTOCOL_ERROR"), 1, now["(frame)"])
        self.assertGreaterEqual(moved("(frame)", "FRAME_TOO_LARGE"), 1, now["(frame)"])
        self.assertEqual(moved("(frame)", "VERSION_MISMATCH"), 1, now["(frame)"])
        self.assertEqual(moved("(unknown)", "UNKNOWN_OP"), 3, now["(unknown)"])
        self.assertEqual(moved("register", "EINVAL"), 1, now["register"])
        self.assertEqual(moved("free_pages", "EPERM"), 1, now["free_pages"])
        self.assertEqual(moved("free_pages", "BAD_PAGE_STATE"), 2, now["free_pages"])
        self.assertEqual(moved("free_pages", "EINVAL"), 1, now["free_pages"])
        self.assertEqual(moved("alloc_pages", "EINVAL"), 3, now["alloc_pages"])
        self.assertEqual(now["free_pages"]["errors"] - base["free_pages"]["errors"], 4)


STRESS_CLIENTS = 16
STRESS_SECONDS = 3.0
STRESS_GFPS = [GFP_KERNEL, GFP_KERNEL | GFP_F_ZERO, GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE,
               GFP_USER]


class Worker(threading.Thread):
    """One client: its own connection and identity, a seeded mix of page and object ops."""

    def __init__(self, addr, idx, stop_at):
        super().__init__(name="worker%d" % idx, daemon=True)
        self.addr, self.idx, self.stop_at = addr, idx, stop_at
        self.rng = random.Random(7919 * (idx + 1))
        self.pages = {}  # pfn -> (order, node)
        self.objs = {}   # addr -> node
        self.errors = []
        self.ops = 0

    def alloc_request(self):
        rng = self.rng
        gfp = rng.choice(STRESS_GFPS)
        args = alloc_args(gfp, rng.choice([0, 0, 0, 1, 2, 3]), rng.randrange(4))
        p = rng.random()
        if p < 0.15:
            args.update(policy=POLICY_PREFERRED, preferred=rng.randrange(4))
        elif p < 0.3:
            args.update(policy=POLICY_INTERLEAVE, nodemask=rng.randrange(1, 16))
        elif p < 0.4 and gfp & GFP_F_HIGHMEM:
            # bound HighMem requests only: for lower zones 6.1 ignores the bind (check 4)
            args.update(policy=POLICY_BIND, nodemask=rng.randrange(1, 16))
        return args

    def step(self, c):
        rng = self.rng
        p = rng.random()
        if p < 0.35 or (p < 0.55 and not self.pages):
            args = self.alloc_request()
            r = c.call("alloc_pages", args)
            if ok(r):
                a = r["alloc_pages"]
                if a["pfn"] in self.pages:
                    self.errors.append("pfn %d handed out twice" % a["pfn"])
                self.pages[a["pfn"]] = (args["order"], a["node"])
            else:
                self.errors.append("alloc %s: %s %s" % (args, status_name(r), r["message"]))
        elif p < 0.55:
            pfn = rng.choice(list(self.pages))
            order, _ = self.pages.pop(pfn)
            r = c.free(pfn, order, rng.randrange(4))
            if not ok(r):
                self.errors.append("free %d/%d: %s %s" % (pfn, order, status_name(r),
                                                          r["message"]))
        elif p < 0.8 or not self.objs:
            size = rng.choice([8, 24, 100, 192, 500, 1024, 3000, 4096, 8192, 12000])
            r = c.call("kmalloc", kmalloc_args(size, rng.randrange(4),
                                               rng.choice([-1, -1, 0, 1])))
            if ok(r):
                if r["addr"]["addr"] in self.objs:
                    self.errors.append("object %#x handed out twice" % r["addr"]["addr"])
                self.objs[r["addr"]["addr"]] = r["addr"]["node"]
            else:
                self.errors.append("kmalloc %d: %s %s" % (size, status_name(r), r["message"]))
        else:
            addr = rng.choice(list(self.objs))
            del self.objs[addr]
            r = c.call("kfree", {"addr": addr, "cpu": rng.randrange(4)})
            if not ok(r):
                self.errors.append("kfree %#x: %s %s" % (addr, status_name(r), r["message"]))

    def run(self):
        try:
            with Conn(self.addr, "worker%d" % self.idx) as c:
                while time.monotonic() < self.stop_at:
                    self.step(c)
                    self.ops += 1
        except Exception as e:  # reported by the test
            self.errors.append("%s: %r" % (self.name, e))


def slab_pages(conn):
    return {n["node"]: n.get("nr_slab_reclaimable", 0) + n.get("nr_slab_unreclaimable", 0)
            for n in conn.view("vmstat")["nodes"]}


class Check8Concurrency(ClusterTest):
    def test_sixteen_clients(self):
        c = self.connect("observer")
        base, base_slab = c.node_stats(), slab_pages(c)
        stop_at = time.monotonic() + STRESS_SECONDS
        workers = [Worker(self.cluster.addr, i, stop_at) for i in range(STRESS_CLIENTS)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(STRESS_SECONDS + 60)
            self.assertFalse(w.is_alive(), "%s is stuck" % w.name)
        errors = [e for w in workers for e in w.errors]
        self.assertEqual(errors[:10], [], "%d errors" % len(errors))
        self.assertGreater(sum(w.ops for w in workers), 16 * 50, "too few operations")

        def check_accounting(what, pages):
            st, slab = c.node_stats(), slab_pages(c)
            for n in range(4):
                s = st[n]
                self.assertTrue(s["up"])
                self.assertEqual(s["free"] + s["pcp"] + s["allocated"], s["managed"],
                                 "%s: node %d free + pcp + allocated != managed: %s" %
                                 (what, n, s))
            # independent of node_stats (which derives allocated = managed - free - pcp):
            # the free lists themselves (buddyinfo) add up to NR_FREE_PAGES (zoneinfo) in
            # every zone, and the zones to the node's free count
            buddy = {(b["node"], b["zone"]): sum(k << o for o, k in enumerate(b["free"]))
                     for n in c.view("buddyinfo")["nodes"] for b in n["zones"]}
            for n in range(4):
                zones = zones_of(c, n)
                for name, z in zones.items():
                    if z["managed"]:
                        self.assertEqual(buddy.get((n, name)), z["free"], "%s: node %d %s: "
                                         "pages on the free lists vs. nr_free_pages" %
                                         (what, n, name))
                self.assertEqual(sum(z["free"] for z in zones.values()), st[n]["free"],
                                 "%s: node %d zoneinfo free vs node_stats free" % (what, n))
            held = {n: 0 for n in range(4)}
            for p in pages:
                for order, node in p.values():
                    held[node] += 1 << order
            got = {n: st[n]["allocated"] - base[n]["allocated"] for n in range(4)}
            slab_delta = {n: slab.get(n, 0) - base_slab.get(n, 0) for n in range(4)}
            want = {n: held[n] + slab_delta[n] for n in range(4)}
            self.assertEqual(got, want, "%s: allocated pages (delta from the baseline) per "
                             "node vs. blocks the clients hold + slab pages (held %s, slab "
                             "delta %s)" % (what, held, slab_delta))

        check_accounting("after the run", [w.pages for w in workers])
        print("\n    check 8: %d operations by %d clients in %.0f s; held at the end: %d blocks "
              "(%d pages), %d objects" % (
                  sum(w.ops for w in workers), len(workers), STRESS_SECONDS,
                  sum(len(w.pages) for w in workers),
                  sum(1 << o for w in workers for o, _ in w.pages.values()),
                  sum(len(w.objs) for w in workers)), end=" ... ", flush=True)
        # every client gives everything back (same identity, new connection)
        for w in workers:
            with Conn(self.cluster.addr, w.name) as wc:
                items = [("free_pages", {"pfn": pfn, "order": o, "cpu": 0})
                         for pfn, (o, _) in w.pages.items()]
                items += [("kfree", {"addr": a, "cpu": 0}) for a in w.objs]
                for i in range(0, len(items), 256):
                    for r in wc.batch(items[i:i + 256]):
                        self.assertStatus(r, "OK", "%s giving back" % w.name)
        check_accounting("after every client freed everything", [])


# ------------------------------------------------------------------ runner

class Check9CpuThreads(Check8Concurrency):
    """Check 8 again with a worker thread per simulated CPU (--cpu-threads): the CPUs' requests
    now run concurrently in each node."""
    NODE_ARGS = ("--cpu-threads",)

    def test_nodes_run_cpu_threads(self):
        want = "CPU requests on a thread per CPU"
        for nid in range(self.NODES):
            for _ in deadline_loop(5.0, 0.05):  # logged once the boot is done
                if want in self.cluster.log_text("node%d" % nid):
                    break
            self.assertIn(want, self.cluster.log_text("node%d" % nid))


class Check9NodeFailureCpuThreads(Check6NodeFailure):
    """Node loss and a stalled node with --cpu-threads: an answer can be in flight on a CPU
    worker when the link goes."""
    NODE_ARGS = ("--cpu-threads",)


def main(argv):
    names = ("numasim", "coordinator", "node")
    env = ("NUMASIM_BIN", "NUMASIM_COORDINATOR_BIN", "NUMASIM_NODE_BIN")
    args = argv[1:]
    if len(args) >= 3 and not args[0].startswith("-"):
        BINARIES.update(zip(names, args[:3]))
        args = args[3:]
    else:
        BINARIES.update((n, os.environ.get(e, "")) for n, e in zip(names, env))
    missing = [n for n in names if not os.access(BINARIES.get(n, ""), os.X_OK)]
    if missing:
        print("usage: test_cluster.py NUMASIM NUMASIM-COORDINATOR NUMASIM-NODE [unittest "
              "args]\nnot executable: %s" % ", ".join(missing), file=sys.stderr)
        print("0 passed, 1 failed")
        return 2
    loader = unittest.TestLoader()
    module = sys.modules[__name__]
    if args:
        suite = loader.loadTestsFromNames(args, module)
    else:
        suite = loader.loadTestsFromModule(module)
    started = time.monotonic()
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = {getattr(t, "test_case", t).id()
              for t, _ in result.failures + result.errors}
    failed |= {t.id() for t in result.unexpectedSuccesses}
    skipped = len(result.skipped)
    passed = result.testsRun - len(failed) - skipped
    sys.stderr.flush()
    print("test_cluster: %.1f s" % (time.monotonic() - started))
    print("%d passed, %d failed" % (passed, len(failed)))
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
