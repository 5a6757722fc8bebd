"""The embedded mock's MOF: its schema subset (schema/) and the example
profiles (examples/). Installed as ``wbemconform.profiles`` (data only)."""
