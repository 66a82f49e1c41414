/**
 * What a dLLM can compute, measured without a decoding policy: the step probe (one forward pass per
 * answer step, given the reference around it) and the first pass's end-of-sequence belief.
 */
package dev.unmask.runs.probe;
