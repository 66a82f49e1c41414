/**
 * The unmasking MDP: a batch of prompts decoded step by step in semi-AR blocks or full diffusion,
 * what a policy observes at each step, the {@code UnmaskPolicy} interface every rule and learned policy
 * implements, the reward, the episode outcome, and the same environment behind RL4J's {@code MDP}.
 */
package dev.unmask.env.mdp;
