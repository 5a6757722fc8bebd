"""execquery-wrong-rows: an association provider whose ExecQuery drops a row."""

from wbemconform.mock import ConformsToProfileProvider


class LossyQueryAssociation(ConformsToProfileProvider):
    """ExecQueryAsync implemented by hand, with an off-by-one: the last row
    of the enumeration never comes back."""

    def __init__(self):
        super().__init__("ZooProcessAssociation")

    def exec_query(self, namespace, query):
        rows = [inst for inst in self.enumerate_instances(namespace, query.classname)
                if query.matches(inst)]
        return rows[:-1]
