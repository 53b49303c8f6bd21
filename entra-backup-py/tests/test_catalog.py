import pytest

import entra_backup as eb


def test_every_category_is_listed_in_restore_order() -> None:
    cats = eb.categories()
    names = [c["name"] for c in cats]
    assert len(names) == 48 and len(set(names)) == 48
    assert "users" in names and "conditionalAccessPolicies" in names
    orders = [c["order"] for c in cats]
    assert orders == sorted(orders)


def test_one_category() -> None:
    users = eb.category("users")
    assert users["path"] == "/users"
    assert users["delta"] is not None
    ca = eb.category("conditionalAccessPolicies")
    assert ca["path"] == "/identity/conditionalAccess/policies"


def test_permissions() -> None:
    assert eb.permissions(["users"]) == ["User.Read.All"]
    read = set(eb.permissions())
    restore = set(eb.permissions(restore=True))
    assert not any(p.endswith("ReadWrite.All") for p in read)
    assert "User.ReadWrite.All" in restore


@pytest.mark.parametrize("call", [lambda: eb.category("nope"), lambda: eb.permissions(["users", "nope"])])
def test_unknown_category_is_one_clear_error(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(eb.InvalidInputError, match="unknown category 'nope'") as e:
        call()
    assert isinstance(e.value, ValueError)
    assert e.value.kind == "invalid_input"
