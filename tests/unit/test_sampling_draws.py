"""Verifiable, seeded, stratified draws; their verification and the estimate they support."""
import hashlib
import random
from decimal import Decimal

import pytest

from oversight.domain.sampling.draws import (
    DrawParams,
    PopulationItem,
    allocate_by_worker,
    draw_sample,
    new_seed,
    population_sha256,
    sample_pass_rate,
    verify_draw,
)

SEED = "2024Q1-spot-check"


def make_population(records_per_worker: dict[str, int], flagged: set[int] = frozenset(),
                    targeted: set[int] = frozenset()) -> list[PopulationItem]:
    """Records numbered from 1, worker by worker in the order given."""
    population = []
    for worker, count in records_per_worker.items():
        for _ in range(count):
            record_id = len(population) + 1
            population.append(PopulationItem(record_id, worker, record_id in flagged,
                                              record_id in targeted))
    return population


def smallest_sha256_keys(seed: str, record_ids: list[int], k: int) -> list[int]:
    """The documented selection, written independently: the k smallest SHA-256 draw keys."""
    digest = hashlib.sha256(b"\n".join(str(i).encode() for i in sorted(record_ids))).hexdigest()
    ranked = sorted(record_ids,
                    key=lambda i: hashlib.sha256(f"{seed}|{digest}|{i}".encode()).digest())
    return ranked[:k]


def test_population_hash_is_sha256_of_sorted_decimal_ids_joined_by_newlines():
    assert population_sha256([10, 2, 1]) == hashlib.sha256(b"1\n2\n10").hexdigest()
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert population_sha256([]) == empty


def test_population_hash_does_not_depend_on_the_order_ids_come_in():
    assert population_sha256([3, 1, 2]) == population_sha256((1, 2, 3))


@pytest.mark.parametrize("ids", [[1, 2, 2], [1, "2"], [1, 2.0], [True]])
def test_population_hash_refuses_duplicates_and_non_integers(ids):
    with pytest.raises(ValueError):
        population_sha256(ids)


def test_new_seed_is_128_random_bits_in_hex():
    seeds = {new_seed() for _ in range(20)}
    assert len(seeds) == 20
    assert all(len(seed) == 32 and int(seed, 16) >= 0 for seed in seeds)


def test_the_same_seed_and_population_give_the_same_draw_whatever_the_input_order():
    population = make_population({"W01": 40, "W02": 25, "W03": 12}, flagged={3, 30, 50})
    shuffled = population[:]
    random.Random(7).shuffle(shuffled)
    params = DrawParams(risk_weighted=True)
    assert draw_sample(population, params, SEED) == draw_sample(shuffled, params, SEED)


def test_a_different_seed_gives_a_different_draw():
    population = make_population({"W01": 200})
    first = draw_sample(population, DrawParams(), "seed-a")
    second = draw_sample(population, DrawParams(), "seed-b")
    assert first.record_ids != second.record_ids


def test_a_pinned_draw_never_changes_so_past_draws_keep_verifying():
    draw = draw_sample(make_population({"W01": 50}), DrawParams(), "golden")
    assert draw.record_ids == (3, 10, 27, 29, 44)


def test_the_draw_takes_the_smallest_sha256_keys_as_documented():
    population = make_population({"W01": 120})
    draw = draw_sample(population, DrawParams(), SEED)
    expected = smallest_sha256_keys(SEED, [item.record_id for item in population], 6)
    assert draw.record_ids == tuple(sorted(expected))


def test_share_rule_draws_five_percent_and_checks_every_worker():
    population = make_population({"W01": 100, "W02": 60, "W03": 30, "W04": 10})
    draw = draw_sample(population, DrawParams(), SEED)
    assert draw.plan.n == 10 and draw.stratum("random").sample == 10
    assert {item.worker for item in draw.items} == {"W01", "W02", "W03", "W04"}
    assert [(w.name, w.population, w.sample) for w in draw.workers] == [
        ("W01", 100, 5), ("W02", 60, 3), ("W03", 30, 1), ("W04", 10, 1)]


def test_a_sample_smaller_than_the_number_of_workers_is_raised_to_it_and_says_so():
    population = make_population({f"W{i:02}": 3 for i in range(1, 11)})
    draw = draw_sample(population, DrawParams(), SEED)
    assert draw.plan.n == 5
    assert draw.stratum("random").sample == 10
    assert all(w.sample == 1 for w in draw.workers)
    assert any("已提高到 10 条" in note for note in draw.notes)


def test_iso_rule_draws_the_plans_sample_size_from_the_random_stratum():
    population = make_population({"W01": 1200, "W02": 800, "W03": 400})
    draw = draw_sample(population, DrawParams(rule="iso2859", aql="2.5"), SEED)
    assert (draw.plan.code_letter, draw.plan.n, draw.plan.ac) == ("K", 125, 7)
    assert len(draw.items) == 125
    assert [w.sample for w in draw.workers] == [62, 42, 21]  # 62.5, 41.67, 20.83


def test_hypergeometric_rule_draws_the_plans_sample_size():
    draw = draw_sample(make_population({"W01": 600, "W02": 400}),
                       DrawParams(rule="hypergeometric"), SEED)
    assert draw.plan.kind == "hypergeometric" and draw.plan.n == 22
    assert len(draw.items) == 22


def test_targeted_records_are_all_drawn_apart_from_the_random_stratum():
    population = make_population({"W01": 100, "W02": 100}, targeted={101, 102, 103})
    draw = draw_sample(population, DrawParams(), SEED)
    targeted = [item for item in draw.items if item.stratum == "targeted"]
    assert [item.record_id for item in targeted] == [101, 102, 103]
    assert draw.stratum("targeted").population == 3
    assert draw.stratum("random").population == 197 and draw.plan.lot_size == 197
    assert draw.items[:3] == tuple(targeted)


def test_without_risk_weighting_flagged_records_are_part_of_the_random_stratum():
    population = make_population({"W01": 100}, flagged=set(range(1, 21)))
    draw = draw_sample(population, DrawParams(), SEED)
    assert draw.stratum("flagged").population == 0
    assert draw.stratum("random").population == 100


def test_risk_weighting_draws_flagged_records_at_three_times_the_base_rate():
    population = make_population({"W01": 120, "W02": 80, "W03": 20}, flagged=set(range(1, 21)))
    draw = draw_sample(population, DrawParams(risk_weighted=True), SEED)
    assert draw.stratum("random").population == 200 and draw.stratum("random").sample == 10
    flagged = draw.stratum("flagged")
    assert (flagged.population, flagged.sample) == (20, 3)  # ceil(3 × 10/200 × 20)
    assert all(item.record_id <= 20 for item in draw.items if item.stratum == "flagged")
    assert any("异常标记记录 20 条" in note for note in draw.notes)


@pytest.mark.parametrize(("params", "sample"), [
    (DrawParams(risk_weighted=True, flagged_share="0.5"), 10),
    (DrawParams(risk_weighted=True, flagged_multiplier="100"), 20),
    (DrawParams(risk_weighted=True, flagged_multiplier="1"), 1),
])
def test_the_flagged_rate_is_a_parameter_and_never_exceeds_all(params, sample):
    population = make_population({"W01": 200}, flagged=set(range(1, 21)))
    assert draw_sample(population, params, SEED).stratum("flagged").sample == sample


def test_items_come_targeted_then_flagged_then_random_each_by_record_id():
    population = make_population({"W02": 150, "W01": 150}, flagged=set(range(1, 31)),
                                 targeted={299, 300})
    draw = draw_sample(population, DrawParams(risk_weighted=True), SEED)
    order = {"targeted": 0, "flagged": 1, "random": 2}
    assert list(draw.items) == sorted(draw.items, key=lambda i: (order[i.stratum], i.record_id))
    assert {item.stratum for item in draw.items} == set(order)


def test_an_empty_population_draws_nothing():
    draw = draw_sample([], DrawParams(), SEED)
    assert draw.items == () and draw.plan is None
    assert draw.population_sha256 == population_sha256([])


def test_a_population_of_flagged_records_only_uses_the_plan_rate_as_base():
    population = make_population({"W01": 100}, flagged=set(range(1, 101)))
    draw = draw_sample(population, DrawParams(risk_weighted=True), SEED)
    assert draw.plan is None
    assert draw.stratum("flagged").sample == 15  # 3 × 5 %


@pytest.mark.parametrize("seed", ["", None])
def test_a_draw_needs_a_seed(seed):
    with pytest.raises(ValueError):
        draw_sample(make_population({"W01": 10}), DrawParams(), seed)


def test_a_record_without_a_worker_is_refused():
    with pytest.raises(ValueError):
        draw_sample([PopulationItem(1, "")], DrawParams(), SEED)


@pytest.mark.parametrize("kwargs", [
    {"rule": "lottery"}, {"rule": "iso2859"}, {"rule": "iso2859", "aql": "3"}, {"share": "0"},
    {"flagged_share": "2"}, {"flagged_multiplier": "0.5"},
])
def test_draw_params_refuse_unknown_rules_and_bad_rates(kwargs):
    with pytest.raises(ValueError):
        DrawParams(**kwargs)


@pytest.mark.parametrize(("counts", "n", "expected"), [
    ({"a": 50, "b": 30, "c": 20}, 10, {"a": 5, "b": 3, "c": 2}),
    ({"a": 97, "b": 1, "c": 1, "d": 1}, 10, {"a": 7, "b": 1, "c": 1, "d": 1}),
    ({"a": 5, "b": 5, "c": 5}, 4, {"a": 2, "b": 1, "c": 1}),
    ({"b": 2, "a": 2}, 4, {"a": 2, "b": 2}),
    ({"a": 10, "b": 1}, 2, {"a": 1, "b": 1}),
])
def test_allocation_is_proportional_with_largest_remainders_and_one_each(counts, n, expected):
    assert allocate_by_worker(counts, n) == expected


def test_allocation_always_adds_up_and_stays_within_each_workers_records():
    rng = random.Random(3)
    for _ in range(300):
        counts = {f"W{i}": rng.randint(1, 60) for i in range(rng.randint(1, 12))}
        n = rng.randint(len(counts), sum(counts.values()))
        allocation = allocate_by_worker(counts, n)
        assert sum(allocation.values()) == n
        assert all(1 <= allocation[w] <= counts[w] for w in counts)


@pytest.mark.parametrize("n", [1, 31])
def test_allocation_refuses_a_sample_below_the_workers_or_above_the_records(n):
    with pytest.raises(ValueError):
        allocate_by_worker({"a": 10, "b": 10, "c": 10}, n)


def stored_draw(population, params, seed=SEED):
    draw = draw_sample(population, params, seed)
    return draw.population_sha256, [(item.record_id, item.stratum) for item in draw.items]


def test_verification_confirms_an_unchanged_draw():
    population = make_population({"W01": 80, "W02": 40}, flagged={5, 6, 7}, targeted={100})
    params = DrawParams(risk_weighted=True)
    population_hash, items = stored_draw(population, params)
    result = verify_draw(population, params, SEED, population_hash, items)
    assert result.matches and result.population_matches
    assert result.missing_items == () and result.unexpected_items == ()
    assert result.messages[0].startswith("复核一致")


def test_verification_accepts_stored_drawn_items():
    population = make_population({"W01": 80})
    draw = draw_sample(population, DrawParams(), SEED)
    assert verify_draw(population, DrawParams(), SEED, draw.population_sha256, draw.items).matches


def test_verification_names_the_items_that_differ():
    population = make_population({"W01": 80})
    population_hash, items = stored_draw(population, DrawParams())
    tampered = items[1:] + [(999, "random")]
    result = verify_draw(population, DrawParams(), SEED, population_hash, tampered)
    assert not result.matches and result.population_matches
    assert result.missing_items == ((999, "random"),)
    assert result.unexpected_items == (items[0],)
    assert "999（随机抽查）" in result.messages[0]


def test_verification_reports_a_changed_stratum_as_a_difference():
    population = make_population({"W01": 80})
    population_hash, items = stored_draw(population, DrawParams())
    relabelled = [(record_id, "flagged") for record_id, _ in items[:1]] + items[1:]
    result = verify_draw(population, DrawParams(), SEED, population_hash, relabelled)
    assert not result.matches
    assert result.missing_items == ((items[0][0], "flagged"),)


def test_verification_says_when_the_population_changed():
    population = make_population({"W01": 80})
    population_hash, items = stored_draw(population, DrawParams())
    grown = population + [PopulationItem(81, "W01")]
    result = verify_draw(grown, DrawParams(), SEED, population_hash, items)
    assert not result.matches and not result.population_matches
    assert result.recomputed_population_sha256 == population_sha256(range(1, 82))
    assert result.messages[0].startswith("总体哈希不一致")


def test_verification_with_the_wrong_seed_fails():
    population = make_population({"W01": 200})
    population_hash, items = stored_draw(population, DrawParams())
    assert not verify_draw(population, DrawParams(), "other", population_hash, items).matches


def test_pass_rate_of_a_draw_weights_worker_cells_and_the_flagged_stratum_and_skips_targeted():
    population = make_population({"W01": 100, "W02": 100}, flagged=set(range(1, 21)),
                                 targeted={200})
    draw = draw_sample(population, DrawParams(risk_weighted=True), SEED)
    verdicts = {item.record_id: item.stratum != "flagged" for item in draw.items}
    estimate = sample_pass_rate(draw, verdicts)
    assert draw.stratum("flagged").population == 20
    assert estimate.value == pytest.approx(179 / 199)  # every random record passes, flagged fail
    assert estimate.population == 199
    assert estimate.checked == len(draw.items) - 1


def test_pass_rate_needs_a_verdict_in_every_stratum():
    population = make_population({"W01": 100, "W02": 100})
    draw = draw_sample(population, DrawParams(), SEED)
    first_worker_only = {item.record_id: True for item in draw.items if item.worker == "W01"}
    with pytest.raises(ValueError):
        sample_pass_rate(draw, first_worker_only)


def test_risk_weighted_estimate_is_unbiased_where_the_pooled_rate_is_not():
    """Flagged records fail far more often; over many draws the stratified estimate averages
    to the true pass rate while the pooled share of passes in the sample stays low."""
    rng = random.Random(2024)
    population = make_population({"W01": 150, "W02": 110, "W03": 80, "W04": 60},
                                 flagged=set(range(1, 401, 7)))
    passes = {item.record_id: rng.random() < (0.5 if item.flagged else 0.95) for item in population}
    true_rate = sum(passes.values()) / len(population)
    params = DrawParams(risk_weighted=True, share=Decimal("0.05"))
    estimates, pooled = [], []
    for draw_number in range(2000):
        draw = draw_sample(population, params, f"simulation-{draw_number}")
        verdicts = {item.record_id: passes[item.record_id] for item in draw.items}
        estimates.append(sample_pass_rate(draw, verdicts).value)
        pooled.append(sum(verdicts.values()) / len(verdicts))
    mean_estimate = sum(estimates) / len(estimates)
    mean_pooled = sum(pooled) / len(pooled)
    assert mean_estimate == pytest.approx(true_rate, abs=0.004)
    assert true_rate - mean_pooled > 0.05
