"""Episode 397 of the ducci knob-0 row (index 13 of the batch of test prompts 384-447) step by step in PyTorch:
what it unmasks, policy logits within 0.05 of 0, and at step 6 the float32 bits of every masked confidence."""
import sys, torch
sys.path.insert(0, 'python')
from unmask_torch import BuiltinDllm, load_checkpoint, generate
from unmask_torch.policy import feature_values
from unmask_torch.sampler import prompts_tensor
from unmask_torch.tasks import task_by_name
dllm = BuiltinDllm('models/dllm-t7')
pol = load_checkpoint('results/frontier/attempt-ducci-t7-knob/policy', knob=0.0)
ex = task_by_name('ducci').dataset('test', 1, 1000)[384:448]
class Tracing:
    def select(self, obs):
        take = pol.select(obs)
        r = [i for i in range(obs.rows) if int(obs.row_ids[i]) == 13]
        if r:
            r = r[0]
            f, e = feature_values(pol.features, obs, 0.0, True)
            lg = pol.logits(f, e)[r]
            el = e[r]
            near = [(j, float(lg[j]), float(obs.confidence[r, j])) for j in range(128) if el[j] and abs(float(lg[j])) < 0.05]
            print('step', int(obs.step[r]) + 1, 'takes', take[r].nonzero().squeeze(1).tolist(), 'near 0:', near)
            if int(obs.step[r]) == 5:
                import struct
                print('conf:' + ''.join(' %d=%d' % (j, struct.unpack('<i', struct.pack('<f', float(obs.confidence[r, j])))[0]) for j in range(128) if obs.masked[r, j]))
        return take
p = prompts_tensor([dllm.vocab.encode(e.prompt) for e in ex])
out = generate(dllm, p, gen_length=128, block_length=128, policy=Tracing(), mask_id=1, eos_id=2, seed=385)
print('nfe', int(out.nfe[13]))
