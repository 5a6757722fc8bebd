"""wbemconform.interrupts: a requested interrupt is raised at a checkpoint or
inside an interruptible section, once pytest has it no more, and never in
another thread (the end-to-end cases are in test_exit_codes.py)."""

import threading

import pytest

from wbemconform import interrupts


@pytest.fixture(autouse=True)
def clean():
    interrupts.reset()
    yield
    interrupts.reset()


def test_nothing_requested_nothing_raised():
    interrupts.checkpoint()
    with interrupts.interruptible():
        pass
    assert not interrupts.pending()


def test_a_request_outside_a_section_waits_for_the_checkpoint():
    assert interrupts.request() is False  # the handler does not raise
    assert interrupts.pending()
    with pytest.raises(KeyboardInterrupt):
        interrupts.checkpoint()


def test_a_request_inside_an_interruptible_section_is_raised_at_once():
    with interrupts.interruptible():
        assert interrupts.request() is True
    with pytest.raises(KeyboardInterrupt):  # and entering a section is a checkpoint
        with interrupts.interruptible():
            pass


def test_a_second_request_is_raised_at_once_wherever_the_run_is():
    assert interrupts.request() is False
    assert interrupts.request() is True


def test_once_pytest_has_it_nothing_more_is_raised():
    interrupts.request()
    interrupts.acknowledge()
    assert not interrupts.pending()
    interrupts.checkpoint()  # teardown and the results files still run operations
    assert interrupts.request() is False


def test_other_threads_never_raise_it():
    interrupts.request()
    raised = []

    def worker():
        try:
            interrupts.checkpoint()
            with interrupts.interruptible():
                pass
        except KeyboardInterrupt:
            raised.append(True)
    t = threading.Thread(target=worker)
    t.start()
    t.join(10)
    assert raised == [] and interrupts.pending()
