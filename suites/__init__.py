"""The conformance suites: one thin test per requirement (see wbemconform.plugin).

Installed as ``wbemconform.suites``: ``wbemconform check`` runs them, and so does
``pytest --pyargs wbemconform.suites``.
"""
