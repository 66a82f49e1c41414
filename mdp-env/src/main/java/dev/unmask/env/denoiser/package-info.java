/**
 * What a masked dLLM is to the rest of the project: the {@link dev.unmask.env.denoiser.Denoiser}
 * interface (one forward pass per call), the per-position statistics it returns (top-1 token, its
 * probability, the runner-up's, entropy) and the vocabulary with its mask, EOS and padding ids.
 */
package dev.unmask.env.denoiser;
