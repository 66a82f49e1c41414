/**
 * The policy as ONNX: the export (with the policy's provenance and decoding contract in its
 * metadata), and running an export through ONNX Runtime without ND4J, behind {@code UnmaskPolicy}
 * ({@link dev.unmask.policy.onnx.OnnxPolicy}) or as the once-per-step call of an inference engine
 * ({@link dev.unmask.policy.onnx.PolicySampler}).
 */
package dev.unmask.policy.onnx;
