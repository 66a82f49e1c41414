package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code unmask} command line. */
@Command(name = "unmask", mixinStandardHelpOptions = true, version = "unmask 0.1.0",
        description = "Train, compare, sweep and ship unmasking policies for masked diffusion LMs.",
        subcommands = {QuickstartCommand.class, DllmCommand.class, TrainCommand.class, GridCommand.Eval.class, GridCommand.SweepCmd.class,
                MergeCommand.class, ProgressCommand.class, CompareCommand.class,
                ReportCommand.class, FigureCommand.class, CostsCommand.class, FindingsCommand.class, ReproduceCommand.class, BenchCommand.class, ExportCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static final int USAGE_ERROR = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (try 'unmask --help')");
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, args) -> {
            System.err.println("unmask: usage error: " + ex.getMessage().split("\n")[0]);
            return USAGE_ERROR;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            Throwable t = ex;
            while (!(t instanceof UnmaskException) && t.getCause() != null) t = t.getCause();
            if (t instanceof UnmaskException) {
                System.err.println("unmask: error: " + t.getMessage().split("\n")[0]);
                return USAGE_ERROR;
            }
            throw ex;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
