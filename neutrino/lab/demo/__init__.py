"""``neutrino demo``: the field reports' scenarios, built and checked end to end.

On the all-in-one of a state dir (started in the background when it is not
running: ``neutrino up`` detached, its log in ``<state_dir>/up.log``, stopped
again by ``neutrino down`` or ``neutrino demo --clean``), through the public API
(an openstacksdk Connection, ``lab/sdk.py``, noauth: ``X-Project-Id``/``X-Roles``
headers, as ``neutrino lab`` does) and the
lab (``neutrino/lab``), the demo builds:

* the lab's external world: the flat ``router:external`` network ``public``
  (172.24.4.0/24 on ``physnet1``) and its upstream namespace, which owns the
  gateway and the "outside host" 203.0.113.10 (``lab external create``);
* seed 001: the data centre's VLANs 100, 101, 200, 201 (gateways 10.10.<vlan>.1
  behind the lab's upstream switch, ``lab vlan create``) and, as admin, the shared
  VLAN networks pub100 and pub101 on physnet ``default`` with their /24 subnets, and
  seed 004's own network pub2xx: VLAN segments 200 and 201 on ``default``, a subnet
  on each. pub100's pool is narrowed to two addresses (its metadata
  port's and one instance's) so it fills up, as seed 004's networks did;
* seeds 000/002/003: projects demo-a and demo-b, each with the same private
  10.0.0.0/24 (network ``private``) behind its own router (gateway on
  ``public``), a floating IP and a security group ``demo-web`` (ICMP and TCP 8080
  in; nothing else);
* lab instances, booted concurrently: ``<prefix>a1`` and ``<prefix>b1`` on
  ``private`` at the same 10.0.0.5, ``<prefix>v100`` (demo-a) on pub100,
  ``<prefix>v200`` and ``<prefix>v201`` on pub2xx's two segments (one chassis) and, after
  those, ``<prefix>c1`` for project demo-c -- which has no network of its own,
  like seed 001's tenants -- without a network: the scheduler picks (seed 004).

Then it checks, from inside the instances and from outside: the DHCP lease is the
port's fixed IP in the API; 169.254.169.254 returns the instance's own uuid and
hostname (and how long it took); private instances reach the outside host through
SNAT and are reached from outside on their floating IP; provider instances reach
their VLAN's gateway; TCP 8080 (opened by ``demo-web``) answers while 8081 (a
listener the group does not open) stays closed; the metadata port sits at the
first pool address of every network (seed 001's moving DHCP port); the OVN NB
matches the database (``neutrino sync``). Each check is a :class:`Check`; the
list is also written to ``<state_dir>/demo-result.json``.

Idempotent: resources are found by name and reused (brought in line where they
differ), instances are rebuilt on every run. Without ``keep`` the instances are
removed at the end (API resources and the service stay, to explore);
:func:`clean` removes everything the demo built and stops the service if the demo
started it. ``<state_dir>/demo.json`` records what the demo started and created.

The package, one module a job (each imports only the ones listed before it):

* ``scenario``: the names, addresses and instances of the demo, :class:`Check`,
  :class:`DemoError`;
* ``state``: ``demo.json`` and
  ``demo-result.json``;
* ``service``: the all-in-one found running or started (and stopped);
* ``world``: the API resources and lab upstreams, found or made;
* ``guests``: booting and removing the lab instances;
* ``checks``: every check; the programs they run inside namespaces are the files of
  ``scripts/`` (``tcp_listener.py``, ``http_fetch.py``, ``tcp_client.py``), run with
  the demo's own interpreter (``sys.executable``);
* ``runner``: :func:`run` and :func:`explore_hint`; ``cleanup``: :func:`clean`.
"""

from neutrino.lab.demo.cleanup import clean
from neutrino.lab.demo.runner import explore_hint, run
from neutrino.lab.demo.scenario import Check, DemoError

__all__ = ["Check", "DemoError", "clean", "explore_hint", "run"]
