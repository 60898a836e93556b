"""A device on the TV side announcing itself over mDNS (python3-zeroconf), for a bounded time.
usage: mdns_announce.py IFACE_ADDR INSTANCE TYPE PORT SECONDS
"""
import socket
import sys
import time

from zeroconf import IPVersion, ServiceInfo, Zeroconf

addr, instance, stype, port, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
zc = Zeroconf(interfaces=[addr], ip_version=IPVersion.V4Only)
info = ServiceInfo(stype, f"{instance}.{stype}", addresses=[socket.inet_aton(addr)], port=port, server="living-room-tv.local.")
zc.register_service(info)
print("registered", flush=True)
time.sleep(seconds)
zc.unregister_service(info)
zc.close()
