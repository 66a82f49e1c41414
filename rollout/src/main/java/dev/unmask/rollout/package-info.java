/**
 * Training a policy against a frozen dLLM: batched rollouts that record each decision with its exact
 * log-probability, GRPO and PPO advantages, the clipped-surrogate loss, the training config, and the
 * trainer with its resumable state.
 */
package dev.unmask.rollout;
