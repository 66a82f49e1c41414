/**
 * The speed measurements behind {@code unmask bench}, one class each, every one timed against the
 * Nd4j.gemm peak in the same process so the ratio holds on a noisy machine.
 */
package dev.unmask.runs.bench;
