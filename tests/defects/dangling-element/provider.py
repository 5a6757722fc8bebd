"""dangling-element: an association provider with a stale element cache."""

from wbemconform.mock import ConformsToProfileProvider


class StaleProcessAssociation(ConformsToProfileProvider):
    """The generic provider, plus one process that has exited (Handle 5120):
    the provider's process list was cached at start-up and never refreshed."""

    def __init__(self):
        super().__init__("ZooProcessAssociation")

    def elements(self, binding):
        live = list(super().elements(binding))
        if not live:
            return live
        exited = live[0].copy()
        exited.keybindings["Handle"] = "5120"  # no such Win32_Process any more
        return live + [exited]
