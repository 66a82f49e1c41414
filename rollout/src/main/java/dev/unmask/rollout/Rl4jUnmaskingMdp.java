package dev.unmask.rollout;

import dev.unmask.env.mdp.Reward;
import dev.unmask.env.mdp.EpisodeResult;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskingEnv;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Task;
import org.deeplearning4j.gym.StepReply;
import org.deeplearning4j.rl4j.mdp.MDP;
import org.deeplearning4j.rl4j.space.ActionSpace;
import org.deeplearning4j.rl4j.space.Encodable;
import org.deeplearning4j.rl4j.space.ObservationSpace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Random;

/**
 * The unmasking environment behind RL4J's {@link MDP} interface, one episode at a time, for users
 * who already have RL4J agents. The action is a boolean per buffer position (multi-binary); the
 * observation is [L, 5] per position: confidence (0 where unmasked), masked, eligible, position in
 * block / B, block index / number of blocks. The reward comes on the final step.
 * Each reset takes the next prompt of the list, cycling.
 */
public final class Rl4jUnmaskingMdp implements MDP<Rl4jUnmaskingMdp.Observation, boolean[], Rl4jUnmaskingMdp.MultiBinarySpace> {
    public static final int FEATURES = 5;

    private final Denoiser denoiser;
    private final Task task;
    private final int genLength, blockLength;
    private final List<Example> prompts;
    private final long seed;
    private final UnmaskingEnv env;
    private int next;
    private StepObservation current;
    private EpisodeResult last;

    public Rl4jUnmaskingMdp(Denoiser denoiser, Task task, int genLength, int blockLength, List<Example> prompts, long seed) {
        this.denoiser = denoiser;
        this.task = task;
        this.genLength = genLength;
        this.blockLength = blockLength;
        this.prompts = List.copyOf(prompts);
        this.seed = seed;
        this.env = new UnmaskingEnv(denoiser, task, genLength, blockLength, 0.0, Reward.DEFAULT);
    }

    /** An observation: the [L, 5] feature matrix of the single running episode. */
    public static final class Observation implements Encodable {
        private final INDArray data;

        Observation(INDArray data) {
            this.data = data;
        }

        @Override
        public double[] toArray() {
            return data.dup().data().asDouble();
        }

        @Override
        public boolean isSkipped() {
            return false;
        }

        @Override
        public INDArray getData() {
            return data;
        }

        @Override
        public Encodable dup() {
            return new Observation(data.dup());
        }
    }

    /** One Bernoulli per buffer position. */
    public final class MultiBinarySpace implements ActionSpace<boolean[]> {
        private final Random rng = new Random(seed);

        @Override
        public boolean[] randomAction() {
            boolean[] a = new boolean[genLength];
            if (current != null) for (int i = 0; i < genLength; i++) a[i] = current.eligible()[0][i] && rng.nextBoolean();
            return a;
        }

        @Override
        public Object encode(boolean[] action) {
            return action.clone();
        }

        @Override
        public int getSize() {
            return genLength;
        }

        /** Selects nothing: the environment's fallback then unmasks the most confident position. */
        @Override
        public boolean[] noOp() {
            return new boolean[genLength];
        }
    }

    private final MultiBinarySpace actionSpace = new MultiBinarySpace();

    @Override
    public ObservationSpace<Observation> getObservationSpace() {
        return new ObservationSpace<>() {
            @Override
            public String getName() {
                return "unmasking-features";
            }

            @Override
            public int[] getShape() {
                return new int[]{genLength, FEATURES};
            }

            @Override
            public INDArray getLow() {
                return Nd4j.zeros(genLength, FEATURES);
            }

            @Override
            public INDArray getHigh() {
                return Nd4j.ones(genLength, FEATURES);
            }
        };
    }

    @Override
    public MultiBinarySpace getActionSpace() {
        return actionSpace;
    }

    @Override
    public Observation reset() {
        Example e = prompts.get(next % prompts.size());
        env.reset(List.of(e), seed + next);
        next++;
        last = null;
        current = env.observe();
        return encode(current);
    }

    @Override
    public StepReply<Observation> step(boolean[] action) {
        if (current == null) throw new IllegalStateException("call reset() first");
        UnmaskingEnv.StepRecord rec = env.step(new boolean[][]{action});
        if (env.done()) {
            last = env.results().get(0);
            current = null;
            return new StepReply<>(new Observation(Nd4j.zeros(genLength, FEATURES)), last.reward(), true, last);
        }
        current = env.observe();
        return new StepReply<>(encode(current), 0.0, false, rec.fallback()[0] ? "fallback" : null);
    }

    @Override
    public boolean isDone() {
        return current == null;
    }

    /** The last finished episode (NFE, answer, correctness). */
    public EpisodeResult lastEpisode() {
        return last;
    }

    @Override
    public void close() {
    }

    @Override
    public MDP<Observation, boolean[], MultiBinarySpace> newInstance() {
        return new Rl4jUnmaskingMdp(denoiser, task, genLength, blockLength, prompts, seed);
    }

    private Observation encode(StepObservation o) {
        float[] f = new float[genLength * FEATURES];
        for (int i = 0; i < genLength; i++) {
            f[i * FEATURES] = o.masked()[0][i] ? o.confidence()[0][i] : 0f;
            f[i * FEATURES + 1] = o.masked()[0][i] ? 1f : 0f;
            f[i * FEATURES + 2] = o.eligible()[0][i] ? 1f : 0f;
            f[i * FEATURES + 3] = (float) (i % blockLength) / blockLength;
            f[i * FEATURES + 4] = (float) (i / blockLength) / o.numBlocks();
        }
        return new Observation(Nd4j.create(f, new long[]{genLength, FEATURES}, 'c'));
    }
}
