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

Each mismatch prints one FAIL line (capture, section, zone, field, expected, got); a per-capture
tally follows, and the last line is "N passed, M failed". Exit status 0 only if nothing failed.
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

    def write_script(self, capture_name, text):
        path = os.path.join(self.workdir, f"{capture_name}.sysctl.script")
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
    PARTS = ("boot", "sysctl", "default-model")

    def __init__(self):
        self.tally = {}  # capture -> part -> [checked, matched]

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

    def print_tally(self):
        print("== tally (fields checked/matched)")
        for capture, row in self.tally.items():
            total = [sum(v[i] for v in row.values()) for i in (0, 1)]
            parts = "  ".join(f"{p} {row[p][0]}/{row[p][1]}" for p in self.PARTS)
            print(f"{capture:20s} {parts}  total {total[0]}/{total[1]}")


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
