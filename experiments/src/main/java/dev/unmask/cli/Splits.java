package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.task.Split;
import picocli.CommandLine;

/** Reads --split: train, validation (val) or test; a bad value is a one-line usage error. */
final class Splits implements CommandLine.ITypeConverter<Split> {
    @Override
    public Split convert(String value) {
        try {
            return Split.parse(value);
        } catch (UnmaskException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
