import math

import torch

from unmask_torch.statistics import statistics_from_logits


def test_confidence_excludes_the_mask_token_but_the_softmax_and_entropy_include_it():
    # vocabulary: 0 pad, 1 mask, 2 eos, 3 a; the mask has the highest logit
    logits = torch.tensor([[[0.0, 3.0, 1.0, 2.0]]])
    s = statistics_from_logits(logits, mask_id=1)
    p = torch.softmax(logits[0, 0], -1)
    assert s.top1.item() == 3, "never the mask token"
    assert s.confidence.item() == p[3].item(), "p over the whole vocabulary, mask included"
    assert s.top2_prob.item() == p[2].item()
    assert abs(s.entropy.item() - float(-(p * p.log()).sum())) < 1e-6


def test_ties_go_to_the_lower_id_and_a_lone_token_has_no_second_choice():
    s = statistics_from_logits(torch.tensor([[[0.0, 5.0, 1.0, 1.0]]]), mask_id=1)
    assert s.top1.item() == 2
    lone = statistics_from_logits(torch.tensor([[[0.0, 1.0]]]), mask_id=1)
    assert lone.top1.item() == 0 and lone.top2_prob.item() == 0.0
    assert abs(statistics_from_logits(torch.zeros(1, 1, 24), None).entropy.item() - math.log(24)) < 1e-5
