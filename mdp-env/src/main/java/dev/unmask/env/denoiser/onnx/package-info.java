/**
 * Bring your own dLLM: a masked dLLM exported to ONNX plus a JSON descriptor becomes a
 * {@code Denoiser} through ONNX Runtime; the ONNX export of the built-in model, the graph-building
 * helpers shared with the policy export, HuggingFace tokenizers, and {@code Denoisers.load}, which opens
 * either kind of dLLM from a path.
 */
package dev.unmask.env.denoiser.onnx;
