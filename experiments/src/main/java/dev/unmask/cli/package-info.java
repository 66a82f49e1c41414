/**
 * The {@code unmask} command line (picocli): a class per command (quickstart, dllm train/eval/probe,
 * train, export, report, reproduce, bench; eval and sweep share {@code GridCommand}). {@code Main}
 * turns a usage error or an {@code UnmaskException} into one line on stderr and exit status 2.
 */
package dev.unmask.cli;
