from unmask_torch.tasks import DucciTask, SudokuTask, split_of, task_by_name
import pytest


def test_the_test_prompts_are_the_ones_java_draws():
    # Task.dataset(Split.TEST, 2, 5) in Java
    sudoku = task_by_name("sudoku").dataset("test", 2, 5)
    assert [e.key for e in sudoku] == ["4.3.|.3..|.1.3|.4.2", ".231|.124|134.|...3", ".123|2.4.|3.1.|1.34",
                                       "13..|4.31|3.4.|..1.", "4..3|23..|..41|143."]
    assert sudoku[0].prompt == "<sudoku>4.3.|.3..|.1.3|.4.2=" and sudoku[0].answer == "4231|1324|2143|3412"
    ducci = task_by_name("ducci").dataset("test", 2, 5)
    assert [e.key for e in ducci] == ["78149307", "30999436", "67216549", "73166577", "82776709"]
    assert ducci[1].answer == "39005133,69054200,39512206,64410263,20312433,23212101,11111111,00000000"


def test_splits_are_disjoint_by_key():
    for e in task_by_name("ducci").dataset("validation", 1, 50):
        assert split_of(e.key) == "validation"
    assert split_of("78149307") == "test"


def test_the_verifiers_check_the_rules_not_the_reference():
    t = SudokuTask()
    e = t.dataset("test", 2, 1)[0]
    assert t.is_correct(e, e.answer)
    assert not t.is_correct(e, e.answer[:-1] + ("1" if e.answer[-1] != "1" else "2"))
    assert not t.is_correct(e, e.answer + "1")
    d = DucciTask()
    assert DucciTask.trace("00000001") .endswith("00000000")
    ex = d.dataset("test", 2, 1)[0]
    assert d.is_correct(ex, ex.answer) and not d.is_correct(ex, ex.answer[:-9])


def test_a_task_not_ported_is_named():
    with pytest.raises(ValueError, match="not ported"):
        task_by_name("arith")
