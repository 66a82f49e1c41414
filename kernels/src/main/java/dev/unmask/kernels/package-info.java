/**
 * Float kernels in plain Java, shared by the built-in dLLM's fast engine and trainer and by the
 * policy's fast update and forward: vectorizable exp, softmax, sums ({@link dev.unmask.kernels.FloatKernels})
 * and the transformer's row kernels ({@link dev.unmask.kernels.TransformerKernels}). No dependency,
 * no native library.
 */
package dev.unmask.kernels;
