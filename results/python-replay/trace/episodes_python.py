"""Per episode: the knob row of results/frontier/test-ducci-dllm-t7-front as first run (on ONNX Runtime) decoded in PyTorch against the
per-episode NFE that EpisodesJava.java wrote (usage in README.md). Prints every episode that differs."""
import sys, torch
sys.path.insert(0, 'python')
from unmask_torch import BuiltinDllm, load_checkpoint, generate
from unmask_torch.sampler import prompts_tensor
from unmask_torch.tasks import task_by_name, answer_text
dllm = BuiltinDllm('models/dllm-t7')
pol = load_checkpoint('results/frontier/attempt-ducci-t7-knob/policy', knob=float(sys.argv[1]))
task = task_by_name('ducci'); ex = task.dataset('test', 1, 1000)
java = [l.split() for l in open(sys.argv[2])]
for s in range(0, 1000, 64):
    ch = ex[s:s+64]
    p = prompts_tensor([dllm.vocab.encode(e.prompt) for e in ch])
    out = generate(dllm, p, gen_length=128, block_length=128, policy=pol, mask_id=1, eos_id=2, seed=1+s)
    for i in range(len(ch)):
        j = java[s+i]
        if int(j[0]) != int(out.nfe[i]) or int(j[2]) != int(out.fallbacks[i]):
            print('episode', s+i, ch[i].prompt, 'java nfe', j[0], 'fallbacks', j[2], '| python nfe', int(out.nfe[i]), 'fallbacks', int(out.fallbacks[i]), flush=True)
print('done')
