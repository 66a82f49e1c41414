/**
 * Training a policy against a frozen dLLM: batched rollouts that record each decision with its exact
 * log-probability, GRPO and PPO advantages, the clipped-surrogate loss, the training config, the
 * resumable trainer, and the environment as an RL4J {@code MDP}.
 */
package dev.unmask.rollout;
