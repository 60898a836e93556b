"""The TV box's mDNS client (python3-zeroconf, an independent RFC 6762/6763 stack).

Browses one service type on one interface address for a bounded time and prints one JSON
line per event: "added" (with SRV port, target host and A records), "removed", and
"goodbye" for every record of the type that arrives with TTL 0. zeroconf turns a TTL of 0
into 1 before its listeners see it (RFC 6762 10.1), so goodbyes are read off the wire by
a second socket on the mDNS group and parsed with zeroconf's own DNSIncoming.
usage: mdns_browse.py IFACE_ADDR SERVICE_TYPE SECONDS
"""
import json
import socket
import sys
import threading
import time

from zeroconf import DNSIncoming, IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

addr, stype, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])


lock = threading.Lock()


def out(**kw):
    kw["t"] = time.time()
    with lock:
        print(json.dumps(kw), flush=True)


def sniff_goodbyes():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("224.0.0.251", 5353))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("224.0.0.251") + socket.inet_aton(addr))
    s.settimeout(0.5)
    end = time.time() + seconds
    while time.time() < end:
        try:
            data, _ = s.recvfrom(9000)
        except socket.timeout:
            continue
        msg = DNSIncoming(data)
        if not msg.valid or not msg.is_response():
            continue
        answers = msg.answers() if callable(msg.answers) else msg.answers
        for rec in answers:
            if rec.ttl == 0 and stype.lower() in rec.name.lower():
                out(event="goodbye", name=rec.name, target=getattr(rec, "alias", None), type=rec.__class__.__name__)


def on_change(zeroconf, service_type, name, state_change):
    if state_change is ServiceStateChange.Added:
        info = zeroconf.get_service_info(service_type, name, timeout=3000)
        out(
            event="added",
            name=name,
            port=info.port if info else None,
            server=info.server if info else None,
            addresses=info.parsed_addresses() if info else [],
        )
    elif state_change is ServiceStateChange.Removed:
        out(event="removed", name=name)


threading.Thread(target=sniff_goodbyes, daemon=True).start()
zc = Zeroconf(interfaces=[addr], ip_version=IPVersion.V4Only)
ServiceBrowser(zc, stype, handlers=[on_change])
out(event="ready")
time.sleep(seconds)
zc.close()
