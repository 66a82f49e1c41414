/**
 * Evaluation of a policy on held-out prompts: batched decoding under the policy and the summary row
 * (accuracy with its Wilson interval, NFE percentiles, tokens per step, reward) that every results table
 * is made of.
 */
package dev.unmask.env.eval;
