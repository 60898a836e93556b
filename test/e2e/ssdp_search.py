"""The TV box's SSDP client: one M-SEARCH for a device type, answers collected for a
bounded time, printed as a JSON list of header dicts.
usage: ssdp_search.py IFACE_ADDR SEARCH_TARGET SECONDS
"""
import json
import socket
import sys
import time

addr, target, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
msg = (
    "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
    f"MX: 1\r\nST: {target}\r\n\r\n"
).encode()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
s.bind((addr, 0))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(addr))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
s.sendto(msg, ("239.255.255.250", 1900))
answers = []
end = time.time() + seconds
while time.time() < end:
    s.settimeout(max(0.05, end - time.time()))
    try:
        data, peer = s.recvfrom(65535)
    except socket.timeout:
        break
    lines = data.decode(errors="replace").split("\r\n")
    headers = {k.strip().upper(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    headers["_FROM"] = peer[0]
    answers.append(headers)
print(json.dumps(answers))
