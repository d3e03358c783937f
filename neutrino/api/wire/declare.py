"""Attribute declarations, request plans and the renderer of domain rows.

Neutron keeps one attribute map per resource (``neutron_lib/api/definitions/*.py``:
``allow_post``, ``allow_put``, ``validate``, ``default``, ``is_visible``,
``is_filter``, ``is_sort_key``) and its policy file says who reads what
(``neutron/conf/policies/*.py``, reference A.5). An ``Attribute`` here is one entry of
such a map; a ``Resource`` is the map. Read visibility has three levels, Neutron's
policy defaults: ``EVERYONE``; ``ADMIN_OR_SERVICE`` (``admin_only or service_api``,
the ``get_port:binding:*`` rules: Nova reads bindings); ``ADMIN`` (``get_port:trusted``,
``get_network:provider:*``, ``get_subnet:segment_id``).

A request is planned once per (resource, caller's role, ``fields=``): the attributes
the caller may read and asked for, the row columns they read and the related queries
(``load``) they need. The service selects those columns and runs those queries only;
``render`` then builds each dict with exactly the planned keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any, Callable, Iterable

from neutrino.services.listing import rows_of

EVERYONE, ADMIN_OR_SERVICE, ADMIN = "everyone", "admin_or_service", "admin"
ROLES = {EVERYONE: ("admin", "service", "user"), ADMIN_OR_SERVICE: ("admin", "service"),
         ADMIN: ("admin",)}
ABSENT: Any = object()  # a computed value meaning "this item has no such key"


class Related(dict):
    """What computed attributes read beside their row: ``related[load][key]`` (each
    load one service query for all rows, keyed by resource id unless the load says
    otherwise; every planned load is present) and ``settings`` (``config.Settings``).
    ``once(key, compute)`` keeps what every row would compute alike (a setting's
    derived value) for the rest of the request."""

    def __init__(self, data: dict[str, dict[str, Any]], settings: Any = None) -> None:
        super().__init__(data)
        self.settings = settings
        self._once: dict[str, Any] = {}

    def once(self, key: str, compute: Callable[[Any], Any]) -> Any:
        """``compute(settings)``, computed on the first call with ``key`` only."""
        try:
            return self._once[key]
        except KeyError:
            value = self._once[key] = compute(self.settings)
            return value


@dataclass(frozen=True)
class Attribute:
    """One attribute of a resource as the API shows it.

    ``name``: the API key (``binding:host_id``). ``column``: the domain row's column
    holding the value as shown (``None`` for a computed one). ``value(row, related)``:
    computes it from the row (a dict of the planned columns) and ``Related`` (may
    return ``ABSENT``); ``needs`` the further columns it reads;
    ``load`` the related query it reads (a name the service knows). ``type``: the
    neutron-lib validator's kind (``uuid``, ``string``, ``boolean``, ``integer``,
    ``mac_address``, ``list``, ``dict``, ``datetime``...); ``default``: the value a new
    resource gets when it is not given (documentation, the write path owns it).
    ``read``: ``EVERYONE``, ``ADMIN_OR_SERVICE`` or ``ADMIN``. Which attributes filter
    and sort (Neutron's ``is_filter``/``is_sort_key``) is the service's list spec
    (``listing.ResourceSpec``), beside the SQL of each. ``shown``: False for a
    request-only attribute (never in a response, never a ``fields=`` candidate).
    ``named_in_requests``: False for a response-only attribute a request body naming
    gets "Unrecognized attribute(s)" for (not "not allowed").
    """

    name: str
    type: str = "string"
    column: str | None = None
    value: Callable[[Any, Related], Any] | None = None
    needs: tuple[str, ...] = ()
    load: str | None = None
    default: Any = None
    read: str = EVERYONE
    shown: bool = True
    named_in_requests: bool = True

    def columns(self) -> tuple[str, ...]:
        return ((self.column,) if self.column else ()) + self.needs


@dataclass(frozen=True)
class Plan:
    """What one request computes: ``columns`` to select (``id`` first), the related
    ``loads`` to run, the column attributes ``plain`` as (API name, column index) and
    the ``computed`` ones. ``plain_names`` and ``plain_values`` (a row to the tuple of
    its plain values) are what ``render`` uses of ``plain``."""

    columns: tuple[str, ...]
    loads: frozenset[str]
    plain: tuple[tuple[str, int], ...]
    computed: tuple[Attribute, ...]
    plain_names: tuple[str, ...] = ()
    plain_values: Callable[[Any], tuple[Any, ...]] = field(default=lambda row: (),
                                                           compare=False)


@dataclass(frozen=True, eq=False)
class Resource:
    """One resource's attribute map (``singular``/``plural`` its JSON keys)."""

    singular: str
    plural: str
    attributes: tuple[Attribute, ...]
    _by_name: dict[str, Attribute] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_name = {a.name: a for a in self.attributes}
        if len(by_name) != len(self.attributes):
            raise ValueError(f"{self.plural}: an attribute is declared twice")
        object.__setattr__(self, "_by_name", by_name)

    def __getitem__(self, name: str) -> Attribute:
        return self._by_name[name]

    @property
    def names(self) -> frozenset[str]:
        """The attribute names request bodies know (the request schemas'
        ``ATTRIBUTES``: a known read-only attribute gets its own error)."""
        return frozenset(a.name for a in self.attributes if a.named_in_requests)

    def plan(self, ctx: Any, fields: Iterable[str] | None) -> Plan:
        """The plan for a caller (``services.context.Context``) and its ``fields=``
        (None or empty: every attribute it may read; unknown names are ignored, as
        Neutron does)."""
        role = "admin" if ctx.is_admin else "service" if ctx.is_service else "user"
        return _plan(self, role, tuple(sorted(set(fields))) if fields else None)

    def render_objects(self, objects: Iterable[Any], related: Related | None = None,
                       fields: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """API dicts of ``objects`` (ORM objects or result rows holding every column by
        name) with what every caller reads (of ``fields``), whoever asks: this resource
        inside another's answer (a security group's rules, a QoS policy's ``rules``, a
        floating IP's ``port_forwardings``), or a resource whose readers all see the
        same (the admin-only instance registry)."""
        plan = _plan(self, "user", tuple(sorted(set(fields))) if fields else None)
        return self.render(plan, rows_of(objects, plan.columns),
                           Related({}) if related is None else related)

    def render(self, plan: Plan, rows: Iterable[Any], related: Related) -> list[dict[str, Any]]:
        """API dicts of ``rows`` (sequences of ``plan.columns``' values, as the
        service's ``Rows`` holds them; computed attributes get each as a dict)."""
        names, values, columns = plan.plain_names, plan.plain_values, plan.columns
        if not plan.computed:
            return [dict(zip(names, values(row))) for row in rows]
        computed = [(a.name, a.value) for a in plan.computed]
        result = []
        append = result.append
        for row in rows:
            d = dict(zip(names, values(row)))
            r = dict(zip(columns, row))
            for name, fn in computed:
                value = fn(r, related)  # type: ignore[misc]
                if value is not ABSENT:
                    d[name] = value
            append(d)
        return result


@lru_cache(maxsize=512)
def _plan(resource: Resource, role: str, fields: tuple[str, ...] | None) -> Plan:
    chosen = [a for a in resource.attributes if a.shown and role in ROLES[a.read]
              and (fields is None or a.name in fields)]
    columns: dict[str, None] = {"id": None}
    for a in chosen:
        columns.update(dict.fromkeys(a.columns()))
    order = list(columns)
    plain = tuple((a.name, order.index(a.column)) for a in chosen
                  if a.column and a.value is None)
    return Plan(columns=tuple(order),
                loads=frozenset(a.load for a in chosen if a.load),
                plain=plain,
                computed=tuple(a for a in chosen if a.value is not None),
                plain_names=tuple(name for name, _ in plain),
                plain_values=_getter(tuple(i for _, i in plain)))


def _getter(indexes: tuple[int, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A row to the tuple of its values at ``indexes`` (``itemgetter`` gives a bare
    value for one index, nothing for none)."""
    if len(indexes) > 1:
        return itemgetter(*indexes)
    if indexes:
        i = indexes[0]
        return lambda row: (row[i],)
    return lambda row: ()


# --- attributes every resource with standard attributes has (A.2) ----------------

def standard(*, tags: bool = True) -> tuple[Attribute, ...]:
    """``id``, ``project_id`` and its ``tenant_id`` mirror, ``name``, ``description``,
    ``created_at``/``updated_at``, ``revision_number`` and (``tags``) ``tags``."""
    attrs = (
        Attribute("id", "uuid", "id"),
        Attribute("name", "string", "name", default=""),
        Attribute("description", "string", "description", default=""),
        Attribute("project_id", "string", "project_id"),
        Attribute("tenant_id", "string", "project_id"),
        Attribute("created_at", "datetime", "created_at"),
        Attribute("updated_at", "datetime", "updated_at"),
        Attribute("revision_number", "integer", "revision_number"),
    )
    if tags:
        attrs += (Attribute("tags", "list", value=lambda row, rel: rel["tags"].get(row["id"], []),
                            load="tags", default=[]),)
    return attrs
