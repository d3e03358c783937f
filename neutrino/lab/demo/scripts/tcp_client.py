"""From a namespace: connect, print the answer and the milliseconds it took.

``tcp_client.py ADDRESS PORT TIMEOUT`` (the answer is what ``tcp_listener.py`` sends).
"""
import socket, sys, time
start = time.monotonic()
conn = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
answer = conn.recv(100).decode()
print(answer, round((time.monotonic() - start) * 1000, 1))
