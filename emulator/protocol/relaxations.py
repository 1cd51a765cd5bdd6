"""Constraints of the service models that AWS itself does not enforce.

The validator enforces what the botocore models declare, but the real front ends are looser in a
few places, and widely used clients rely on that: a request that works against AWS must work here
too (reference §1.6). Each relaxation is one entry below, keyed by the model's shape name and the
constraint it lifts, with the evidence beside it, so each is easy to find and to revert. Shape
names are model data, like the models themselves: this table is the one place under `protocol/`
where they are typed. The fuller evidence, and the constraints audited and kept, are in
docs/known-differences.md ("Where AWS is looser than its model").

Constraints:
- `min`: the shape's lower bound on length, size or value is not checked (`max` still is);
- `enum-case`: an enum value matches in any letter case and is kept as the client sent it;
- `enum-canonical-case`: an enum value matches in any letter case and is taken in the model's own
  spelling, as AWS answers it afterwards (`managed` is stored, and described, as `MANAGED`).
"""

from __future__ import annotations

MIN = "min"
ENUM_CASE = "enum-case"
ENUM_CANONICAL_CASE = "enum-canonical-case"

RELAXATIONS: frozenset[tuple[str, str]] = frozenset(
    {
        # Batch tags maps: Airflow's BatchOperator sends `tags: {}` on every SubmitJob when the
        # user gives none, the Snakemake AWS Batch plugin on RegisterJobDefinition; both work on AWS.
        ("TagrisTagsMap", MIN),
        # evaluateOnExit[].action: the model documents "The values aren't case sensitive", and the
        # Terraform AWS provider always sends `retry` / `exit`.
        ("RetryAction", ENUM_CASE),
        # Compute environment `type`: the AWS CDK's L2 constructs send `managed` / `unmanaged`, and
        # AWS describes the environment as MANAGED / UNMANAGED.
        ("CEType", ENUM_CANONICAL_CASE),
        # The Terraform AWS provider takes `type`, `state`, `compute_resources.type` and
        # `allocation_strategy` in any case, sends them as written and expects them back in upper
        # case; its own acceptance tests create a compute environment with `Best_Fit`.
        ("CEState", ENUM_CANONICAL_CASE),
        ("CRType", ENUM_CANONICAL_CASE),
        ("CRAllocationStrategy", ENUM_CANONICAL_CASE),
        ("CRUpdateAllocationStrategy", ENUM_CANONICAL_CASE),
    }
)


def is_relaxed(shape_name: str, constraint: str) -> bool:
    return (shape_name, constraint) in RELAXATIONS
