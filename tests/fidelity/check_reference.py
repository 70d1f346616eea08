#!/usr/bin/env python3
"""Fidelity check: `numasim boot` against real Linux 6.1 i386 captures (tests/reference/).

For every i386 capture (flavour 686 or 686-pae; the amd64 one is skipped) the machine is rebuilt
from the capture (see tests/reference/README.md, "Things worth knowing"):

  --arch, --mem, --cpus   from the #ORACLE-RUN line (flavour, mem, smp)
  --e820                  from the firmware_memmap section
  --late-free ZONE=PAGES  "Freeing initrd memory: NK" (zone holding the final RAMDISK) and
                          "Freeing unused kernel image (initmem) memory: NK" (Normal), N/4 each
  --reserve ZONE=PAGES    present - (managed - late_free) of every populated zone, boot zoneinfo

and three things are checked:

  boot           the boot "zoneinfo" section vs `--print zoneinfo` (no sysctl touched), and the
                 "defaults:" line of sysctl_variations vs `--sysctl vm.NAME` reads;
  sysctl         the sysctl_variations section replayed as one --script: every write in order,
                 each write's `now='...'` read back, and before every zoneinfo@LABEL snapshot the
                 four reads the capture's init made ("# mfk wsf lrr phf:" line; reading
                 vm.lowmem_reserve_ratio recomputes the protection arrays), then `print zoneinfo`;
  default-model  the same boot without --reserve/--late-free: managed of every populated zone
                 within 1 % of the real (final) managed count.

Zone fields compared: spanned, present, managed, min, low, high, protection (whole tuple) and,
for every CPU, pageset high, batch and vm stats threshold.

Captures with "slabinfo" and "sys_kernel_slab" sections also get the slab allocator checks, on a
machine booted with --arch/--mem/--e820/--cpus as above and --cache-line from the dmesg line
"SLUB: HWalign=N":

  slab-kmalloc   every kmalloc-*, kmalloc-cg-*, kmalloc-rcl-*, dma-kmalloc-* cache and kmem_cache,
                 kmem_cache_node: objsize, objperslab, pagesperslab of /proc/slabinfo vs
                 `--print slabinfo`; order, objs_per_slab, object_size, slab_size, align,
                 cache_dma, reclaim_account, hwcache_align, cpu_partial, min_partial of
                 /sys/kernel/slab vs `--print slabs`; and all 52 kmalloc caches exist in both;
  slab-shapes    every other cache of sys_kernel_slab that is not an alias ("name -> :id") is
                 recreated in one --script with kmem_cache_create under a unique name (fid_N),
                 the merged ids (":0000032", ":A-0000064", ...) first, then the named caches;
                 SIZE = object_size; FLAGS = SLAB_HWCACHE_ALIGN, SLAB_RECLAIM_ACCOUNT,
                 SLAB_CACHE_DMA from the sysfs flags, SLAB_ACCOUNT for ":A-" ids; ALIGN = the
                 sysfs align if hwcache_align=0 and align > 8 (an explicit alignment), else 0;
                 "ctor" if slab_size > ALIGN(ALIGN(object_size, 4), align) (the free pointer was
                 appended: constructor or RCU). Compared: order, objs_per_slab, slab_size and
                 align of the model's cache. When the model merges a shape into an earlier cache
                 (it reports "merged into ID"), the values are that target's, as in the kernel;
                 merging needs an equal slab size, so order, objs_per_slab and slab_size still
                 compare with the shape's own line, and align with the capture's line of ID.
                 (A named line is a cache the kernel kept apart for a reason sysfs does not show:
                 usercopy window, or a constructor / RCU free pointer hidden in the padding.)
  slab-merge     every merged id recreated above is a cache of its own in the model, under the
                 same id (flag letters and size); every alias line "name -> :id" whose :id was
                 recreated: the model has a cache with that id after the shapes were created.

Each mismatch prints one FAIL line (capture, section, zone or cache, field, expected, got); the
per-capture tallies follow (page allocator, slab allocator with the number of matching shapes,
all), and the last line is "N passed, M failed". Exit status 0 only if nothing failed.
Standard library only.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

I386_FLAVOURS = ("686", "686-pae")
RUN_TIMEOUT = 120  # seconds per numasim invocation
DEFAULT_MODEL_TOLERANCE = 1.0  # percent, check (c)
MISSING = "<missing>"
ZONE_FIELDS = ("spanned", "present", "managed", "min", "low", "high", "protection")
CPU_FIELDS = ("high", "batch", "threshold")
# The four values the capture's init prints on its "# mfk wsf lrr phf:" line, in read order.
SNAPSHOT_READS = ("vm.min_free_kbytes", "vm.watermark_scale_factor",
                  "vm.lowmem_reserve_ratio", "vm.percpu_pagelist_high_fraction")

SECTION_RE = re.compile(r"^=====(BEGIN|END) (.+)=====$")
ORACLE_RUN_RE = re.compile(r"^#ORACLE-RUN (.*)$")
E820_RE = re.compile(r"^\d+: (0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+) (.+)$")
DEFAULTS_RE = re.compile(r"(\w+)=(?:'([^']*)'|(\S+))")
WRITE_RE = re.compile(r"^write (vm\.[\w.]+)='([^']*)' rc=(-?\d+)(?: now='([^']*)')?")
READS_LINE_RE = re.compile(r"^# mfk wsf lrr phf:(.*)$")
SYSCTL_OUT_RE = re.compile(r"^(vm\.[\w.]+) = (.*)$")
MARKER_RE = re.compile(r"^=====((?:SNAPSHOT|NOW) .*)=====$")
RAMDISK_RE = re.compile(r"(?:Move RAMDISK from \[mem [^\]]*\] to|RAMDISK:) \[mem (0x[0-9a-fA-F]+)-")
INITRD_FREE_RE = re.compile(r"Freeing initrd memory: (\d+)K")
INITMEM_FREE_RE = re.compile(r"Freeing unused kernel image \(initmem\) memory: (\d+)K")


# ---------------------------------------------------------------- /proc/zoneinfo parser

@dataclass
class Zone:
    node: int
    name: str
    fields: dict = field(default_factory=dict)  # name -> int; "protection" -> tuple
    cpus: dict = field(default_factory=dict)  # cpu -> {"high", "batch", "threshold"} -> int

    @property
    def label(self):
        return f"Node {self.node} {self.name}"

    def checked_values(self):
        """The fidelity fields of this block, flattened to {field name: value}."""
        out = {f: self.fields[f] for f in ZONE_FIELDS if f in self.fields}
        for cpu, vals in sorted(self.cpus.items()):
            for f in CPU_FIELDS:
                if f in vals:
                    out[f"cpu{cpu}.{f}"] = vals[f]
        return out


ZONE_HEAD_RE = re.compile(r"^Node (\d+), zone\s+(\S+)\s*$")
ZONE_VALUE_RE = re.compile(r"^\s+(min|low|high|spanned|present|managed|start_pfn):?\s+(\d+)\s*$")
PROTECTION_RE = re.compile(r"^\s+protection: \(([-\d, ]*)\)\s*$")
CPU_RE = re.compile(r"^\s+cpu: (\d+)\s*$")
PCP_RE = re.compile(r"^\s+(high|batch):\s+(-?\d+)\s*$")
THRESHOLD_RE = re.compile(r"^\s+vm stats threshold: (-?\d+)\s*$")


def parse_zoneinfo(lines):
    """Parse /proc/zoneinfo text into {(node, zone name): Zone}; other lines are ignored.

    Inside a pageset "high:" (colon) is the pcp high; the watermark "high" has no colon and
    comes before the first "cpu:" line.
    """
    zones = {}
    zone = None
    cpu = None
    for line in lines:
        m = ZONE_HEAD_RE.match(line)
        if m:
            zone = Zone(int(m.group(1)), m.group(2))
            zones[(zone.node, zone.name)] = zone
            cpu = None
            continue
        if zone is None:
            continue
        m = CPU_RE.match(line)
        if m:
            cpu = int(m.group(1))
            zone.cpus[cpu] = {}
            continue
        m = PCP_RE.match(line)
        if m and cpu is not None:
            zone.cpus[cpu][m.group(1)] = int(m.group(2))
            continue
        m = THRESHOLD_RE.match(line)
        if m and cpu is not None:
            zone.cpus[cpu]["threshold"] = int(m.group(1))
            continue
        m = ZONE_VALUE_RE.match(line)
        if m and (cpu is None or m.group(1) == "start_pfn"):
            zone.fields[m.group(1)] = int(m.group(2))
            continue
        m = PROTECTION_RE.match(line)
        if m:
            zone.fields["protection"] = tuple(int(v) for v in m.group(1).split(",") if v.strip())
    return zones


def populated(zone):
    return zone.fields.get("present", 0) > 0


# ---------------------------------------------------------------- capture parser

@dataclass
class Write:
    name: str  # vm.NAME
    value: str
    rc: int
    now: str  # value read back by the capture's init, or None


@dataclass
class Snapshot:
    label: str
    reads: dict  # vm.NAME -> normalised value, from the "# mfk wsf lrr phf:" line
    zones: dict


@dataclass
class Capture:
    name: str
    path: str
    run: dict  # #ORACLE-RUN key=value
    sections: dict  # section name -> lines (outer sections include nested markers)
    defaults: dict = None  # vm.NAME -> normalised value
    events: list = None  # Write and Snapshot, in capture order


def norm(value):
    """Sysctl values compare as tokens (sysctl(8) separates with tabs, the capture with spaces)."""
    return " ".join(str(value).split())


def parse_sections(lines):
    """{name: lines between its BEGIN and END}; an outer section keeps its nested ones whole."""
    sections = {}
    stack = []
    for line in lines:
        m = SECTION_RE.match(line)
        if m and m.group(1) == "END" and stack and stack[-1] == m.group(2):
            stack.pop()
        for name in stack:
            sections[name].append(line)
        if m and m.group(1) == "BEGIN" and m.group(2) not in sections:
            stack.append(m.group(2))
            sections[m.group(2)] = []
    return sections


def parse_defaults(line):
    vals = {}
    for m in DEFAULTS_RE.finditer(line[len("defaults:"):]):
        vals["vm." + m.group(1)] = norm(m.group(2) if m.group(2) is not None else m.group(3))
    return vals


def parse_reads_line(lines):
    """The "# mfk wsf lrr phf: M W R0 R1 .. Rn P" line of a snapshot -> {vm.NAME: value}."""
    for line in lines:
        m = READS_LINE_RE.match(line)
        if m:
            tok = m.group(1).split()
            if len(tok) < 4:
                break
            return dict(zip(SNAPSHOT_READS, (tok[0], tok[1], " ".join(tok[2:-1]), tok[-1])))
    return {}


def parse_variations(capture):
    """Fill capture.defaults and capture.events from the sysctl_variations section."""
    capture.defaults = {}
    capture.events = []
    for line in capture.sections.get("sysctl_variations", []):
        if line.startswith("defaults:"):
            capture.defaults = parse_defaults(line)
            continue
        m = WRITE_RE.match(line)
        if m:
            capture.events.append(Write(m.group(1), m.group(2), int(m.group(3)), m.group(4)))
            continue
        m = SECTION_RE.match(line)
        if m and m.group(1) == "BEGIN" and m.group(2).startswith("zoneinfo@"):
            body = capture.sections[m.group(2)]
            label = m.group(2)[len("zoneinfo@"):]
            capture.events.append(Snapshot(label, parse_reads_line(body), parse_zoneinfo(body)))


def read_capture(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    run = {}
    for line in lines[:5]:
        m = ORACLE_RUN_RE.match(line)
        if m:
            run = dict(kv.split("=", 1) for kv in m.group(1).split() if "=" in kv)
    name = run.get("name", os.path.basename(path).rsplit(".", 1)[0])
    capture = Capture(name, path, run, parse_sections(lines))
    parse_variations(capture)
    return capture


# ---------------------------------------------------------------- deriving the numasim machine

def e820_arg(capture):
    items = []
    for line in capture.sections.get("firmware_memmap", []):
        m = E820_RE.match(line.strip())
        if m:
            kind = "usable" if m.group(3).strip() == "System RAM" else "reserved"
            items.append(f"{m.group(1)}-{m.group(2)}:{kind}")
    return ",".join(items)


def dmesg_lines(capture):
    return capture.sections.get("dmesg") or capture.sections.get("dmesg_selected") or []


def zone_of_pfn(zones, pfn):
    for z in zones.values():
        start = z.fields.get("start_pfn", 0)
        if populated(z) and start <= pfn < start + z.fields.get("spanned", 0):
            return z.name
    return None


def late_frees(capture, boot_zones):
    """{zone name: pages} freed after the watermark computation (README, spec §2.5)."""
    text = "\n".join(dmesg_lines(capture))
    frees = {}
    m = INITRD_FREE_RE.search(text)
    if m:
        starts = RAMDISK_RE.findall(text)  # the last one is where the initrd finally sits
        zone = zone_of_pfn(boot_zones, int(starts[-1], 16) >> 12) if starts else None
        zone = zone or "Normal"
        frees[zone] = frees.get(zone, 0) + int(m.group(1)) // 4
    m = INITMEM_FREE_RE.search(text)
    if m:
        frees["Normal"] = frees.get("Normal", 0) + int(m.group(1)) // 4
    return frees


def reservations(boot_zones, frees):
    """{zone name: pages reserved at boot} = present - (managed - late free), populated zones."""
    return {z.name: z.fields["present"] - (z.fields["managed"] - frees.get(z.name, 0))
            for z in boot_zones.values() if populated(z)}


def zone_list_arg(values):
    return ",".join(f"{name}={pages}" for name, pages in values.items())


def machine_args(capture, boot_zones, with_reservations):
    args = ["--arch", capture.run["flavour"], "--mem", capture.run["mem"],
            "--e820", e820_arg(capture), "--cpus", capture.run["smp"]]
    if with_reservations:
        frees = late_frees(capture, boot_zones)
        args += ["--reserve", zone_list_arg(reservations(boot_zones, frees))]
        if frees:
            args += ["--late-free", zone_list_arg(frees)]
    return args


# ---------------------------------------------------------------- running numasim

class Runner:
    def __init__(self, numasim, workdir):
        self.numasim = numasim
        self.workdir = workdir

    def boot(self, args):
        """Run `numasim boot ARGS`; returns (stdout lines, error text or None)."""
        cmd = [self.numasim, "boot", *args]
        print("RUN", shlex.join(cmd))
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            return [], f"timed out after {RUN_TIMEOUT}s"
        except OSError as e:
            return [], f"cannot run: {e}"
        if p.returncode != 0:
            return p.stdout.splitlines(), f"exit status {p.returncode}: {p.stderr.strip()[-2000:]}"
        return p.stdout.splitlines(), None

    def write_script(self, capture_name, text, kind="sysctl"):
        path = os.path.join(self.workdir, f"{capture_name}.{kind}.script")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path


def parse_sysctl_output(lines):
    """`NAME = VALUE` lines printed by sysctl reads -> {name: normalised value} (last wins)."""
    vals = {}
    for line in lines:
        m = SYSCTL_OUT_RE.match(line)
        if m:
            vals[m.group(1)] = norm(m.group(2))
    return vals


def split_markers(lines):
    """Split script output at the "=====SNAPSHOT ...=====" / "=====NOW ...=====" echoes."""
    chunks = {}
    key = None
    for line in lines:
        m = MARKER_RE.match(line)
        if m:
            key = m.group(1)
            chunks[key] = []
        elif key is not None:
            chunks[key].append(line)
    return chunks


# ---------------------------------------------------------------- bookkeeping

class Report:
    PAGE_PARTS = ("boot", "sysctl", "default-model")
    SLAB_PARTS = ("slab-kmalloc", "slab-shapes", "slab-merge")
    PARTS = PAGE_PARTS + SLAB_PARTS

    def __init__(self):
        self.tally = {}  # capture -> part -> [checked, matched]
        self.shapes = {}  # capture -> [shapes created, shapes matching in every field]

    def _count(self, capture, part, ok):
        row = self.tally.setdefault(capture, {p: [0, 0] for p in self.PARTS})
        row[part][0] += 1
        row[part][1] += ok

    def check(self, capture, part, section, zone, name, expected, got):
        ok = expected == got
        self._count(capture, part, ok)
        if not ok:
            print(f"FAIL {capture} [{section}] {zone}: {name}: "
                  f"expected {fmt(expected)}, got {fmt(got)}")
        return ok

    def check_close(self, capture, part, section, zone, name, expected, got, tolerance):
        """Pass if got is within tolerance percent of expected; prints the deviation either way."""
        if isinstance(got, int) and expected:
            dev = 100.0 * (got - expected) / expected
            ok = abs(dev) <= tolerance
            dev_text = f"{dev:+.3f}%"
        else:
            ok, dev_text = False, "n/a"
        self._count(capture, part, ok)
        verdict = "ok  " if ok else "FAIL"
        print(f"{verdict} {capture} [{section}] {zone}: {name}: expected {fmt(expected)}, "
              f"got {fmt(got)} (deviation {dev_text}, tolerance {tolerance}%)")
        return ok

    def fail_run(self, capture, part, section, error):
        """A numasim run that did not exit cleanly is one failed check of its own."""
        self.check(capture, part, section, "-", "numasim run", "exit status 0", error)

    def note(self, text):
        print("NOTE", text)

    def totals(self):
        checked = sum(v[0] for row in self.tally.values() for v in row.values())
        matched = sum(v[1] for row in self.tally.values() for v in row.values())
        return matched, checked - matched

    def count_shape(self, capture, ok):
        row = self.shapes.setdefault(capture, [0, 0])
        row[0] += 1
        row[1] += ok

    def print_tally(self):
        for title, parts in (("page allocator", self.PAGE_PARTS),
                             ("slab allocator", self.SLAB_PARTS)):
            print(f"== tally, {title} (fields checked/matched)")
            for capture, row in self.tally.items():
                total = [sum(row[p][i] for p in parts) for i in (0, 1)]
                if not total[0]:
                    continue
                cells = "  ".join(f"{p} {row[p][0]}/{row[p][1]}" for p in parts)
                extra = ""
                if title == "slab allocator" and capture in self.shapes:
                    created, matching = self.shapes[capture]
                    extra = f"  (shapes matching {matching}/{created})"
                print(f"{capture:20s} {cells}  total {total[0]}/{total[1]}{extra}")
        print("== tally, all (fields checked/matched)")
        for capture, row in self.tally.items():
            total = [sum(v[i] for v in row.values()) for i in (0, 1)]
            print(f"{capture:20s} total {total[0]}/{total[1]}")


def fmt(value):
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


def compare_zones(report, capture, part, section, expected, got):
    """Every checked field of every zone block of the capture vs the numasim output."""
    for key, zone in expected.items():
        mine = got.get(key)
        got_vals = mine.checked_values() if mine else {}
        for name, value in zone.checked_values().items():
            report.check(capture, part, section, zone.label, name, value,
                         got_vals.get(name, MISSING))


def compare_reads(report, capture, part, section, expected, got):
    for name, value in expected.items():
        report.check(capture, part, section, "-", name, value, got.get(name, MISSING))


# ---------------------------------------------------------------- the three checks

def check_boot(report, runner, capture, boot_zones):
    """(a) boot zoneinfo with the capture's reservations, and the sysctl defaults."""
    args = machine_args(capture, boot_zones, True)
    out, err = runner.boot(args + ["--print", "zoneinfo"])
    if err:
        report.fail_run(capture.name, "boot", "zoneinfo", err)
    compare_zones(report, capture.name, "boot", "zoneinfo", boot_zones, parse_zoneinfo(out))

    if not capture.defaults:
        report.note(f"{capture.name}: no 'defaults:' line, sysctl defaults not checked")
        return
    reads = []
    for name in capture.defaults:
        reads += ["--sysctl", name]
    out, err = runner.boot(args + reads)
    if err:
        report.fail_run(capture.name, "boot", "sysctl_variations defaults", err)
    compare_reads(report, capture.name, "boot", "sysctl_variations defaults",
                  capture.defaults, parse_sysctl_output(out))


def build_script(capture, report):
    """The sysctl_variations replay as a numasim --script; returns (text, expectations).

    expectations: list of (marker key, section label, expected reads, expected zones or None).
    """
    lines = [f"# numasim replay of {capture.name} sysctl_variations (check_reference.py)"]
    expect = []
    for i, ev in enumerate(capture.events):
        if isinstance(ev, Write):
            if ev.rc != 0:
                report.note(f"{capture.name}: the capture's kernel rejected "
                            f"{ev.name}='{ev.value}' (rc={ev.rc}); not replayed, "
                            "only its read-back is checked")
            else:
                lines.append(f"sysctl {ev.name} {ev.value}")
            if ev.now is not None:
                key = f"NOW {i} {ev.name}"
                lines += [f"echo ====={key}=====", f"sysctl {ev.name}"]
                expect.append((key, f"write {ev.name}='{ev.value}'", {ev.name: norm(ev.now)}, None))
        else:
            key = f"SNAPSHOT {ev.label}"
            lines.append(f"echo ====={key}=====")
            reads = SNAPSHOT_READS if ev.reads else ("vm.lowmem_reserve_ratio",)
            lines += [f"sysctl {name}" for name in reads]
            lines.append("print zoneinfo")
            expect.append((key, f"zoneinfo@{ev.label}", ev.reads, ev.zones))
    return "\n".join(lines) + "\n", expect


def check_sysctl(report, runner, capture, boot_zones):
    """(b) every zoneinfo@LABEL snapshot, replaying the writes in one script."""
    if not capture.events:
        report.note(f"{capture.name}: no sysctl_variations events")
        return
    text, expect = build_script(capture, report)
    script = runner.write_script(capture.name, text)
    out, err = runner.boot(machine_args(capture, boot_zones, True) + ["--script", script])
    if err:
        report.fail_run(capture.name, "sysctl", "sysctl_variations script", err)
    chunks = split_markers(out)
    for key, section, reads, zones in expect:
        chunk = chunks.get(key, [])
        compare_reads(report, capture.name, "sysctl", section, reads, parse_sysctl_output(chunk))
        if zones is not None:
            compare_zones(report, capture.name, "sysctl", section, zones, parse_zoneinfo(chunk))


def check_default_model(report, runner, capture, boot_zones):
    """(c) without --reserve/--late-free, managed of populated zones within the tolerance."""
    out, err = runner.boot(machine_args(capture, boot_zones, False) + ["--print", "zoneinfo"])
    if err:
        report.fail_run(capture.name, "default-model", "zoneinfo", err)
    got = parse_zoneinfo(out)
    for key, zone in boot_zones.items():
        if populated(zone):
            mine = got.get(key)
            got_managed = mine.fields.get("managed", MISSING) if mine else MISSING
            report.check_close(capture.name, "default-model", "zoneinfo", zone.label, "managed",
                               zone.fields["managed"], got_managed, DEFAULT_MODEL_TOLERANCE)


def check_capture(report, runner, capture):
    boot_zones = parse_zoneinfo(capture.sections.get("zoneinfo", []))
    if not boot_zones:
        report.check(capture.name, "boot", "zoneinfo", "-", "capture zoneinfo",
                     "zone blocks", "none")
        return
    print(f"== {capture.name} ({capture.run.get('flavour')}, mem={capture.run.get('mem')}, "
          f"smp={capture.run.get('smp')})")
    check_boot(report, runner, capture, boot_zones)
    check_sysctl(report, runner, capture, boot_zones)
    check_default_model(report, runner, capture, boot_zones)
    check_slab(report, runner, capture, boot_zones)


# ---------------------------------------------------------------- slab allocator (SLUB)

KMALLOC_FAMILIES = ("kmalloc", "kmalloc-cg", "kmalloc-rcl", "dma-kmalloc")
KMALLOC_SIZES = ("8", "16", "32", "64", "96", "128", "192", "256", "512", "1k", "2k", "4k", "8k")
KMALLOC_NAMES = tuple(f"{family}-{size}" for family in KMALLOC_FAMILIES for size in KMALLOC_SIZES)
KMALLOC_RE = re.compile(r"^(?:dma-kmalloc|kmalloc-cg|kmalloc-rcl|kmalloc)-\d+k?$")
BOOT_CACHES = ("kmem_cache", "kmem_cache_node")
SLABINFO_FIELDS = ("objsize", "objperslab", "pagesperslab")
SYSFS_FIELDS = ("order", "objs_per_slab", "object_size", "slab_size", "align", "cache_dma",
                "reclaim_account", "hwcache_align", "cpu_partial", "min_partial")
SHAPE_FIELDS = ("order", "objs_per_slab", "slab_size", "align")
ARCH_SLAB_MINALIGN = 8  # i386: __alignof__(unsigned long long)
POINTER_SIZE = 4

HWALIGN_RE = re.compile(r"SLUB: HWalign=(\d+)")
# name <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables ...
SLABINFO_LINE_RE = re.compile(r"^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+:")
# name [-> alias_target] key=value ...
SYSFS_LINE_RE = re.compile(r"^(\S+)\s+(?:-> (\S+)\s+)?(\w+=\S+(?:\s+\w+=\S+)*)\s*$")
UNIQUE_ID_RE = re.compile(r"^:(?:([A-Za-z]+)-)?(\d+)$")
CREATE_RE = re.compile(r"^kmem_cache_create (\S+): (.*?)(?: merged into (\S+))?\s*$")
SLABS_MARKER = "=====SLABS after the shapes====="


@dataclass
class SysfsCache:
    name: str  # the cache's name, or its unique id (":A-0000064") for a merged cache
    target: str  # the alias target (":A-0000064") of an alias line, else None
    fields: dict  # key -> int (the alias target's values on an alias line)


@dataclass
class Shape:
    entry: SysfsCache  # the capture's sys_kernel_slab line
    fid: str  # the unique name the harness creates it under
    size: int
    align: int
    flags: str
    ctor: bool

    @property
    def command(self):
        return (f"kmem_cache_create {self.fid} {self.size} {self.align} {self.flags}"
                + (" ctor" if self.ctor else ""))


def parse_slabinfo(lines):
    """/proc/slabinfo 2.1 -> {name: {"objsize", "objperslab", "pagesperslab"}}."""
    caches = {}
    for line in lines:
        m = SLABINFO_LINE_RE.match(line)
        if m:
            caches[m.group(1)] = dict(zip(SLABINFO_FIELDS, (int(m.group(i)) for i in (4, 5, 6))))
    return caches


def parse_sysfs_slabs(lines):
    """sys_kernel_slab / `--print slabs` lines -> {name: SysfsCache}, in their order."""
    caches = {}
    for line in lines:
        m = SYSFS_LINE_RE.match(line)
        if not m or line.startswith("#"):
            continue
        fields = {}
        for kv in m.group(3).split():
            key, value = kv.split("=", 1)
            fields[key] = int(value) if re.fullmatch(r"-?\d+", value) else value
        caches[m.group(1)] = SysfsCache(m.group(1), m.group(2), fields)
    return caches


def is_kmalloc(name):
    return bool(KMALLOC_RE.match(name))


def align_up(value, align):
    return (value + align - 1) // align * align if align > 0 else value


def cache_line(capture):
    m = HWALIGN_RE.search("\n".join(dmesg_lines(capture)))
    return int(m.group(1)) if m else None


def slab_machine_args(capture, boot_zones, hwalign):
    args = machine_args(capture, boot_zones, False)
    if hwalign:
        args += ["--cache-line", str(hwalign)]
    return args


def shape_of(entry, fid):
    """The kmem_cache_create arguments that rebuild a capture cache (see the module doc)."""
    f = entry.fields
    flags = []
    if f.get("hwcache_align"):
        flags.append("SLAB_HWCACHE_ALIGN")
    if f.get("reclaim_account"):
        flags.append("SLAB_RECLAIM_ACCOUNT")
    if f.get("cache_dma"):
        flags.append("SLAB_CACHE_DMA")
    m = UNIQUE_ID_RE.match(entry.name)
    if m and "A" in (m.group(1) or ""):
        flags.append("SLAB_ACCOUNT")
    align = f["align"] if not f.get("hwcache_align") and f["align"] > ARCH_SLAB_MINALIGN else 0
    ctor = f["slab_size"] > align_up(align_up(f["object_size"], POINTER_SIZE), f["align"])
    return Shape(entry, fid, f["object_size"], align, "|".join(flags) or "0", ctor)


def where_found(name, slabinfo, sysfs):
    places = [label for label, table in (("slabinfo", slabinfo), ("sysfs", sysfs))
              if name in table]
    return "+".join(places) or "nowhere"


def check_slab_kmalloc(report, runner, capture, args, cap_info, cap_sysfs):
    """(slab a) the boot caches: 52 kmalloc caches, kmem_cache, kmem_cache_node."""
    part = "slab-kmalloc"
    out, err = runner.boot(args + ["--print", "slabinfo,slabs"])
    if err:
        report.fail_run(capture.name, part, "slabinfo,slabs", err)
    got_info, got_sysfs = parse_slabinfo(out), parse_sysfs_slabs(out)

    for name in KMALLOC_NAMES:
        report.check(capture.name, part, "exists", name, "in the capture", "slabinfo+sysfs",
                     where_found(name, cap_info, cap_sysfs))
        report.check(capture.name, part, "exists", name, "in the model", "slabinfo+sysfs",
                     where_found(name, got_info, got_sysfs))
    for name in sorted(set(got_info) | set(got_sysfs)):
        if is_kmalloc(name) and name not in KMALLOC_NAMES:
            report.check(capture.name, part, "exists", name, "in the model",
                         "not a 6.1 kmalloc cache", where_found(name, got_info, got_sysfs))

    for name, vals in cap_info.items():
        if not (is_kmalloc(name) or name in BOOT_CACHES):
            continue
        mine = got_info.get(name, {})
        for key in SLABINFO_FIELDS:
            report.check(capture.name, part, "slabinfo", name, key, vals[key],
                         mine.get(key, MISSING))
    for name, entry in cap_sysfs.items():
        if not (is_kmalloc(name) or name in BOOT_CACHES):
            continue
        mine = got_sysfs.get(name)
        for key in SYSFS_FIELDS:
            if key in entry.fields:
                report.check(capture.name, part, "sys_kernel_slab", name, key, entry.fields[key],
                             mine.fields.get(key, MISSING) if mine else MISSING)
    for name in BOOT_CACHES:
        if name not in cap_info or name not in cap_sysfs:
            report.check(capture.name, part, "exists", name, "in the capture", "slabinfo+sysfs",
                         where_found(name, cap_info, cap_sysfs))


def model_id(model, fid):
    """The model's sysfs name of the cache created as fid: its alias target, or fid itself."""
    entry = model.get(fid)
    if entry is None:
        return None
    return entry.target or entry.name


def check_slab_shapes(report, runner, capture, args, cap_sysfs):
    """(slab b, c) recreate every non-kmalloc, non-alias cache; then the alias targets."""
    entries = [e for e in cap_sysfs.values()
               if e.target is None and not is_kmalloc(e.name) and e.name not in BOOT_CACHES]
    # Merged ids first: they are what the kernel merged into, and a named cache of the same
    # shape created before them would take their id in the model.
    entries.sort(key=lambda e: not e.name.startswith(":"))
    shapes = [shape_of(e, f"fid_{i}") for i, e in enumerate(entries, 1)]
    lines = [f"# numasim slab shapes of {capture.name} (check_reference.py)"]
    lines += [f"# {s.entry.name}\n{s.command}" for s in shapes]
    lines += [f"echo {SLABS_MARKER}", "print slabs"]
    script = runner.write_script(capture.name, "\n".join(lines) + "\n", "slab")
    out, err = runner.boot(args + ["--script", script])
    if err:
        report.fail_run(capture.name, "slab-shapes", "kmem_cache_create script", err)

    created = {}  # fid -> merged-into id or None
    for line in out:
        m = CREATE_RE.match(line)
        if m:
            created[m.group(1)] = m.group(3)
    after = out[out.index(SLABS_MARKER) + 1:] if SLABS_MARKER in out else []
    model = parse_sysfs_slabs(after)

    by_id = {}  # capture cache name -> model id of the cache created for it
    merges = 0
    merged_named = []
    for s in shapes:
        mine = model.get(s.fid)
        merged = created.get(s.fid)
        by_id[s.entry.name] = model_id(model, s.fid)
        how = f" merged into {merged}" if merged else ""
        label = f"{s.entry.name} ({s.command}{how})"
        ok = s.fid in created
        if not ok:
            report.check(capture.name, "slab-shapes", "kmem_cache_create", label, "created",
                         "a cache", "no kmem_cache_create line")
        for key in SHAPE_FIELDS:
            expected = s.entry.fields[key]
            name = key
            if key == "align" and merged:
                # A named line is a cache the kernel kept apart for a reason sysfs does not show
                # (usercopy window, or a constructor / RCU free pointer hidden in the alignment
                # padding). A cache of its shape without one merges, in the kernel as in the
                # model, and then has its target's align: compare with the capture's line of
                # that target. (A merged id that merges is caught by the slab-merge id check.)
                target = cap_sysfs.get(merged)
                if target is None or target.target is not None:
                    report.note(f"{capture.name}: {label}: align not checked, {merged} is "
                                "not a cache line of the capture")
                    continue
                expected, name = target.fields["align"], f"align (of {merged})"
            ok &= report.check(capture.name, "slab-shapes", "shape", label, name, expected,
                               mine.fields.get(key, MISSING) if mine else MISSING)
        if s.entry.name.startswith(":"):
            # The kernel made this id a cache of its own: the model must too, under that id.
            got = by_id[s.entry.name]
            report.check(capture.name, "slab-merge", "id", s.entry.name,
                         f"model id of {s.fid}", s.entry.name,
                         f"{got} (merged)" if merged else got or MISSING)
        elif merged:
            merged_named.append(f"{s.entry.name} -> {merged}")
        merges += bool(merged)
        report.count_shape(capture.name, ok)
    created_n, matching = report.shapes.get(capture.name, [0, 0])
    report.note(f"{capture.name}: slab shapes: {matching}/{created_n} match the capture "
                f"({sum(e.name.startswith(':') for e in entries)} merged ids, "
                f"{sum(not e.name.startswith(':') for e in entries)} named caches; "
                f"{merges} merged into an earlier cache by the model)")
    if merged_named:
        report.note(f"{capture.name}: named caches the kernel kept apart for a reason sysfs does "
                    f"not show, merged by the model as the kernel would merge a cache of their "
                    f"shape: {', '.join(merged_named)}")

    skipped = {}
    for entry in cap_sysfs.values():
        if entry.target is None:
            continue
        if entry.target not in by_id:
            skipped.setdefault(entry.target, []).append(entry.name)
            continue
        got = by_id[entry.target]
        report.check(capture.name, "slab-merge", "alias", f"{entry.name} -> {entry.target}",
                     "target id in the model", entry.target,
                     got if got in model and model[got].target is None else
                     f"{got or MISSING} (not a cache of the model)")
    for target, names in sorted(skipped.items()):
        report.note(f"{capture.name}: alias target {target} is not a cache line of the "
                    f"capture, so it was not recreated; not checked: {', '.join(names)}")


def check_slab(report, runner, capture, boot_zones):
    """The slab allocator: boot caches, recreated shapes, merge targets."""
    cap_info = parse_slabinfo(capture.sections.get("slabinfo", []))
    cap_sysfs = parse_sysfs_slabs(capture.sections.get("sys_kernel_slab", []))
    if not cap_info or not cap_sysfs:
        report.note(f"{capture.name}: no slabinfo/sys_kernel_slab section, slab not checked")
        return
    hwalign = cache_line(capture)
    if hwalign is None:
        report.note(f"{capture.name}: no 'SLUB: HWalign=' line in dmesg; numasim's default "
                    "cache line is used")
    args = slab_machine_args(capture, boot_zones, hwalign)
    check_slab_kmalloc(report, runner, capture, args, cap_info, cap_sysfs)
    check_slab_shapes(report, runner, capture, args, cap_sysfs)


# ---------------------------------------------------------------- main

def load_captures(reference, only):
    captures = []
    for entry in sorted(os.listdir(reference)):
        if not entry.endswith(".txt"):
            continue
        capture = read_capture(os.path.join(reference, entry))
        if only and capture.name not in only:
            continue
        if capture.run.get("flavour") not in I386_FLAVOURS:
            print(f"SKIP {capture.name}: flavour {capture.run.get('flavour')} (numasim is x86-32)")
            continue
        captures.append(capture)
    return captures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numasim", required=True, help="path of the numasim binary")
    ap.add_argument("--reference", required=True, help="directory of the captures")
    ap.add_argument("--capture", action="append", default=[],
                    help="check only this capture (by name; repeatable)")
    ap.add_argument("--keep", metavar="DIR",
                    help="write the generated scripts to DIR and keep them")
    opts = ap.parse_args()

    report = Report()
    captures = load_captures(opts.reference, set(opts.capture))
    if not captures:
        report.check("-", "boot", "-", "-", "i386 captures", "at least one", "none")
    elif not os.access(opts.numasim, os.X_OK):
        report.check("-", "boot", "-", "-", "numasim binary", opts.numasim, "not executable")
    else:
        with tempfile.TemporaryDirectory(prefix="numasim-fidelity-") as tmp:
            workdir = opts.keep or tmp
            os.makedirs(workdir, exist_ok=True)
            runner = Runner(opts.numasim, workdir)
            for capture in captures:
                check_capture(report, runner, capture)
    report.print_tally()
    passed, failed = report.totals()
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
