/**
 * Numeric blocks with native libraries behind them: matrix products on off-heap floats (OpenBLAS via
 * ND4J), Adam on flat parameters, SameDiff's transformer layers, named-weight import and export, a
 * checkpointable Adam and a guard for SameDiff's stdout. Plain-Java row kernels: module {@code kernels}.
 */
package dev.unmask.nn;
