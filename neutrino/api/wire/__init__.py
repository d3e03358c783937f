"""The Neutron wire format, one declaration per resource (Neutron's attribute map).

``declare.py`` holds the machinery: an ``Attribute`` says an API name, where its value
comes from (a column of the service's domain row, or computed from the row and the
related data one service query loads for all rows), its type, default and who may
read it; which attributes filter and sort, and the SQL of each, is the service's list
spec (``listing.ResourceSpec``). A ``Resource`` plans a request (which attributes
the caller may read and asked for with ``fields=``, hence which columns to select and
which related queries to run at all) and renders domain rows into API dicts.

One module a resource (``ports.py``, ``networks.py``, ``subnets.py``, ``routers.py``...)
declares it; the request schemas' ``ATTRIBUTES``, the routes' ``fields=`` and the
responses of list, show, create, update and member actions read that declaration.
Services return domain rows (``services.listing.Rows`` for reads, ``listing.Written``
for writes), never API dicts.
"""
