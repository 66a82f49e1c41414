"""unmask_torch: unmasking policies for masked diffusion LMs in PyTorch engines.

* :class:`LearnedPolicy` loads a policy exported by ``unmask export --format safetensors``: the features,
  network and decision rule of docs/policy-format.md (on the same inputs, the Java side's decisions:
  ``python3 -m unmask_torch.conformance`` checks an export's test vectors);
* :func:`generate` is a reference sampler shaped like LLaDA's ``generate()`` for any masked LM;
* :mod:`unmask_torch.heuristics` holds the published rules behind the same interface;
* :class:`BuiltinDllm` runs the project's built-in dLLMs, :class:`FastEngineDllm` repeats the Java fast
  engine's arithmetic bit for bit, and ``python3 -m unmask_torch.replay`` replays a committed results folder with them.
"""
from .builtin_dllm import BuiltinDllm, Vocabulary
from .java_fast import FastEngineDllm, java_statistics
from .heuristics import EntropyBounded, Factor, Frontier, Klass, Margin, Entropy, Threshold, TopK, parse_heuristic
from .policy import LearnedPolicy, load_checkpoint
from .sampler import GenerateOutput, Observation, generate
from .statistics import DllmStatistics, statistics_from_logits

__all__ = ["BuiltinDllm", "FastEngineDllm", "java_statistics", "Vocabulary", "EntropyBounded", "Factor", "Frontier", "Klass", "Margin", "Entropy", "Threshold", "TopK",
           "parse_heuristic", "LearnedPolicy", "load_checkpoint", "GenerateOutput", "Observation", "generate",
           "DllmStatistics", "statistics_from_logits"]
__version__ = "0.1.0"
