/**
 * The verifiable tasks (arithmetic traces, sorting, 4x4 Sudoku): seeded prompt generators, answer
 * parsers and exact verifiers, looked up by name, with train and test splits disjoint by construction.
 */
package dev.unmask.env.task;
