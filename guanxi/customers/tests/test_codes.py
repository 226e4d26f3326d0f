from guanxi.customers.services.codes import codes_reserve


def test_codes_are_consecutive_per_workspace_and_prefix(workspace, other_workspace):
    assert codes_reserve(workspace=workspace, prefix="C") == ["C000001"]
    assert codes_reserve(workspace=workspace, prefix="C", count=3) == [
        "C000002",
        "C000003",
        "C000004",
    ]
    assert codes_reserve(workspace=workspace, prefix="A") == ["A000001"]
    assert codes_reserve(workspace=other_workspace, prefix="C") == ["C000001"]
