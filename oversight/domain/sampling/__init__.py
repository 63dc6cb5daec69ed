"""Sampling plans, verifiable draws and lot decisions for spot checks (SPEC section 5)."""
from oversight.domain.sampling.draws import (
    STRATA,
    STRATUM_FLAGGED,
    STRATUM_RANDOM,
    STRATUM_TARGETED,
    Allocation,
    DrawnItem,
    DrawParams,
    DrawResult,
    FrozenCells,
    PopulationItem,
    VerifyResult,
    allocate_by_worker,
    cell_of,
    draw_strata,
    draw_key,
    draw_sample,
    new_seed,
    population_cells,
    population_sha256,
    sample_pass_rate,
    verify_draw,
)
from oversight.domain.sampling.iso2859 import code_letter, iso2859_plan, table_2a_cell
from oversight.domain.sampling.plans import (
    KIND_HYPERGEOMETRIC,
    KIND_ISO2859,
    KIND_SHARE,
    SamplingPlan,
    acceptance_probability,
    hypergeometric_plan,
    lot_accepted,
    oc_curve,
    share_plan,
    share_sample_size,
)

__all__ = [
    "KIND_HYPERGEOMETRIC", "KIND_ISO2859", "KIND_SHARE", "STRATA", "STRATUM_FLAGGED",
    "STRATUM_RANDOM", "STRATUM_TARGETED", "DrawParams", "DrawResult",
    "DrawnItem", "FrozenCells", "PopulationItem", "SamplingPlan", "VerifyResult", "Allocation",
    "acceptance_probability", "allocate_by_worker", "cell_of", "code_letter", "draw_strata",
    "draw_key", "draw_sample", "hypergeometric_plan", "iso2859_plan", "lot_accepted",
    "new_seed", "oc_curve", "population_cells", "population_sha256", "sample_pass_rate", "share_plan",
    "share_sample_size", "table_2a_cell", "verify_draw",
]
