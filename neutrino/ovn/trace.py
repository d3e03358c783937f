"""``ovn-trace`` and the few SB reads around it: run, parse. No Neutron terms here.

``ovn-trace`` (package ``ovn-common``; OVN 23.03 has no JSON output, only
``--detailed``/``--summary``/``--minimal``) simulates one microflow through the logical
flows of the SB. :func:`run_trace` runs it with ``--no-friendly-names`` (port and
datapath names as in the NB: LSP names are Neutron port ids, LRP names ``lrp-<port
id>``) and one ``--ct=new`` per connection-tracking pass, so every ``ct_next`` sees
``ct_state=new|trk`` (ovn-trace(8), ``--ct``: without it a second pass defaults to
``est``). :func:`parse` turns the detailed output into :class:`Pipeline` s of
:class:`Flow` s, in the order the packet meets them (a multicast group's branches
follow one another, indented in the text).

The detailed format (ovn/utilities/ovn-trace.c, OVN 23.03)::

    ingress(dp="<nb uuid>", inport="<port>")
    ----------------------------------------
     0. ls_in_check_port_sec (northd.c:8432): 1, priority 50, uuid def055e7
        reg0[15] = check_in_port_sec();
        next;
    egress(dp="<nb uuid>", inport="<port>", outport="<port>")
        ...
        output;
        /* output to "<port>", type "patch" */

:func:`sb_binding` reads one ``Port_Binding`` (does the LSP exist in the SB yet, which
chassis claims it) with ``ovn-sbctl``. Errors: :class:`SbUnavailable` (timeout, no
connection, binary missing).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field

CT_PASSES = 8  # more ct_next passes than any path through two switches and a router takes
TIMEOUT = 30.0  # seconds for ovn-trace (it reads the whole Logical_Flow table)
SBCTL_TIMEOUT = 5  # seconds for an ovn-sbctl read

_HEADER = re.compile(r"^\s*(ingress|egress|multicast)\((.*)\)\s*$")
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_FLOW = re.compile(r"^\s*(\d+)\. (\w+) \(([^)]*)\): (.*), priority (\d+), uuid ([0-9a-f]+)\s*$")
_OUTPUT = re.compile(r'/\* output to "([^"]+)", type "([^"]*)" \*/')


class SbUnavailable(Exception):
    """ovn-trace or ovn-sbctl could not read the SB (unreachable, timeout, missing)."""


@dataclass
class Flow:
    """One logical flow the packet matched: table number, stage name (``ls_in_acl``),
    match text, priority, first 8 hex digits of its SB ``Logical_Flow`` uuid, and the
    action lines (with ovn-trace's ``/* ... */`` comments) that followed it."""

    table: int
    stage: str
    match: str
    priority: int
    uuid: str
    actions: list[str] = field(default_factory=list)

    @property
    def drops(self) -> bool:
        return any(a.strip() == "drop;" for a in self.actions)

    def action_text(self) -> str:
        return "\n".join(self.actions)


@dataclass
class Pipeline:
    """One pipeline pass: ``kind`` ingress|egress|multicast, the datapath (NB uuid with
    --no-friendly-names), ``inport``/``outport`` (names, "" when absent), ``mcgroup``,
    its flows, and ``outputs``: ``(port, type)`` pairs it delivered to."""

    kind: str
    datapath: str
    inport: str = ""
    outport: str = ""
    mcgroup: str = ""
    flows: list[Flow] = field(default_factory=list)
    outputs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_router(self) -> bool:
        return any(f.stage.startswith("lr_") for f in self.flows) or \
            self.inport.startswith("lrp-")


def microflow(*, inport: str, eth_src: str, eth_dst: str, ip_version: int, ip_src: str,
              ip_dst: str, protocol: str, port: int | None, ttl: int = 64,
              src_port: int = 40000) -> str:
    """The microflow expression (ovn-sb(5) syntax) of the first packet of a connection:
    a TCP SYN (``tcp.flags == 0x002``) or UDP datagram from ``src_port`` to ``port``, or
    an ICMP echo request (type 8, ICMPv6 128)."""
    ip = f"ip{ip_version}"
    parts = [f'inport == "{inport}"', f"eth.src == {eth_src}", f"eth.dst == {eth_dst}",
             f"{ip}.src == {ip_src}", f"{ip}.dst == {ip_dst}", f"ip.ttl == {ttl}"]
    if protocol in ("tcp", "udp"):
        parts += [protocol, f"{protocol}.src == {src_port}", f"{protocol}.dst == {port}"]
        if protocol == "tcp":
            parts.append("tcp.flags == 0x002")
    elif ip_version == 4:
        parts += ["icmp4", "icmp4.type == 8", "icmp4.code == 0"]
    else:
        parts += ["icmp6", "icmp6.type == 128", "icmp6.code == 0"]
    return " && ".join(parts)


def run_trace(sb_connection: str, flow: str, timeout: float = TIMEOUT) -> str:
    """The detailed ovn-trace output for ``flow`` against ``sb_connection`` (a
    comma-separated remote list, the cluster leader is used). Raises SbUnavailable
    when ovn-trace is missing, times out or fails (its stderr in the message), and
    ValueError when it rejects the microflow."""
    binary = shutil.which("ovn-trace")
    if binary is None:
        raise SbUnavailable("ovn-trace is not installed (Debian package ovn-common)")
    argv = [binary, f"--db={sb_connection}", "--no-friendly-names", "--detailed",
            *["--ct=new"] * CT_PASSES, flow]
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SbUnavailable(f"ovn-trace got no answer from {sb_connection} "
                            f"in {timeout:.0f} s") from None
    if res.returncode != 0:
        message = (res.stderr or res.stdout).strip().splitlines()
        text = message[-1] if message else f"exit status {res.returncode}"
        if "syntax error" in text or "microflow" in text:
            raise ValueError(text)
        raise SbUnavailable(f"ovn-trace on {sb_connection}: {text}")
    return res.stdout


def parse(text: str) -> list[Pipeline]:
    """The pipelines of detailed ovn-trace output, in order. Lines that are neither a
    pipeline header nor a flow (actions, ``ct_next(...)`` headings, comments) belong to
    the flow before them; ``/* output to ... */`` also records an output."""
    pipelines: list[Pipeline] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or set(line.strip()) == {"-"}:
            continue
        if m := _HEADER.match(line):
            attrs = dict(_ATTR.findall(m.group(2)))
            pipelines.append(Pipeline(m.group(1), attrs.get("dp", ""), attrs.get("inport", ""),
                                      attrs.get("outport", ""), attrs.get("mcgroup", "")))
            continue
        if not pipelines:
            continue
        current = pipelines[-1]
        if m := _FLOW.match(line):
            current.flows.append(Flow(int(m.group(1)), m.group(2), m.group(4), int(m.group(5)),
                                      m.group(6)))
            continue
        if m := _OUTPUT.search(line):
            current.outputs.append((m.group(1), m.group(2)))
        if current.flows:
            current.flows[-1].actions.append(line.strip())
    return pipelines


def sb_binding(sb_connection: str, logical_port: str) -> tuple[bool, str | None]:
    """(whether the SB has a ``Port_Binding`` for ``logical_port``, the name of the
    chassis claiming it or None). Raises SbUnavailable."""
    rows = _sbctl(sb_connection, "--columns=chassis", "find", "Port_Binding",
                  f"logical_port={json.dumps(logical_port)}")
    if not rows:
        return False, None
    chassis = rows[0][0]
    if not (isinstance(chassis, list) and chassis[0] == "uuid"):
        return True, None  # ["set", []]: unclaimed
    names = _sbctl(sb_connection, "--columns=name", "list", "Chassis", chassis[1])
    return True, (names[0][0] if names else None)


def _sbctl(sb_connection: str, *args: str) -> list[list]:
    binary = shutil.which("ovn-sbctl")
    if binary is None:
        raise SbUnavailable("ovn-sbctl is not installed (Debian package ovn-common)")
    argv = [binary, f"--db={sb_connection}", f"--timeout={SBCTL_TIMEOUT}", "--format=json", *args]
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=SBCTL_TIMEOUT + 5,
                             check=False)
    except subprocess.TimeoutExpired:
        res = None
    if res is None or res.returncode != 0:
        reason = res.stderr.strip().splitlines()[-1] if res is not None and res.stderr.strip() \
            else "no answer"
        raise SbUnavailable(f"OVN southbound database {sb_connection} unreachable: {reason}")
    return json.loads(res.stdout)["data"]
