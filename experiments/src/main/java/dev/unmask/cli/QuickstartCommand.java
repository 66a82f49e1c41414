package dev.unmask.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "The main job, end to end on the shipped dLLM.")
final class QuickstartCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new dev.unmask.env.UnmaskException("quickstart is not built yet");
    }
}
