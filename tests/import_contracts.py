"""An import-linter contract of our own: every room has one door.

Other rooms may import a room's package itself (its `init_app`), its `service` (functions) and
its `data` (records and value types); everything else in a room is private to it. Listed in
setup.cfg as the contract type `doors`.
"""

from __future__ import annotations

from importlinter import Contract, ContractCheck, fields, output


class DoorsContract(Contract):
    type_name = "doors"

    rooms = fields.ListField(subfield=fields.StringField())
    doors = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        doors = set(self.doors)
        illegal = []
        for room in self.rooms:
            if room not in graph.modules:
                illegal.append({"importer": "(contract)", "imported": room, "line_numbers": ()})
                continue
            public = {room, *(f"{room}.{door}" for door in doors)}
            for module in sorted(graph.find_descendants(room)):
                if module in public:
                    continue
                for importer in sorted(graph.find_modules_that_directly_import(module)):
                    if importer == room or importer.startswith(room + "."):
                        continue
                    details = graph.get_import_details(importer=importer, imported=module)
                    illegal.append({"importer": importer, "imported": module,
                                    "line_numbers": tuple(d["line_number"] for d in details)})
        return ContractCheck(kept=not illegal, metadata={"illegal": illegal})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for link in check.metadata["illegal"]:
            if link["importer"] == "(contract)":
                output.print_error(f"- {link['imported']} is listed as a room but does not exist", bold=False)
                continue
            lines = ", ".join(map(str, link["line_numbers"]))
            output.print_error(f"- {link['importer']} -> {link['imported']} (l.{lines}): "
                               f"go through {link['imported'].rsplit('.', 1)[0]}.service or .data", bold=False)
