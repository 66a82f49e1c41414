"""dllm-t7's logits on four ducci test prompts with a masked buffer: PyTorch against ONNX Runtime's (LogitsJava.java),
and the confidences computed in PyTorch from either logits against ONNX Runtime's."""
import sys

import numpy as np
import torch

sys.path.insert(0, "python")
from unmask_torch import BuiltinDllm  # noqa: E402
from unmask_torch.sampler import prompts_tensor  # noqa: E402
from unmask_torch.statistics import statistics_from_logits  # noqa: E402
from unmask_torch.tasks import task_by_name  # noqa: E402

out = sys.argv[1]
d = BuiltinDllm("models/dllm-t7")
prompts = prompts_tensor([d.vocab.encode(e.prompt) for e in task_by_name("ducci").dataset("test", 1, 4)])
x = torch.cat([prompts, torch.full((4, 128), d.vocab.mask_id)], 1)
mine = d(x)
java = torch.from_numpy(np.fromfile(out + "/java-logits.bin", dtype="<f4").reshape(mine.shape))
conf = torch.from_numpy(np.fromfile(out + "/java-conf.bin", dtype="<f4").reshape(4, -1))
p = prompts.shape[1]
print(f"logits bit-equal: {float((mine == java).float().mean()):.3f}, largest difference {float((mine - java).abs().max()):.2g}")
for name, logits in [("PyTorch", mine), ("ONNX Runtime", java)]:
    s = statistics_from_logits(logits[:, p:], d.vocab.mask_id)
    print(f"confidence from {name} logits, bit-equal to ONNX Runtime's: {float((s.confidence == conf[:, p:]).float().mean()):.3f}")
