"""The committed results replayed in PyTorch: the same prompts, the same decisions, the same numbers."""
from conftest import REPO
from unmask_torch import replay


def test_the_headlines_learned_rows_replay_identically_greedy_and_sampled(capsys):
    # 1000 test prompts each: accuracy, mean NFE and fallback steps as committed (91.5% at 1.379 NFE, 8 fallbacks; sampled 91.1%)
    assert replay.main([str(REPO / "results/headline-full-n1000"), "--rows", "learned"]) == 0
    out = capsys.readouterr().out
    assert out.count("| identical |") == 2 and "2 rows replayed: 2 identical" in out


def test_every_cell_of_the_ducci_front_decodes_its_kept_samples_identically(capsys):
    # the first episodes of every cell, token by token and step by step (the whole rows take minutes: see python/README.md)
    assert replay.main([str(REPO / "results/frontier/test-ducci-dllm-t7-front"), "--samples", "--rows", "learned,threshold,topk"]) == 0
    out = capsys.readouterr().out
    assert "14 rows replayed: 14 identical, 0 differ" in out


def test_a_row_that_differs_fails_the_replay(tmp_path, capsys):
    src = REPO / "results/headline-full-n1000"
    (tmp_path / "manifest.json").write_text((src / "manifest.json").read_text())
    lines = (src / "eval.csv").read_text().splitlines()
    header, row = lines[0], next(line for line in lines if line.startswith("sudoku,full,32,32,topk"))
    cols = row.split(",")
    cols[header.split(",").index("mean_nfe")] = "2.5000"
    (tmp_path / "eval.csv").write_text(header + "\n" + ",".join(cols) + "\n")
    assert replay.main([str(tmp_path), "--repo", str(REPO)]) == 1
    assert "DIFFERS" in capsys.readouterr().out


def test_a_folder_without_a_manifest_is_one_line_and_exit_2(tmp_path, capsys):
    assert replay.main([str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_a_corrupt_eval_csv_is_one_line_and_exit_2(tmp_path, capsys):
    src = REPO / "results/headline-full-n1000"
    (tmp_path / "manifest.json").write_text((src / "manifest.json").read_text())
    (tmp_path / "eval.csv").write_text("task,mode\nsudoku,full\n")
    assert replay.main([str(tmp_path), "--repo", str(REPO)]) == 2
    assert "no column" in capsys.readouterr().err
    lines = (src / "eval.csv").read_text().splitlines()
    (tmp_path / "eval.csv").write_text(lines[0] + "\n" + lines[1].replace(",1000,", ",NaNx,", 1) + "\n")
    assert replay.main([str(tmp_path), "--repo", str(REPO)]) == 2
    assert "line 2: not a number" in capsys.readouterr().err


def test_the_manifests_engine_picks_the_arithmetic_and_a_bad_thread_count_is_one_line(tmp_path, capsys):
    from unmask_torch.java_fast import FastEngineDllm
    model = REPO / "models/dllm-a"
    fast, how = replay.load_dllm(model, {"dllm_engine": "fast", "environment": {"OMP_NUM_THREADS": "1"}})
    assert isinstance(fast, FastEngineDllm) and "operation for operation" in how
    plain, _ = replay.load_dllm(model, {"dllm_engine": "onnxruntime"})
    assert type(plain) is replay.BuiltinDllm
    src = REPO / "results/frontier/test-ducci-dllm-t7-front"
    manifest = (src / "manifest.json").read_text().replace('"OMP_NUM_THREADS" : "1"', '"OMP_NUM_THREADS" : "two"')
    assert '"two"' in manifest
    (tmp_path / "manifest.json").write_text(manifest)
    (tmp_path / "eval.csv").write_text((src / "eval.csv").read_text())
    assert replay.main([str(tmp_path), "--repo", str(REPO)]) == 2
    assert "OMP_NUM_THREADS is 'two'" in capsys.readouterr().err
