"""Engine adapters: the policy (or a published rule) inside engines that decode block by block.

``dinfer.PolicyParallelDecoder`` (dInfer) and ``sglang.UnmaskPolicyAlgorithm`` (SGLang) are written
against the engines' published interfaces (cited in each file) and tested against minimal stand-ins
of those base classes; neither engine can be installed in this project's CI, so they have not been
run inside the engines themselves. Both share :class:`BlockStepper`.
"""
from .block import BlockStepper, policy_from_config

__all__ = ["BlockStepper", "policy_from_config"]
