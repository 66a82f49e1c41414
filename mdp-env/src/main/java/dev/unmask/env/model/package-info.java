/**
 * The project's own dLLM: a bidirectional masked-diffusion transformer in SameDiff, its architecture
 * and training configs, its masked-diffusion trainer (resumable) and its checkpoint folder.
 */
package dev.unmask.env.model;
