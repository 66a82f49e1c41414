"""Hand-built observations for rule tests."""
import torch

from unmask_torch.java_random import SplittableRandom
from unmask_torch.sampler import Observation


def observation(conf, eligible=None, masked=None, entropy=None, top2=None, block_length=None, step_in_block=0,
                masked_at_block_start=None, step=0, eos_id=None, top1=None, seed=0):
    conf = torch.tensor([conf], dtype=torch.float32)
    length = conf.shape[1]
    masked_t = torch.tensor([masked if masked is not None else [True] * length])
    eligible_t = torch.tensor([eligible if eligible is not None else [True] * length]) & masked_t
    nan = torch.tensor(float("nan"))
    ent = torch.tensor([entropy], dtype=torch.float32) if entropy is not None else torch.zeros(1, length)
    t2 = torch.tensor([top2], dtype=torch.float32) if top2 is not None else torch.zeros(1, length)
    bl = block_length or length
    return Observation(
        confidence=torch.where(masked_t, conf, nan), top2_prob=torch.where(masked_t, t2, nan),
        entropy=torch.where(masked_t, ent, nan),
        top1=torch.tensor([top1 if top1 is not None else [3] * length]), masked=masked_t, eligible=eligible_t,
        block_start=torch.tensor([0]), block_length=bl, gen_length=length, step_in_block=torch.tensor([step_in_block]),
        masked_at_block_start=torch.tensor([masked_at_block_start if masked_at_block_start is not None else bl]),
        step=torch.tensor([step]), rngs=[SplittableRandom(seed)], row_ids=torch.tensor([0]), vocab_size=24, eos_id=eos_id)


def chosen(mask: torch.Tensor) -> list[int]:
    return mask[0].nonzero().squeeze(1).tolist()
