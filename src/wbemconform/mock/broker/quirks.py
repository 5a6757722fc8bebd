"""Deliberate broker defects a negative control can switch on
(``connect(quirks=...)``, ``--wbem-mock-quirk``): what a CIMOM (not a
provider) gets wrong, which no provider can seed. Never for a real check."""

from __future__ import annotations

__all__ = ["QUIRKS", "check_quirks"]

QUIRKS = {
    "result-class-ignored": "associator operations ignore the ResultClass filter",
    "role-ignored": "associator and reference operations ignore Role and ResultRole",
    "pull-ignores-assocclass": "OpenAssociatorInstancePaths ignores the AssocClass filter",
    "role-fails-without-assocclass": "associator operations without AssocClass answer "
                                     "CIM_ERR_FAILED to an unknown Role or ResultRole, and to "
                                     "Role = ResultRole (with AssocClass they filter right)",
    "assocclass-exact": "AssocClass (and a reference operation's ResultClass) matches only "
                        "the class it names, not its subclasses",
    "method-not-found": "an extrinsic method without a provider -- GetCentralInstances "
                        "included -- answers CIM_ERR_METHOD_NOT_FOUND although its class "
                        "declares it (pywbem_mock's own default)",
}


def check_quirks(quirks):
    """The quirks as a frozenset; ValueError naming any unknown one."""
    unknown = set(quirks) - set(QUIRKS)
    if unknown:
        raise ValueError(f"unknown mock quirk(s) {sorted(unknown)}; known: {sorted(QUIRKS)}")
    return frozenset(quirks)
