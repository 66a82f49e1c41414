/**
 * The verifiable tasks (arithmetic traces, sorting, 4x4 Sudoku, Euclid's algorithm, the digit-square
 * map, reverse-and-add): seeded prompt generators, answer parsers and exact verifiers, looked up by
 * name, with train, validation and test splits disjoint by construction;
 * {@link dev.unmask.env.task.LengthStats} measures how much of an answer's length its prompt gives away.
 */
package dev.unmask.env.task;
