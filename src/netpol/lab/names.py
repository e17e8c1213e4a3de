"""How the lab names what it makes: namespaces, interfaces, MACs, files, and its fixed addresses.

Every network namespace carries the lab's name (``netpol-<lab>-node``, ``netpol-<lab>-out``,
``netpol-<lab>-p<index>``), so one lab never mistakes another's (or anyone else's)
namespaces for its own. Interface names live inside the lab's namespaces, so they only need
to be short: ``br0``, ``v<index>`` on the node side, ``eth0`` in each pod.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LAB = "netpol"
NETNS_PREFIX = "netpol-"
NETNS_DIR = Path("/run/netns")
NETNS_ETC = Path("/etc/netns")  # ip netns exec bind-mounts files from here (resolv.conf)
STATE_ROOT = Path("/run/netpol/lab")

# Addresses of the lab itself. The pod gateway is link-local (as Calico does), so it can
# never collide with a pod IP; the outside client sits in a documentation range.
GATEWAY_IP = "169.254.1.1"
GATEWAY_MAC = "02:6e:70:00:00:01"
NODE_EXTERNAL_IP = "203.0.113.1"
OUTSIDE_IP = "203.0.113.10"
OUTSIDE_PREFIX = 24
RESERVED_IPS = frozenset({GATEWAY_IP, NODE_EXTERNAL_IP, OUTSIDE_IP})

BRIDGE = "br0"
OUTSIDE_LINK = "ext0"  # node side of the outside namespace's veth
POD_LINK = "eth0"

# Checked with fullmatch: a regex's ``$`` also matches before a trailing newline, and a
# newline in a name splits the ``ip -batch`` input it is written into.
_LAB_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?")
_NETNS = re.compile(r"netpol-(?P<lab>[a-z0-9][a-z0-9-]*?)-(?P<role>node|out|p[0-9]+)")


def check_lab_name(name: str) -> str | None:
    """None when ``name`` can name a lab; otherwise the one-line reason."""
    if not _LAB_NAME.fullmatch(name):
        return (
            f"lab name {name!r} must be 1-20 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return None


@dataclass(frozen=True, slots=True)
class LabNames:
    """Every name one lab uses, derived from the lab's name alone."""

    lab: str

    @property
    def node_netns(self) -> str:
        return f"{NETNS_PREFIX}{self.lab}-node"

    @property
    def outside_netns(self) -> str:
        return f"{NETNS_PREFIX}{self.lab}-out"

    def pod_netns(self, index: int) -> str:
        return f"{NETNS_PREFIX}{self.lab}-p{index}"

    def owns_netns(self, netns: str) -> bool:
        if netns in (self.node_netns, self.outside_netns):
            return True
        prefix = f"{NETNS_PREFIX}{self.lab}-p"
        index = netns[len(prefix) :]
        return netns.startswith(prefix) and index.isascii() and index.isdigit()

    @property
    def state_dir(self) -> Path:
        return STATE_ROOT / self.lab

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def lock_file(self) -> Path:
        return STATE_ROOT / f"{self.lab}.lock"

    @property
    def control_socket(self) -> Path:
        return self.state_dir / "daemon.sock"

    @property
    def daemon_log(self) -> Path:
        return self.state_dir / "daemon.log"

    @property
    def documents_file(self) -> Path:
        return self.state_dir / "documents.json"

    def scratch_dir(self, index: int) -> Path:
        """A directory of the lab's own where allow-listed servers (http.server) run."""
        return self.state_dir / "pods" / f"p{index}"

    def etc_dir(self, netns: str) -> Path:
        return NETNS_ETC / netns

    @property
    def daemon_marker(self) -> str:
        """Appears in the helper process's command line, so cleanup can recognise it."""
        return f"netpol-lab-daemon:{self.lab}"


def pod_link(index: int) -> str:
    """The node-side veth of pod ``index`` (at most 15 characters, as Linux requires)."""
    return f"v{index}"


def pod_mac(index: int) -> str:
    """A locally administered MAC, unique per pod index, so neighbour entries can be static."""
    return f"02:6e:71:{(index >> 16) & 0xFF:02x}:{(index >> 8) & 0xFF:02x}:{index & 0xFF:02x}"


def lab_of_netns(netns: str) -> str | None:
    """The lab a namespace name belongs to, or None when it is not a lab namespace."""
    found = _NETNS.fullmatch(netns)
    return found.group("lab") if found else None
