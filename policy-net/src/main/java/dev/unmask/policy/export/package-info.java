/**
 * A trained policy outside the project, without a native library: the safetensors export with its
 * policy-spec.json and the decoding contract (dLLM ids, features, knob range, trained lengths) that
 * every export carries. The ONNX export and its ONNX Runtime path are in {@code policy-graph}'s
 * {@code dev.unmask.policy.onnx}.
 */
package dev.unmask.policy.export;
