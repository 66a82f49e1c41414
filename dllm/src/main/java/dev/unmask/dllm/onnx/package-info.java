/**
 * A dLLM in ONNX Runtime: the built-in model's export and descriptor, the ONNX Runtime denoiser with
 * its statistics head, HuggingFace tokenizers for a foreign dLLM, and {@code Denoisers}, the engine
 * factory that opens either kind of dLLM from a path.
 */
package dev.unmask.dllm.onnx;
