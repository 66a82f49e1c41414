/**
 * The hand-made unmasking rules of the spec (random, top-k by confidence, margin or entropy with a step
 * budget, confidence threshold, factor rule, EB-Sampler, KLASS) behind {@code UnmaskPolicy}, and the
 * spec strings that name them ({@code threshold:tau=0.9}).
 */
package dev.unmask.heuristics;
