"""Network namespaces as separate "hosts" for worker processes: a bridge on the host with an
address on a private /24, and per namespace a veth pair (one end on the bridge, the other in the
namespace with its own address). Needs root (``ip netns``); ``Hosts.create`` raises
``NetnsUnavailable`` where namespaces cannot be made."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field


class NetnsUnavailable(RuntimeError):
    """This machine (or container) cannot create network namespaces."""


def _ip(*args: str) -> None:
    out = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10,
                         stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise NetnsUnavailable(f"`ip {' '.join(args)}` failed: {out.stderr.strip()}")


@dataclass
class Hosts:
    """``count`` namespaces jv<tag>n<i> at 10.231.<subnet>.<10+i>, the host at .1 on a bridge."""

    count: int
    tag: str = field(default_factory=lambda: f"{os.getpid() % 100_000}")
    subnet: int = field(default_factory=lambda: 100 + os.getpid() % 150)
    made: list[str] = field(default_factory=list)  # namespaces made so far (for cleanup)
    bridge_made: bool = False

    @property
    def bridge(self) -> str:
        return f"jv{self.tag}br"  # at most 15 characters

    @property
    def host_ip(self) -> str:
        return f"10.231.{self.subnet}.1"

    def name(self, i: int) -> str:
        return f"jv{self.tag}n{i}"

    def ip(self, i: int) -> str:
        return f"10.231.{self.subnet}.{10 + i}"

    def prefix(self, i: int) -> list[str]:
        """The command prefix that runs a program inside namespace ``i``."""
        return ["ip", "netns", "exec", self.name(i)]

    def create(self) -> None:
        _ip("link", "add", self.bridge, "type", "bridge")
        self.bridge_made = True
        _ip("addr", "add", f"{self.host_ip}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for i in range(self.count):
            ns, host_end, ns_end = self.name(i), f"{self.name(i)}h", f"{self.name(i)}v"
            _ip("netns", "add", ns)
            self.made.append(ns)
            _ip("link", "add", host_end, "type", "veth", "peer", "name", ns_end)
            _ip("link", "set", ns_end, "netns", ns)
            _ip("link", "set", host_end, "master", self.bridge, "up")
            _ip("-n", ns, "addr", "add", f"{self.ip(i)}/24", "dev", ns_end)
            _ip("-n", ns, "link", "set", ns_end, "up")
            _ip("-n", ns, "link", "set", "lo", "up")

    def remove(self) -> None:
        """Delete what ``create`` made (deleting a namespace deletes its veth pair)."""
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        self.made.clear()
        if self.bridge_made:
            subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, timeout=10)
            self.bridge_made = False
