"""The wbemconform pytest plugin (registered through the ``pytest11`` entry point)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "requirement(id): the catalog requirement a conformance test checks")
