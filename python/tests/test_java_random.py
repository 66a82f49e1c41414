from unmask_torch.java_random import SplittableRandom, episode_seed


def test_the_streams_are_javas_bit_for_bit():
    # printed by Java 17: new SplittableRandom(7): nextInt(), nextLong(), nextInt(10), nextInt(12)
    r = SplittableRandom(7)
    assert r.next_int() == -1629577904
    assert r.next_long() == 309689372594955804
    assert r.next_int(10) == 3
    assert r.next_int(12) == 9


def test_an_episodes_stream_follows_the_environments_seeding():
    # Java: new SplittableRandom(42 * 0x9E3779B97F4A7C15L + 3): nextInt(10), nextInt(100_000_000), nextInt(16), nextDouble(), nextInt()
    r = SplittableRandom(episode_seed(42, 3))
    assert [r.next_int(10), r.next_int(100_000_000), r.next_int(16), r.next_double(), r.next_int()] == \
        [1, 23107639, 4, 0.57306312543548, 897139863]
    assert [r.next_int(10), r.next_int(100_000_000), r.next_int(16), r.next_double(), r.next_int()] == \
        [2, 3116078, 1, 0.6843131906379765, 1242027901]
