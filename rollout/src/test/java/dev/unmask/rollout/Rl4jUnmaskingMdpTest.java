package dev.unmask.rollout;

import dev.unmask.env.FakeDenoiser;
import dev.unmask.env.mdp.EpisodeResult;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The environment as RL4J sees it: an MDP whose observations are per-position features and whose actions unmask. */
class Rl4jUnmaskingMdpTest {
    private final Task task = Tasks.byName("sort");
    private final List<Example> examples = task.dataset(Split.TEST, 4, 12);

    @Test
    void rl4jMdpDrivesAFullEpisode() {
        Rl4jUnmaskingMdp mdp = new Rl4jUnmaskingMdp(new FakeDenoiser(task, examples, 32), task, 32, 8, examples, 3);
        assertArrayEquals(new int[]{32, Rl4jUnmaskingMdp.FEATURES}, mdp.getObservationSpace().getShape());
        var obs = mdp.reset();
        assertEquals(1.0, obs.getData().getDouble(0, 2), "position 0 is eligible");
        assertEquals(0.0, obs.getData().getDouble(8, 2), "position 8 is in the next block");
        int steps = 0;
        double total = 0;
        while (!mdp.isDone()) {
            var reply = mdp.step(steps % 2 == 0 ? mdp.getActionSpace().noOp() : mdp.getActionSpace().randomAction());
            total += reply.getReward();
            steps++;
        }
        EpisodeResult r = mdp.lastEpisode();
        assertEquals(steps, r.nfe());
        assertTrue(r.correct());
        assertEquals(r.reward(), total, 1e-12);
        assertTrue(steps < 32, "random actions unmask several positions at once");
        assertNotNull(mdp.newInstance().reset());
    }
}
