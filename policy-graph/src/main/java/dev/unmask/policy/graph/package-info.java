/**
 * The policy network as a SameDiff graph: what the trainers differentiate and the evaluations run,
 * so that committed learned rows replay bit for bit. The same network in plain Java is
 * {@code policy-net}'s {@link dev.unmask.policy.JavaPolicyNet}.
 */
package dev.unmask.policy.graph;
