/**
 * The project's own dLLM: a bidirectional masked-diffusion transformer (SameDiff graph and the
 * hand-written fast forward with its key/value cache), its configs, its resumable trainer and its
 * checkpoint folder.
 */
package dev.unmask.dllm;
