package dev.unmask.env;

import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Tasks;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every task draws the same instances for the same seed and split as it always has: committed
 * results, shipped models and their training runs name a task, a split and a seed, not the prompts.
 * The sha256 of the first {@value #N} instances of each split (key, prompt and answer, one line
 * each) at seed {@value #SEED}, recorded here; a change to any generator fails it, and a new task
 * adds its line.
 */
class TaskDatasetsPinnedTest {
    static final int N = 40;
    static final long SEED = 11;

    static final Map<String, String> PINNED = Map.ofEntries(
            Map.entry("arith", "870b56ce421e9bb43e0d92c4ab11f4feb86d9668e4a6928b8719112f1d0bb59c"),
            Map.entry("arith-chain", "90a9805a91c28ed4dcb436a158127a1cc9200029857bf3ec9e7b9d00d53bc1c7"),
            Map.entry("arith-running", "1696f2f786ccf5620b5fba2613840ec64888eb93f36443b802f06f55be9c0995"),
            Map.entry("ducci", "bc2d5d1952dadeb6744899216f5fdf7d7948acb80d2bceb06ddf67d3911e2063"),
            Map.entry("fib", "f8629f09c501abc1756ceb0ca0e145659416b5618bcc383a5304f5b55ac2243c"),
            Map.entry("gcd", "5e2bf93da2f3e59d2c74480cdd334cae4649ca34e55d3c97b03c44bfa8237cbd"),
            Map.entry("happy", "704300a903cf1f01a23e30fc9fbe525cf16254355e437e1b148fad54ab857aa6"),
            Map.entry("lag", "04d739dda1e9537029a89792069fbb6f40d493ee26a74ff4294fb196c2959df0"),
            Map.entry("lag48", "d3168b122f9f36fa14413c4ff1fdfbfdfc593dd1a9a9cd3ea89582535a19cac8"),
            Map.entry("lag5", "92e643958cbdab348a416370b5ee2f00e8c76c6ce97d5f65625da7b755cf0f2b"),
            Map.entry("lanes", "88b9085c9d24a73df9ae0523282590bcb50c08a89f772b03c046deb8c1fafd16"),
            Map.entry("lanes-columns", "003c1d46e152914d39768d04f5ce856b4328b0a0820a41fb20df2bed3205dd3d"),
            Map.entry("revadd", "9a6c297109988946c90555562edd42c910823b6dc003fec8a74af4b6edae4ae8"),
            Map.entry("sort", "8103aa7aea7abc73b673c80f040cf815bbff8f250d219e87eeef7230a792b789"),
            Map.entry("sudoku", "034d8e0c26d056f11f442daff2a4f40562c7c7a29a95c84ef854d5c08d7aeb43"));

    static String digest(String task) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (Split split : Split.values()) {
            for (Example e : Tasks.byName(task).dataset(split, SEED, N)) {
                md.update((split + "\t" + e.task() + "\t" + e.key() + "\t" + e.prompt() + "\t" + e.answer() + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void everyTaskDrawsThePinnedInstances() throws Exception {
        Map<String, String> got = new TreeMap<>();
        for (String name : Tasks.names()) got.put(name, digest(name));
        assertEquals(new TreeMap<>(PINNED), got);
    }
}
