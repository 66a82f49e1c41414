/**
 * SameDiff building blocks shared by the dLLM and the policy network: the transformer layers spelled out
 * in primitive ops (so exports compute the same), named-weight import and export, Adam with gradient
 * clipping and a checkpointable state, and a guard that silences SameDiff's stdout chatter.
 */
package dev.unmask.env.nn;
