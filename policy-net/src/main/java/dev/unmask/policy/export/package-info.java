/**
 * A trained policy outside the project: ONNX and safetensors exports (with the policy's provenance), and
 * running an ONNX export through ONNX Runtime without ND4J, behind {@code UnmaskPolicy}
 * ({@code OnnxPolicy}) or as the once-per-step call of an inference engine ({@code PolicySampler}).
 */
package dev.unmask.policy.export;
