/**
 * The learned unmasking policy: its per-position features, the one-layer transformer network (SameDiff)
 * and its config, the Bernoulli decision rule with its fallback, the policy behind {@code UnmaskPolicy},
 * and its checkpoint folder with the provenance of a trained policy.
 */
package dev.unmask.policy;
