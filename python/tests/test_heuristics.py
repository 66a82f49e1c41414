import torch

from helpers import chosen, observation
from unmask_torch.heuristics import (Entropy, EntropyBounded, Factor, Frontier, Margin, Threshold, TopK,
                                     parse_heuristic)

F32_09 = float(torch.tensor(0.9, dtype=torch.float32))


def test_threshold_takes_every_eligible_position_at_or_above_tau_in_float32():
    obs = observation([0.95, F32_09, 0.5, 0.99], eligible=[True, True, True, False])
    assert chosen(Threshold(0.9).select(obs)) == [0, 1], "0.9f passes tau = 0.9; position 3 is not eligible"


def test_threshold_always_takes_the_most_confident_lowest_position_on_ties():
    assert chosen(Threshold(0.9).select(observation([0.3, 0.6, 0.6, 0.1]))) == [1]


def test_factor_accepts_the_ranking_prefix_while_c_m_is_at_least_1_minus_f_over_m_plus_1():
    # ranking 1 (0.8), 2 (0.7), 0 (0.6): rank 2 needs 1 - 1/3, rank 3 needs 1 - 1/4
    assert chosen(Factor(1.0).select(observation([0.6, 0.8, 0.7, 0.4]))) == [1, 2]
    assert chosen(Factor(0.1).select(observation([0.6, 0.8, 0.7, 0.4]))) == [1], "the top one always"


def test_eb_takes_the_lowest_entropies_while_their_sum_minus_the_largest_stays_within_gamma():
    obs = observation([0.5] * 4, entropy=[0.1, 0.2, 0.05, 0.9])
    assert chosen(EntropyBounded(0.3).select(obs)) == [0, 1, 2]
    assert chosen(EntropyBounded(0.04).select(obs)) == [2], "the second would add the first's 0.05 (its own is the maximum, not counted)"
    assert chosen(EntropyBounded(0.06).select(obs)) == [0, 2]


def test_topk_follows_lladas_schedule_and_spends_the_block_at_its_last_step():
    conf = [0.1, 0.9, 0.3, 0.8, 0.2, 0.7, 0.4, 0.6]
    assert chosen(TopK(4).select(observation(conf))) == [1, 3], "8 masked over 4 steps: 2 a step, the most confident"
    assert chosen(TopK(3).select(observation(conf))) == [1, 3, 5], "8 over 3: 3, 3, 2"
    last = observation(conf, eligible=[True] * 3 + [False] * 5, step_in_block=3)
    assert chosen(TopK(4).select(last)) == [0, 1, 2], "the last step of the budget takes what is left"


def test_margin_and_entropy_rank_by_their_own_scores():
    obs = observation([0.5, 0.6, 0.7, 0.8], top2=[0.1, 0.5, 0.2, 0.75], entropy=[0.9, 0.1, 0.5, 0.3])
    assert chosen(Margin(4).select(obs)) == [2], "margins 0.4, 0.1, 0.5, 0.05"
    assert chosen(Entropy(4).select(obs)) == [1]


def test_frontier_raises_the_bar_with_the_masked_positions_to_the_left():
    # tau 0.5 (log-odds 0), slope 8 over L = 4: the bar at position i is 2 * (masked before i)
    obs = observation([0.55, 0.95, 0.999, 0.6])
    assert chosen(Frontier(0.5, 8.0).select(obs)) == [0, 1, 2]
    obs = observation([0.55, 0.8, 0.9, 0.999])
    assert chosen(Frontier(0.5, 8.0).select(obs)) == [0, 3]


def test_specs_parse_as_in_java():
    assert isinstance(parse_heuristic("threshold:tau=0.7"), Threshold)
    assert parse_heuristic("topk").steps == 64
    assert parse_heuristic("klass:conf=0.9,kl=0.01,history=2,steps=16").kl_history == 2
    assert parse_heuristic("frontier:tau=0.99,slope=12,fallback=1") is None, "the nearest-bar fallback is not ported"


def test_klass_takes_confident_positions_whose_distribution_held_still_else_the_schedule():
    import math
    from unmask_torch.heuristics import Klass
    obs = observation([0.95, 0.97, 0.5, 0.99])
    nan = math.nan
    obs.recent_kl = torch.tensor([[[0.001, 0.002], [0.05, 0.001], [0.0, 0.0], [0.001, nan]]])
    assert chosen(Klass(0.9, 0.01, 2, 4).select(obs)) == [0], "1 moved too much, 2 is not confident, 3 was not seen often enough"
    obs.recent_kl = torch.full((1, 4, 2), nan)
    assert chosen(Klass(0.9, 0.01, 2, 4).select(obs)) == [3], "none ready: the top-k schedule (4 masked over 4 steps: one)"
