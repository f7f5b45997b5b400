"""Which department an obligation's owner belongs to, as the complaint's pinned org snapshot says.

A complaint keeps the org snapshot it started under, so a person who changed departments later still
counts for the department they were in at the time. Snapshots never change once stored (they are keyed
by content hash), so the lookup table built for one is kept for the life of the process.
"""

from dataclasses import dataclass, field
from threading import Lock

from models.org import Org

UNASSIGNED = "-"  # the key for owners without a department (and group owners spanning several)


@dataclass
class DepartmentLookup:
    """Owner (a person id or a group label such as ``role:cs_desk``) → department id, per snapshot."""

    _tables: dict[str, dict[str, str]] = field(default_factory=dict)
    _names: dict[str, dict[str, str]] = field(default_factory=dict)
    _lock: Lock = field(default_factory=Lock)

    def department(self, org_hash: str, org: Org, owner: str) -> str:
        table = self._table(org_hash, org)
        found = table.get(owner)
        if found is None:
            found = _group_department(org, table, owner)
            with self._lock:
                table[owner] = found
        return found

    def owners(self, org_hash: str, org: Org) -> dict[str, str]:
        """Every owner the snapshot can produce that has a department: its people and role groups."""
        groups = [f"role:{role}" for role in org.role_names()]
        found = {
            owner: self.department(org_hash, org, owner) for owner in [*self._table(org_hash, org), *groups]
        }
        return {owner: department for owner, department in found.items() if department != UNASSIGNED}

    def names(self, org_hash: str, org: Org) -> dict[str, str]:
        """Department id → display name in this snapshot."""
        self._table(org_hash, org)
        return self._names[org_hash]

    def _table(self, org_hash: str, org: Org) -> dict[str, str]:
        table = self._tables.get(org_hash)
        if table is None:
            table = {p.id: p.department or UNASSIGNED for p in org.people}
            with self._lock:
                self._tables[org_hash] = table
                self._names[org_hash] = {d.id: d.name for d in org.departments}
        return table


def _group_department(org: Org, people: dict[str, str], owner: str) -> str:
    """A shared obligation (``role:x``) belongs to a department only if every holder is in it."""
    kind, _, argument = owner.partition(":")
    if kind != "role" or not argument:
        return UNASSIGNED
    departments = {people.get(holder, UNASSIGNED) for holder in org.holders(argument)}
    return departments.pop() if len(departments) == 1 else UNASSIGNED


LOOKUP = DepartmentLookup()
