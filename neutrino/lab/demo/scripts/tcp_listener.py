"""Inside a demo instance: answer every connection with the instance's name.

``tcp_listener.py NAME PORT...``: one thread a port, each accepting forever and
sending ``NAME`` before closing the connection.
"""
import socket, sys, threading
def serve(port):
    server = socket.create_server(("0.0.0.0", port))
    while True:
        conn, _ = server.accept()
        conn.sendall(sys.argv[1].encode())
        conn.close()
for port in sys.argv[2:]:
    threading.Thread(target=serve, args=(int(port),)).start()
