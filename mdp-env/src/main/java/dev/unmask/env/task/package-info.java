/**
 * The verifiable tasks (arithmetic traces, sorting, 4x4 Sudoku, Euclid's algorithm, the digit-square
 * map): seeded prompt generators, answer parsers and exact verifiers, looked up by name, with train
 * and test splits disjoint by construction; {@link dev.unmask.env.task.LengthStats} measures how much
 * of an answer's length its prompt gives away.
 */
package dev.unmask.env.task;
