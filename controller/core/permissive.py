"""Permissive pairs (docs/CONTROL.md): the rules the core adds for conditionally
compatible streams.

A stream with right of way never starts while a stream that gives way to it shows a
protected green or is clearing from one, and a yielding stream starts only with its
priority streams green (joining them) or red and cleared. Intergreens of the pair, both
ways, come from the configuration.
"""

from __future__ import annotations

from protocols import aspects as A

from ..config.model import Intersection
from .signal_group import INF, GroupTimer, ds


class PermissivePairs:
    def __init__(self, inter: Intersection, groups: dict[str, GroupTimer]):
        self.yielders: dict[str, list[tuple[GroupTimer, int]]] = {}   # priority -> yielding
        self.partners: dict[str, list[tuple[GroupTimer, int]]] = {}   # yielding -> priority
        for a, b in sorted(inter.permissive):
            self.yielders.setdefault(b, []).append((groups[a], ds(inter.intergreen[(a, b)])))
            self.partners.setdefault(a, []).append((groups[b], ds(inter.intergreen[(b, a)])))

    def gated(self, gid: str) -> bool:
        """Whether the group's start waits for these rules (it is in a pair)."""
        return gid in self.yielders or gid in self.partners

    def protected_to_permissive(self, entering: list[GroupTimer], tgt: set[str]) -> list[GroupTimer]:
        """Yielding groups that stay green into the target stage while a stream they give
        way to enters: they show a protected green now, so they end (their change interval,
        like a yellow arrow), and rejoin permissively once that stream runs."""
        out = []
        for b in entering:
            for a, _ in self.yielders.get(b.id, ()):
                if a.showing_green and a.id in tgt and a not in out and not any(
                        p.showing_green for p, _ in self.partners[a.id] if p is not b):
                    out.append(a)
        return out

    def may_start(self, g: GroupTimer, held: list[GroupTimer]) -> int:
        """The first tenth at which `g` may be asked to start under the permissive rules
        (INF while a partner's state forbids it; `held`: groups still waiting for these
        rules); its conflicts still gate it as always."""
        at = g.permit() - g.red_amber
        for a, ig in self.yielders.get(g.id, ()):         # g has right of way over a
            if a.aspect != A.RED:
                if a.showing_green and any(p.showing_green for p, _ in self.partners[a.id]
                                           if p is not g):
                    continue            # a already gives way to another running stream
                return INF
            at = max(at, a.green_end + ig)
        for b, ig in self.partners.get(g.id, ()):          # g gives way to b
            if b.showing_green:
                continue                # join the running stream
            if b.aspect != A.RED or b.want_start or b in held:
                return INF              # b is clearing, or about to start: after it
            at = max(at, b.green_end + ig)
        return at
