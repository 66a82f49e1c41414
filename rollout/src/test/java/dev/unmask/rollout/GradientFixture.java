package dev.unmask.rollout;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.*;

/**
 * A small trainer with random weights and the settings under test, for tests that set one policy
 * update against {@link ReferencePolicyGradients} ({@link ReducedRowsBitIdentityTest},
 * {@link EligibleRowsGradientsTest}). The weights are the trainer's own arrays, so moving them moves
 * its network; {@code wanted} is every parameter, the value head only under PPO.
 */
record GradientFixture(TrainConfig config, PolicyTrainer trainer, Map<String, INDArray> weights, List<String> wanted, int width) {
    static final List<String> FEATURES = List.of("confidence_logodds", "mask_bit", "masked_before", "buffer_step_fraction");

    /** A 48-token buffer, the whole of it or blocks of 16 as the window; weights drawn from {@code rng}. */
    static GradientFixture of(boolean wholeBuffer, String policyUpdate, Random rng, Object... settings) {
        int width = wholeBuffer ? 48 : 16;
        List<Object> all = new ArrayList<>(List.of("task", "sort", "features", FEATURES, "dModel", 16, "heads", 2, "ffDim", 32, "genLength", 48,
                "blockLength", width));
        all.addAll(Arrays.asList(settings));
        all.addAll(List.of("policyUpdate", policyUpdate));
        TrainConfig config = TrainConfigTest.with(all.toArray());
        PolicyTrainer trainer = new PolicyTrainer(config, new ChainDenoiser());
        Set<String> names = new FastPolicyGradients(trainer.net().config(), config).parameterNames();
        Map<String, INDArray> weights = new HashMap<>();
        for (String name : names) {
            INDArray w = trainer.net().graph().getVariable(name).getArr();
            for (long i = 0; i < w.length(); i++) w.putScalar(i, name.endsWith(".gain") ? 1 + 0.3 * rng.nextGaussian() : 0.4 * rng.nextGaussian());
            weights.put(name, w);
        }
        List<String> wanted = new ArrayList<>(names);
        if (!config.algorithm().equals("ppo")) wanted.removeIf(n -> n.startsWith("value_head"));
        return new GradientFixture(config, trainer, weights, wanted, width);
    }

    /** The update under test, as the trainer builds it for the fixture's config. */
    FastPolicyGradients update() {
        return new FastPolicyGradients(trainer.net().config(), config);
    }

    ReferencePolicyGradients reference() {
        return new ReferencePolicyGradients(trainer.net().config(), config);
    }
}
