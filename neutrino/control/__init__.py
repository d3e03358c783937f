"""The control plane's long-running duties under leader election.

``leader`` holds the lock that makes one controller active; ``controller`` runs
the NB sync, the SB port-status watcher and Nova's event sender while it holds
it, and reports its health to the database (read by ``services.health``).
"""
