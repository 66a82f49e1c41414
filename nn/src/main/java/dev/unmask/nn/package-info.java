/**
 * Numeric building blocks shared by the dLLM and the policy network: the hand-written float kernels
 * (LayerNorm, GELU, attention, Adam) and SameDiff's transformer layers in primitive ops, named-weight
 * import and export, Adam with a checkpointable state, and a guard for SameDiff's stdout chatter.
 */
package dev.unmask.nn;
