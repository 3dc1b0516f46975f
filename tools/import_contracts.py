"""Custom import-linter contracts.

``connectors_independent``: every connector package under the hub (a direct
sub-package of ``integrations`` that has a ``connector`` module) must not
import any other, even indirectly. Connectors are discovered, so a new one is
held to the rule the moment it exists, without editing the contract.
"""

from __future__ import annotations

from grimp import ImportGraph
from importlinter.contracts.independence import IndependenceContract
from importlinter.domain import fields
from importlinter.domain.contract import ContractCheck


class ConnectorsIndependentContract(IndependenceContract):
    type_name = "connectors_independent"

    container = fields.StringField()
    marker = fields.StringField(default="connector")
    modules = fields.SetField(subfield=fields.ModuleExpressionField(), required=False)

    def connector_packages(self, graph: ImportGraph) -> set[str]:
        container = str(self.container)
        return {
            child for child in graph.find_children(container) if f"{child}.{self.marker}" in graph.modules
        }

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        connectors = self.connector_packages(graph)
        if len(connectors) < 2:
            return ContractCheck(kept=True, warnings=[], metadata={"invalid_chains": []})
        dependencies = graph.find_illegal_dependencies_for_layers(layers=(connectors,))
        return ContractCheck(
            kept=not dependencies,
            warnings=[],
            metadata={"invalid_chains": self._build_invalid_chains(dependencies, graph)},
        )
