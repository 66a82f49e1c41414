/**
 * Numeric building blocks with native libraries behind them, shared by the dLLM and the policy
 * network: matrix products on off-heap floats (OpenBLAS through ND4J), Adam on flat off-heap
 * parameters, SameDiff's transformer layers in primitive ops, named-weight import and export, Adam
 * with a checkpointable state, and a guard for SameDiff's stdout chatter. The plain-Java row kernels
 * are in the {@code kernels} module.
 */
package dev.unmask.nn;
