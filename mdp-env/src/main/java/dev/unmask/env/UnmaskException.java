package dev.unmask.env;

/**
 * A problem the user can fix (bad input, a corrupt file, a wrong flag). Its message is one line
 * that names the problem; the command line prints it and exits non-zero, without a stack trace.
 */
public class UnmaskException extends RuntimeException {
    public UnmaskException(String message) {
        super(message);
    }

    public UnmaskException(String message, Throwable cause) {
        super(message, cause);
    }
}
