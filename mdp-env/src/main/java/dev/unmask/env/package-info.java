/**
 * The frozen dLLM as an environment for unmasking policies. This package holds only
 * {@link dev.unmask.env.UnmaskException}, the one-line user error every module throws; the subpackages
 * hold the dLLM interface, the tasks, the MDP, the evaluator and file I/O (no native library).
 */
package dev.unmask.env;
