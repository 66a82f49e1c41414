package dev.unmask.env.task;

/**
 * One task instance. {@code prompt} includes the task token and, for most tasks, ends with '=' (lag5's answer continues its start digits); {@code answer} is
 * the reference answer text (without padding); {@code key} identifies the instance for the split.
 */
public record Example(String task, String key, String prompt, String answer) {
}
