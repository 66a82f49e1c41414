/**
 * The frozen dLLM as an environment for unmasking policies. This package holds only
 * {@link dev.unmask.env.UnmaskException}, the one-line user error every module throws; the subpackages
 * hold the dLLM interface, the models, the tasks, the MDP and the evaluator.
 */
package dev.unmask.env;
