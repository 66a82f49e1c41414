/**
 * The unmasking MDP: a batch of prompts decoded step by step in semi-AR blocks or full diffusion,
 * what a policy observes at each step, the {@code UnmaskPolicy} interface every rule and learned policy
 * implements, the reward and the episode outcome (RL4J's view of it lives in the rollout module).
 */
package dev.unmask.env.mdp;
