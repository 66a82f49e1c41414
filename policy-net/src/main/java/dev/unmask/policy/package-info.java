/**
 * The learned unmasking policy without native libraries: features and window, the network behind
 * {@link dev.unmask.policy.PolicyModel} (plain Java: {@link dev.unmask.policy.JavaPolicyNet}; SameDiff:
 * {@code policy-graph}), its config, the Bernoulli decision with its fallback, checkpoints and provenance.
 */
package dev.unmask.policy;
