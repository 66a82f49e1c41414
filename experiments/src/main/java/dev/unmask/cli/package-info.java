/**
 * The {@code unmask} command line (picocli): a thin class per command that parses options (shared
 * blocks as mixins), calls {@code dev.unmask.runs} and prints. {@code Main} turns a usage error or an
 * {@code UnmaskException} into one line on stderr and exit status 2.
 */
package dev.unmask.cli;
