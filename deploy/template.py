"""The packaged template (`build/package/sam.json`) as a deploy reads it: its parameters, its
functions and their reservation parameters, and the copy that names the uploaded code."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.errors import BadInput

FUNCTION = "AWS::Serverless::Function"


@dataclass(frozen=True)
class Template:
    doc: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Template:
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise BadInput(f"{path} not found: run `make package` first") from None

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return dict(self.doc.get("Parameters", {}))

    @property
    def functions(self) -> dict[str, str]:
        """Logical id → deployed function name."""
        return {
            logical: r["Properties"]["FunctionName"]
            for logical, r in self.doc["Resources"].items()
            if r["Type"] == FUNCTION
        }

    def reservations(self) -> dict[str, tuple[str, int]]:
        """Function name → (its reservation parameter, the executions it asks for by default)."""
        found = {}
        for logical, name in self.functions.items():
            reserved = self.doc["Resources"][logical]["Properties"].get(
                "ReservedConcurrentExecutions"
            )
            if isinstance(reserved, dict) and "Fn::If" in reserved:
                parameter = reserved["Fn::If"][1]["Ref"]
                found[name] = (parameter, int(self.parameters[parameter]["Default"]))
        return found

    def with_code(self, bucket: str, key: str) -> dict[str, Any]:
        """The template with every function's code in `s3://bucket/key` (`./deployment.zip` in
        the package), as `aws cloudformation package` would write it."""
        doc = copy.deepcopy(self.doc)
        for logical in self.functions:
            doc["Resources"][logical]["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": key}
        return doc
