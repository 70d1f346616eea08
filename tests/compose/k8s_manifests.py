#!/usr/bin/env python3
"""k8s_manifests.py - static checks of deploy/k8s/*.yaml, and what a Docker emulation of
its pods needs (run_compose_tests.sh runs them as containers: no Kubernetes cluster here).

Usage: k8s_manifests.py K8S_DIR MACHINE_INI OUT_DIR

Checks (one line each, "ok: ..." or "bad: ..."; exit 1 if any is bad):
  - every document parses and has apiVersion, kind, metadata.name, the same namespace;
  - the ConfigMap's machine.ini equals MACHINE_INI but for the listen line;
  - selectors match their pod templates' labels, Services select existing pods, the
    StatefulSet's serviceName is a headless Service;
  - the StatefulSet's replicas equal the machine's nodes;
  - the nodes' command names the coordinator's Service and port;
  - pods run as non-root with a read-only root file system, and mount the ConfigMap where
    the coordinator's --config points.
Writes to OUT_DIR: machine.ini (the ConfigMap's), coordinator.cmd, node.cmd,
coordinator.ready, node.ready (NUL-separated argv), replicas, config_dir.
"""
import configparser
import os
import re
import sys

import yaml

problems = []


def ok(msg):
    print("ok: " + msg)


def bad(msg):
    problems.append(msg)
    print("bad: " + msg)


def load(k8s_dir):
    docs = []
    for name in sorted(os.listdir(k8s_dir)):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(k8s_dir, name)) as f:
                for d in yaml.safe_load_all(f):
                    if d:
                        docs.append((name, d))
    return docs


def ini_without_listen(text):
    return [l for l in text.splitlines() if not re.match(r"\s*listen\s*=", l)]


def probe_argv(probe):
    return probe["exec"]["command"]


def write_argv(path, argv):
    with open(path, "wb") as f:
        f.write(b"".join(a.encode() + b"\0" for a in argv))


def main():
    k8s_dir, machine_ini, out = sys.argv[1:4]
    docs = load(k8s_dir)
    by_kind = {}
    namespaces = set()
    for name, d in docs:
        for key in ("apiVersion", "kind", "metadata"):
            if key not in d:
                bad(f"{name}: a document without {key}")
        by_kind.setdefault(d["kind"], []).append(d)
        if d["kind"] == "Namespace":
            namespaces.add(d["metadata"]["name"])
        else:
            namespaces.add(d["metadata"].get("namespace"))
    if len(namespaces) == 1 and None not in namespaces:
        ok(f"{len(docs)} documents, all in namespace {namespaces.pop()}")
    else:
        bad(f"namespaces {namespaces}")

    cm = by_kind["ConfigMap"][0]
    ini = cm["data"]["machine.ini"]
    with open(machine_ini) as f:
        sample = f.read()
    if ini_without_listen(ini) == ini_without_listen(sample):
        ok(f"ConfigMap {cm['metadata']['name']}: machine.ini is {machine_ini} but for listen")
    else:
        bad(f"ConfigMap machine.ini differs from {machine_ini}")
    cp = configparser.ConfigParser(inline_comment_prefixes=(";",))
    cp.read_string(ini)
    nodes = int(cp["machine"]["nodes"])

    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    workloads = by_kind.get("Deployment", []) + by_kind.get("StatefulSet", [])
    for w in workloads:
        sel = w["spec"]["selector"]["matchLabels"]
        labels = w["spec"]["template"]["metadata"]["labels"]
        if all(labels.get(k) == v for k, v in sel.items()):
            ok(f"{w['kind']} {w['metadata']['name']}: selector matches its pods")
        else:
            bad(f"{w['kind']} {w['metadata']['name']}: selector {sel} vs labels {labels}")
        pod = w["spec"]["template"]["spec"]
        c = pod["containers"][0]
        sc, psc = c.get("securityContext", {}), pod.get("securityContext", {})
        if psc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem"):
            ok(f"{w['metadata']['name']}: non-root ({psc.get('runAsUser')}), read-only root")
        else:
            bad(f"{w['metadata']['name']}: not non-root with a read-only root file system")
    for s in services.values():
        sel = s["spec"]["selector"]
        if any(all(w["spec"]["template"]["metadata"]["labels"].get(k) == v
                   for k, v in sel.items()) for w in workloads):
            ok(f"Service {s['metadata']['name']} selects pods")
        else:
            bad(f"Service {s['metadata']['name']} selects no pod")

    dep = by_kind["Deployment"][0]
    sts = by_kind["StatefulSet"][0]
    svc = services.get(sts["spec"]["serviceName"])
    if svc and svc["spec"].get("clusterIP") == "None":
        ok(f"StatefulSet serviceName {svc['metadata']['name']} is a headless Service")
    else:
        bad("the StatefulSet's serviceName is not a headless Service")
    if sts["spec"]["replicas"] == nodes:
        ok(f"StatefulSet replicas {nodes} = the machine's nodes")
    else:
        bad(f"StatefulSet replicas {sts['spec']['replicas']} but the machine has {nodes} nodes")

    cc = dep["spec"]["template"]["spec"]["containers"][0]
    nc = sts["spec"]["template"]["spec"]["containers"][0]
    coord_cmd = cc.get("command", []) + cc.get("args", [])
    node_cmd = nc.get("command", []) + nc.get("args", [])
    coord_svc = [n for n, s in services.items() if s["spec"].get("clusterIP") != "None"][0]
    port = services[coord_svc]["spec"]["ports"][0]["port"]
    if f"--coordinator {coord_svc}:{port}" in " ".join(node_cmd):
        ok(f"nodes reach the coordinator as {coord_svc}:{port}")
    else:
        bad(f"the nodes' command does not name {coord_svc}:{port}: {node_cmd}")
    config = coord_cmd[coord_cmd.index("--config") + 1]
    mounts = {m["mountPath"]: m["name"] for m in cc.get("volumeMounts", [])}
    config_dir = os.path.dirname(config)
    vols = {v["name"]: v for v in dep["spec"]["template"]["spec"].get("volumes", [])}
    vol = vols.get(mounts.get(config_dir, ""), {})
    if vol.get("configMap", {}).get("name") == cm["metadata"]["name"]:
        ok(f"--config {config} is the ConfigMap, mounted at {config_dir}")
    else:
        bad(f"--config {config} is not in the ConfigMap's mount")

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "machine.ini"), "w") as f:
        f.write(ini)
    write_argv(os.path.join(out, "coordinator.cmd"), coord_cmd)
    write_argv(os.path.join(out, "node.cmd"), node_cmd)
    write_argv(os.path.join(out, "coordinator.ready"), probe_argv(cc["readinessProbe"]))
    write_argv(os.path.join(out, "node.ready"), probe_argv(nc["readinessProbe"]))
    with open(os.path.join(out, "replicas"), "w") as f:
        f.write(f"{sts['spec']['replicas']}\n")
    with open(os.path.join(out, "config_dir"), "w") as f:
        f.write(config_dir + "\n")
    with open(os.path.join(out, "names"), "w") as f:
        f.write(f"{coord_svc} {sts['metadata']['name']} {sts['spec']['serviceName']} {port}\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
