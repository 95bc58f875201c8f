"""Where learners reach a mirror, and what they run: the lines ``satlesson mirror serve`` prints.

Served on ``0.0.0.0`` the mirror answers on every interface; learners need this machine's
address on the room's network. It is found with the standard library alone: the address the
default route would use (a UDP socket's ``connect`` picks a route and sends nothing), every
interface's address (Linux ``SIOCGIFADDR``), and the host name's addresses.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import socket
import struct

ALL_INTERFACES = ("0.0.0.0", "")
_SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address
_ROUTE_PROBE = ("192.0.2.1", 9)  # TEST-NET-1: only asks the kernel for a route, no packet


def _default_route_address() -> list[str]:
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(_ROUTE_PROBE)
        return [s.getsockname()[0]]
    return []


def _interface_addresses() -> list[str]:
    found = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            with contextlib.suppress(OSError):
                request = struct.pack("256s", name.encode()[:15])
                answer = fcntl.ioctl(s.fileno(), _SIOCGIFADDR, request)
                found.append(socket.inet_ntoa(answer[20:24]))
    return found


def _host_name_addresses() -> list[str]:
    with contextlib.suppress(OSError):
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        return [str(info[4][0]) for info in infos]
    return []


def network_addresses() -> list[str]:
    """This machine's IPv4 addresses other learners can reach: no loopback, no link-local;
    the default route's first."""
    seen: list[str] = []
    for addr in _default_route_address() + _interface_addresses() + _host_name_addresses():
        ip = ipaddress.ip_address(addr)
        if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified) and addr not in seen:
            seen.append(addr)
    return seen


def serving_message(host: str, port: int, proxy_port: int) -> str:
    """What ``serve`` prints once ready: the addresses to use and the learners' command."""
    door = (f"(the lesson's https:// addresses through its proxy on port {proxy_port}; "
            f"https://HOST/PATH also at /HOST/PATH)")
    if host not in ALL_INTERFACES:
        base = f"http://{host}:{port}"
        return (f"Mirror serving at {base}  {door}\n"
                f"Route Jupyter kernels to it: satlesson kernel install --mirror {base}")
    addresses = [f"http://{addr}:{port}" for addr in network_addresses()]
    local = f"http://127.0.0.1:{port}"
    lines = [f"Mirror serving on every network interface, port {port}  {door}"]
    if addresses:
        lines.append("Learners on this machine's network reach it at:")
        lines += [f"  {address}" for address in addresses]
    else:
        lines.append("This machine has no network address yet: join the room's network, and "
                     "restart the mirror to see its address.")
    lines += [f"This machine reaches it at {local}.",
              f"Let learners' machines reach ports {port} and {proxy_port} through the firewall.",
              "Each learner runs, once (then chooses that kernel in Jupyter):",
              f"  satlesson kernel install --mirror {addresses[0] if addresses else local}"]
    return "\n".join(lines)
