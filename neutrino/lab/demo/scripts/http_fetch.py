"""Inside a demo instance: GET a URL, print the body and, on a line of its own, the ms it took.

``http_fetch.py URL`` (never through a proxy, 5 s timeout).
"""
import sys, time, urllib.request
start = time.monotonic()
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
body = opener.open(sys.argv[1], timeout=5).read().decode()
print(body)
print(round((time.monotonic() - start) * 1000, 1))
