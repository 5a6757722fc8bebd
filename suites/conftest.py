"""The conformance suites need the wbemconform plugin: without it (``-p
no:wbemconform``, or wbemconform not installed as a pytest plugin) every test
here would error on a missing fixture and no results would be written, so a
previous run's files would still say what that run said. One line instead."""

import pytest


def pytest_configure(config):
    from wbemconform import plugin
    if not config.pluginmanager.is_registered(plugin):
        raise pytest.UsageError(
            "wbemconform: the conformance suites need the wbemconform pytest plugin, and this "
            "run has it disabled (-p no:wbemconform?): nothing is judged; run without it")
